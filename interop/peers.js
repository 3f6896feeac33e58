'use strict';
// Interop tests: stp's HTTP/1.1 example server and client against Sentry's
// Go and Ruby SDKs (Debian's sentry-go 0.11 and sentry-ruby 5.3, which
// propagate `sentry-trace` only), in both directions, and the header forms
// each of them and stp accept.
//
//   node peers.js BIN_DIR GO_DRIVER RUBY_DRIVER [NAME_FILTER]
//
// BIN_DIR holds http1/http1_server and http1/http1_client; GO_DRIVER is
// the built interop/go/driver.go, RUBY_DRIVER interop/ruby/driver.rb. No
// npm package is needed. Prints one `[SDK VERSION] NAME: ok|FAILED: why`
// line per test, then `N passed, N failed`; exits 1 when a test failed.

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const {
  check, checkEqual, parseBaggage, parseSentryTrace, run, expectRun,
  startServer, stopServers, runTests,
} = require('./lib');
const forms = require('./forms');

const [binDir, goDriver, rubyDriver] = process.argv.slice(2, 5);
const filter = process.argv[5] || '';
if (!rubyDriver) {
  console.error('usage: node peers.js BIN_DIR GO_DRIVER RUBY_DRIVER [NAME_FILTER]');
  process.exit(2);
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stp-peers-'));
const C_SERVER = path.join(binDir, 'http1/http1_server');
const C_CLIENT = path.join(binDir, 'http1/http1_client');
const DSN = 'https://c0ffee00c0ffee00c0ffee00c0ffee00@o77.ingest.sentry.io/4242';

// One GET; resolves to the parsed JSON answer.
function getJson(port, reqPath, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: reqPath, headers, timeout: 10000 },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          try {
            resolve(JSON.parse(body));
          } catch (e) {
            reject(new Error(`status ${res.statusCode}, not JSON: ${body.slice(0, 200)}`));
          }
        });
      });
    req.on('timeout', () => req.destroy(new Error('GET timed out')));
    req.on('error', reject);
  });
}

// ---- a peer's head continued by stp ----------------------------------------

// The SDK starts a trace and calls the C server; what the SDK sent, what
// C made of it, and the transaction the SDK reported.
async function peerHead(peer, env, rate) {
  const r = expectRun(await run(peer.cmd[0], [...peer.cmd.slice(1), 'client',
    `http://127.0.0.1:${env.cServer.port}/from-${peer.id}`, rate]), `${peer.id} driver`);
  const out = JSON.parse(r.stdout);
  checkEqual(out.status, 200, 'C server status');
  return out;
}

function checkCContinuedPeer(out, what) {
  const sent = parseSentryTrace(out.head.sent);
  const c = out.answer;
  checkEqual(sent.traceId, out.head.trace_id, `${what}: the trace id the SDK sent is its head's`);
  checkEqual(c.continued, true, `${what}: C continued the trace`);
  checkEqual(c.trace_id, out.head.trace_id, `${what}: C trace id`);
  checkEqual(c.parent_span_id, sent.spanId, `${what}: C parent (the span the SDK announced)`);
  checkEqual(c.sampled, sent.sampled, `${what}: C decision (the SDK's flag)`);
  // SPEC section 5: sentry-trace and no baggage (an old SDK) freezes an
  // empty DSC, apart from a sample_rand filled in.
  checkEqual(Object.keys(c.dsc), ['sample_rand'], `${what}: C's frozen DSC holds sample_rand alone`);
  const onward = parseSentryTrace(c.outgoing['sentry-trace']);
  checkEqual([onward.traceId, onward.sampled], [out.head.trace_id, sent.sampled],
    `${what}: the trace and flag C sends on`);
  checkEqual(parseBaggage(c.outgoing.baggage).dsc, c.dsc, `${what}: the DSC C sends on`);
}

// ---- stp's head continued by a peer ----------------------------------------

// The C client calls the peer's server; its span record says what it sent.
async function cHead(peer, env, args, name) {
  const log = path.join(work, `${peer.id}.${name}.jsonl`);
  const r = expectRun(await run(C_CLIENT, [...args, '--spans', log,
    `http://127.0.0.1:${env[peer.id].port}/${name}`]), 'http1_client');
  const record = JSON.parse(fs.readFileSync(log, 'utf8').trim().split('\n').pop());
  const headers = Object.fromEntries(record.headers);
  const answer = JSON.parse(r.stdout.split('\n\n').slice(1).join('\n\n'));
  return { record, sent: headers['sentry-trace'], baggage: headers.baggage, answer };
}

function checkPeerContinued(h, sampled, what) {
  const sent = parseSentryTrace(h.sent);
  checkEqual(sent.spanId, h.record.span_id, `${what}: C announced its own span`);
  checkEqual(h.answer.incoming['sentry-trace'], h.sent, `${what}: the sentry-trace the SDK received`);
  checkEqual(h.answer.trace_id, sent.traceId, `${what}: SDK trace id`);
  checkEqual(h.answer.parent_span_id, sent.spanId, `${what}: SDK parent (the C span)`);
  checkEqual(h.answer.sampled, sampled, `${what}: SDK decision`);
  const onward = parseSentryTrace(h.answer.outgoing['sentry-trace']);
  checkEqual([onward.traceId, onward.sampled], [sent.traceId, sampled],
    `${what}: the trace and flag the SDK sends on`);
  check(onward.spanId !== sent.spanId, `${what}: the SDK sends on a span of its own`);
}

async function transactionsOf(port, traceId) {
  const all = await getJson(port, '/_transactions', {});
  return all.filter((t) => t.trace_id === traceId);
}

// ---- the tests ----------------------------------------------------------------

function peerTests(peer, env) {
  const t = (name, fn) => ({ label: peer.sdk, name, fn });
  return [
    t('head (sample rate 1) -> C HTTP/1.1 server', async () => {
      const out = await peerHead(peer, env, '1');
      checkCContinuedPeer(out, 'sampled head');
      checkEqual(out.transactions.map((x) => [x.trace_id, x.span_id, x.parent_span_id || null]),
        [[out.head.trace_id, out.head.span_id, null]], 'the transaction the SDK sent');
    }),
    t('head (sample rate 0) -> C HTTP/1.1 server', async () => {
      const out = await peerHead(peer, env, '0');
      checkEqual(out.transactions, [], 'no transaction for an unsampled head');
      if (peer.sendsUnsampled) {
        checkCContinuedPeer(out, 'unsampled head');
        checkEqual(out.answer.sampled, false, 'C decision');
      } else {
        // sentry-ruby's Net::HTTP patch starts no span, and so sends no
        // sentry-trace, under an unsampled transaction: C starts a trace.
        checkEqual(out.head.sent, null, 'the SDK sent no sentry-trace');
        checkEqual([out.answer.continued, out.answer.status], [false, 'absent'],
          'C started a new trace');
      }
    }),
    t('C head (sample rate 1) -> server, transaction parent = C span', async () => {
      const h = await cHead(peer, env, ['--dsn', DSN, '--release', 'shop@2.0.0',
        '--sample-rate', '1'], 'sampled');
      checkPeerContinued(h, true, 'C head');
      const txs = await transactionsOf(env[peer.id].port, h.answer.trace_id);
      checkEqual(txs.map((x) => [x.span_id, x.parent_span_id]),
        [[h.answer.span_id, h.record.span_id]], 'the SDK\'s transaction and its parent');
    }),
    t('C head (sample rate 0) -> server', async () => {
      const h = await cHead(peer, env, ['--dsn', DSN, '--sample-rate', '0'], 'unsampled');
      checkPeerContinued(h, false, 'C head');
      checkEqual(await transactionsOf(env[peer.id].port, h.answer.trace_id), [],
        'no transaction for a trace C decided not to sample');
    }),
    // stp sends a deferred trace on without a flag (SPEC section 6); the
    // SDK decides it with its own rate (1).
    t('C continuing a deferred trace -> server decides', async () => {
      const h = await cHead(peer, env, ['-H', `sentry-trace: ${forms.T}-${forms.S}`],
        'deferred');
      checkEqual(parseSentryTrace(h.sent).sampled, null, 'C sent no flag');
      checkEqual(parseSentryTrace(h.sent).traceId, forms.T, 'C kept the incoming trace');
      checkPeerContinued(h, true, 'deferred trace');
    }),
  ];
}

// The header forms, sent as they are to a server that answers its view.
function formTests(label, key, port) {
  const expected = forms.EXPECTED[key];
  return forms.FORMS.map((f, i) => ({
    label,
    name: `sentry-trace form ${f.name}: ${expected[i]}`,
    fn: async () => {
      const view = await getJson(port, '/forms', { 'sentry-trace': f.value });
      checkEqual(forms.outcome(view), expected[i], `${label} given ${JSON.stringify(f.value)}`);
    },
  }));
}

async function main() {
  const peers = [
    { id: 'go', cmd: [goDriver], sendsUnsampled: true },
    { id: 'ruby', cmd: ['ruby', rubyDriver], sendsUnsampled: false },
  ];
  const tests = [];
  let setupFailed = 0;
  try {
    const env = {
      cServer: await startServer(work, C_SERVER, (pf) => ['--port', '0', '--port-file', pf]),
    };
    for (const peer of peers) {
      env[peer.id] = await startServer(work, peer.cmd[0], (pf) => [...peer.cmd.slice(1), 'server', pf]);
      peer.sdk = (await getJson(env[peer.id].port, '/hello', {})).sdk;
    }
    tests.push(...formTests('stp http1_server', 'stp', env.cServer.port));
    for (const peer of peers) {
      tests.push(...peerTests(peer, env));
      check(forms.EXPECTED[peer.sdk], `docs/interop.md has no header-form table for ${peer.sdk}`);
      tests.push(...formTests(peer.sdk, peer.sdk, env[peer.id].port));
    }
  } catch (e) {
    console.log(`[go, ruby] setup: FAILED: ${e.message}`);
    setupFailed = 1;
  }
  const { passed, failed } = await runTests(tests, filter);
  await stopServers();
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed + setupFailed} failed`);
  process.exit(failed + setupFailed === 0 ? 0 : 1);
}

main();
