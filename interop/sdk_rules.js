'use strict';
// The propagation rules where @sentry/node versions differ from each other
// and from stp, recorded per version: each test asserts what the version
// under test does, as docs/interop.md ("Per SDK and version") says it does,
// and, where stp has a rule of its own, what the C server does with the
// same headers, as docs/SPEC.md says. A version not listed here fails its
// lines until the docs say what it does.

const forms = require('./forms');

const T = forms.T;
const S = forms.S;
const KEY = '0123456789abcdef0123456789abcdef';

// What each version does, by the case's name.
const OBSERVED = {
  '@sentry/node 10.78.0': {
    // No flag: the DSC's sentry-sampled decides.
    noFlag: { sampled: false, flag: false, dscSampled: 'false', dscSampleRate: '0.5' },
    // sentry-trace and no baggage: a DSC of its own options, no sample_rand.
    noBaggage: ['environment', 'org_id', 'public_key', 'release', 'sampled', 'trace_id'],
    // A deferred DSC continued and decided here: its rate is written in.
    deferredAdds: { sample_rate: '1' },
    forms: ['T/S/1', 'T/S/0', 'T/S/1', 'T/S/1', 'new/-/1', 'new/-/1', 'new/-/1',
      'new/-/1', 'new/-/1'],
  },
  '@sentry/node 11.12.0': {
    // No flag: the local rate decides (1), the forwarded DSC still says
    // false, and its sample_rate is rewritten to the local rate.
    noFlag: { sampled: true, flag: true, dscSampled: 'false', dscSampleRate: '1' },
    noBaggage: ['sample_rand'],
    deferredAdds: { sample_rate: '1' },
    forms: ['T/S/1', 'T/S/0', 'T/S/1', 'T/S/1', 'new/-/1', 'T/-/1', 'new/-/1',
      'new/-/1', 'new/-/1'],
  },
};
forms.EXPECTED['@sentry/node 10.78.0'] = OBSERVED['@sentry/node 10.78.0'].forms;
forms.EXPECTED['@sentry/node 11.12.0'] = OBSERVED['@sentry/node 11.12.0'].forms;

// Adds the tests to `test` (name, fn). h is what test.js shares: the SDK
// label, continueWithSdk, the C HTTP/2 server's view, and the checks.
module.exports = function sdkRules(h) {
  const { test, SDK, continueWithSdk, checkEqual, check, parseBaggage, parseSentryTrace } = h;
  const observed = () => {
    check(OBSERVED[SDK], `docs/interop.md does not say what ${SDK} does`);
    return OBSERVED[SDK];
  };
  const dscOf = (rec) => parseBaggage(rec.outgoing.baggage).dsc;

  test('rule: no flag, sentry-sampled=false in the DSC', async () => {
    const want = observed().noFlag;
    const baggage = `sentry-trace_id=${T},sentry-public_key=${KEY},sentry-org_id=77,` +
      'sentry-sample_rate=0.5,sentry-sample_rand=0.75,sentry-sampled=false';
    const rec = continueWithSdk('http.server', 'no flag', `${T}-${S}`, baggage);
    checkEqual(rec.traceId, T, 'the SDK continued the trace');
    checkEqual(rec.sampled, want.sampled, 'the SDK\'s decision');
    checkEqual(parseSentryTrace(rec.outgoing['sentry-trace']).sampled, want.flag,
      'the flag the SDK sends on');
    checkEqual([dscOf(rec).sampled, dscOf(rec).sample_rate], [want.dscSampled, want.dscSampleRate],
      'sentry-sampled and sentry-sample_rate the SDK sends on');
    // stp: the DSC's decision, and the DSC as received (SPEC section 5).
    const c = await h.cView({ 'sentry-trace': `${T}-${S}`, baggage });
    checkEqual([c.sampled, c.dsc.sampled, c.dsc.sample_rate], [false, 'false', '0.5'],
      'stp: the DSC decides, and goes on unchanged');
    checkEqual(parseSentryTrace(c.outgoing.sentryTrace).sampled, false, 'stp\'s flag sent on');
  });

  test('rule: sentry-trace with no baggage (an old SDK upstream)', async () => {
    const rec = continueWithSdk('http.server', 'no baggage', `${T}-${S}-1`, undefined);
    checkEqual(rec.traceId, T, 'the SDK continued the trace');
    checkEqual(Object.keys(dscOf(rec)).sort(), observed().noBaggage,
      'the DSC members the SDK sends on');
    const c = await h.cView({ 'sentry-trace': `${T}-${S}-1` });
    checkEqual(Object.keys(c.dsc), ['sample_rand'], 'stp: a DSC of sentry-sample_rand alone');
  });

  test('rule: a deferred trace (no flag, no sentry-sampled) decided here', async () => {
    const baggage = `sentry-trace_id=${T},sentry-public_key=${KEY},sentry-org_id=77,` +
      'sentry-sample_rand=0.25,sentry-release=shop%402.0';
    const rec = continueWithSdk('http.server', 'deferred', `${T}-${S}`, baggage);
    const sent = parseBaggage(baggage).dsc;
    checkEqual(rec.sampled, true, 'the SDK decided with its own rate (1)');
    checkEqual(h.numeric(dscOf(rec)), h.numeric({ ...sent, ...observed().deferredAdds }),
      'the DSC the SDK sends on');
    const c = await h.cView({ 'sentry-trace': `${T}-${S}`, baggage });
    checkEqual(h.numeric(c.dsc), h.numeric(sent), 'stp: the DSC goes on as received');
  });

  forms.FORMS.forEach((f, i) => {
    const said = OBSERVED[SDK] ? OBSERVED[SDK].forms[i] : 'not in the docs';
    test(`sentry-trace form ${f.name}: ${said}`, () => {
      const want = observed().forms[i];
      const rec = continueWithSdk('http.server', 'form', f.value, undefined);
      const got = forms.outcome({ trace_id: rec.traceId, parent_span_id: rec.parentSpanId,
        sampled: rec.sampled });
      checkEqual(got, want, `${SDK} given ${JSON.stringify(f.value)}`);
    });
  });
};
