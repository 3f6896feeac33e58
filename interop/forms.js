'use strict';
// The forms a `sentry-trace` header arrives in, and what each peer makes of
// them. Each outcome reads TRACE/PARENT/DECISION:
//   TRACE    T (the header's trace id kept), T2 (the second element's), or
//            new (a new trace);
//   PARENT   S (the header's span id is the parent), - (no parent);
//   DECISION 1, 0, or deferred (no decision yet: stp without a sample rate).
// Every peer here runs with a sample rate of 1 (stp with none), so a trace
// the peer decides itself reads 1 for the SDKs and deferred for stp.
//
// The expectations are what docs/interop.md's "header forms" table and
// docs/SPEC.md section 2 say; the tests check each peer against them, so a
// change of an SDK's behaviour fails its line until the docs say it.

const T = '771a43a4192642f0b136d5159a501700';
const S = 'b1c2d3e4f5a6b7c8';
const T2 = '4bf92f3577b34da6a3ce929d0e0e4736';
const S2 = '00f067aa0ba902b7';

const FORMS = [
  { name: 'T-S-1', value: `${T}-${S}-1` },
  { name: 'T-S-0', value: `${T}-${S}-0` },
  { name: 'T-S (deferred)', value: `${T}-${S}` },
  { name: 'T-S- (empty flag)', value: `${T}-${S}-` },
  { name: 'uppercase hex', value: `${T.toUpperCase()}-${S.toUpperCase()}-1` },
  { name: 'T alone', value: T },
  { name: '-S', value: `-${S}` },
  { name: '00-T-S-01 (a traceparent)', value: `00-${T}-${S}-01` },
  { name: 'T-S-1,T2-S2-1 (folded)', value: `${T}-${S}-1,${T2}-${S2}-1` },
];

// Outcome per form, in FORMS order, per peer (the SDK name without its
// version: an SDK whose behaviour changes gets an entry per version).
const EXPECTED = {
  stp: ['T/S/1', 'T/S/0', 'T/S/deferred', 'T/S/deferred', 'T/S/1',
    'new/-/deferred', 'new/-/deferred', 'new/-/deferred', 'T/S/1'],
  'sentry.go 0.11.0': ['T/S/1', 'T/S/0', 'T/S/1', 'new/-/1', 'T/S/1',
    'new/-/1', 'new/-/1', 'new/-/1', 'new/-/1'],
  'sentry.ruby 5.3.0': ['T/S/1', 'T/S/0', 'T/S/1', 'T/S/1', 'new/-/1',
    'T/-/1', 'new/S/1', 'new/-/1', 'new/-/1'],
};

// The outcome of a peer's view {trace_id, parent_span_id, sampled}.
function outcome(view) {
  const trace = view.trace_id === T ? 'T' : view.trace_id === T2 ? 'T2' : 'new';
  const parent = view.parent_span_id === S ? 'S'
    : view.parent_span_id === S2 ? 'S2'
      : view.parent_span_id ? 'other' : '-';
  const decision = view.sampled === true ? '1' : view.sampled === false ? '0' : 'deferred';
  return `${trace}/${parent}/${decision}`;
}

module.exports = { FORMS, EXPECTED, outcome, T, S };
