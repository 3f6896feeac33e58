'use strict';
// Interop tests: stp's C and C++ examples against Sentry's own JavaScript
// SDK (@sentry/node) over gRPC (@grpc/grpc-js) and raw HTTP/2
// (node:http2).
//
//   node test.js BIN_DIR [NAME_FILTER]
//   STP_SDK_DIR=node11 node test.js BIN_DIR [NAME_FILTER]
//
// The SDK under test is the @sentry/node (and its @sentry/core) installed
// in STP_SDK_DIR (default: this directory, 10.78; node11/ holds 11.x);
// every line names it.
//
// BIN_DIR holds the built examples: grpc/grpc_client, grpc/grpc_server,
// grpcpp/grpcpp_server, h2/h2_client, h2/h2_server. Everything listens on
// 127.0.0.1 and nothing is sent anywhere: the SDK's transport only records
// the envelopes it would send, so that the tests can read the transactions
// the SDK made. Prints one `NAME: ok` or `NAME: FAILED: why` line per
// test, then `N passed, N failed`; exits 1 when a test failed. Every test,
// and every process it starts, has a time limit.

const { createRequire } = require('node:module');
const path = require('node:path');

const sdkDir = path.resolve(__dirname, process.env.STP_SDK_DIR || '.');
const sdkRequire = createRequire(path.join(sdkDir, 'package.json'));
const Sentry = sdkRequire('@sentry/node');
const SentryCore = sdkRequire('@sentry/core');
const SDK = `@sentry/node ${sdkRequire('@sentry/node/package.json').version}`;
const SDK_MAJOR = Number(SDK.split(' ')[1].split('.')[0]);
const grpc = require('@grpc/grpc-js');
const http2 = require('node:http2');
const fs = require('node:fs');
const os = require('node:os');
const lib = require('./lib');
const {
  check, checkEqual, withTimeout, parseBaggage, parseSentryTrace, sorted, numeric, run,
  expectRun, stopServers, runTests,
} = lib;

// The SDK's side of every trace: one organisation (77) on both sides, as
// in a real deployment. The SDK starts a new trace when the incoming
// org_id differs from its own.
const JS_PUBLIC_KEY = '0123456789abcdef0123456789abcdef';
const ORG_ID = '77';
const envelopes = []; // every envelope the SDK would have sent
Sentry.init({
  dsn: `http://${JS_PUBLIC_KEY}@127.0.0.1:9/42`,
  orgId: Number(ORG_ID),
  release: 'web@3.1.0',
  environment: 'interop',
  tracesSampleRate: 1,
  transport: (options) =>
    Sentry.createTransport(options, (request) => {
      envelopes.push(String(request.body));
      return Promise.resolve({ statusCode: 200 });
    }),
});

const binDir = process.argv[2];
const filter = process.argv[3] || '';
if (!binDir) {
  console.error('usage: node test.js BIN_DIR [NAME_FILTER]');
  process.exit(2);
}
const bin = (name) => path.join(binDir, name);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stp-interop-'));

// ---- small helpers ---------------------------------------------------------

// `key=value` lines (the C gRPC server's answer) into an object; the first
// occurrence of a key wins.
function parseLines(text) {
  const out = {};
  for (const line of String(text).split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !(line.slice(0, eq) in out)) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function dscFromLines(fields) {
  const dsc = {};
  for (const [k, v] of Object.entries(fields)) if (k.startsWith('dsc.')) dsc[k.slice(4)] = v;
  return dsc;
}

// Starts one of the C servers on a free port; resolves to {port, stop()}.
const startServer = (file, args) =>
  lib.startServer(work, file, (portFile) => ['--port', '0', '--port-file', portFile, ...args]);

// ---- JavaScript peers --------------------------------------------------------

const identity = (b) => b;

function grpcUnary(port, method, metadata, body) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(method, identity, identity, Buffer.from(body), md,
      { deadline: Date.now() + 10000 },
      (err, reply) => {
        client.close();
        if (err) reject(err);
        else resolve(reply.toString('utf8'));
      });
  });
}

function http2Get(port, reqPath, headers) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':path': reqPath, ...headers });
    req.setTimeout(10000, () => { req.close(); reject(new Error('HTTP/2 request timed out')); });
    let status = 0;
    const chunks = [];
    req.on('response', (h) => { status = h[':status']; });
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      session.close();
      resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
    });
    req.on('error', reject);
    req.end();
  });
}

// What a JavaScript server sees and does for one incoming call: it
// continues the trace with the SDK, in a server span, and records what the
// SDK made of it.
const received = [];
function continueWithSdk(op, name, sentryTrace, baggage) {
  return Sentry.continueTrace({ sentryTrace, baggage }, () =>
    Sentry.startSpan({ name, op, forceTransaction: true }, (span) => {
      const ctx = span.spanContext();
      const record = {
        op,
        name,
        incoming: { sentryTrace, baggage },
        traceId: ctx.traceId,
        spanId: ctx.spanId,
        parentSpanId: Sentry.spanToJSON(span).parent_span_id,
        sampled: SentryCore.spanIsSampled(span),
        dsc: { ...SentryCore.getDynamicSamplingContextFromSpan(span) },
        outgoing: Sentry.getTraceData(),
      };
      received.push(record);
      return record;
    })
  );
}

function first(value) {
  return Array.isArray(value) ? value[0] : value;
}

function startJsGrpcServer() {
  const server = new grpc.Server();
  const call = {
    path: '/interop.Checkout/Pay',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  };
  server.addService({ Pay: call }, {
    Pay(c, callback) {
      const record = continueWithSdk('grpc.server', call.path,
        first(c.metadata.get('sentry-trace')), c.metadata.get('baggage').join(','));
      callback(null, Buffer.from(JSON.stringify(record)));
    },
  });
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err) reject(err);
      else resolve({ port, stop: () => new Promise((r) => server.tryShutdown(() => r())) });
    });
  });
}

function startJsHttp2Server() {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const record = continueWithSdk('http.server', `GET ${headers[':path']}`,
      headers['sentry-trace'], headers.baggage);
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify(record));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({
      port: server.address().port,
      stop: () => new Promise((r) => server.close(() => r())),
    }));
  });
}

// The SDK's head of a trace: a span of its own, and the headers it would
// put on an outgoing call from within it.
function sdkHead(name, op, fn) {
  return Sentry.startSpan({ name, op }, async (span) => {
    const data = Sentry.getTraceData();
    const head = {
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      dsc: { ...SentryCore.getDynamicSamplingContextFromSpan(span) },
      headers: { 'sentry-trace': data['sentry-trace'], baggage: data.baggage },
    };
    return fn(head);
  });
}

// The transaction the SDK produced for a span id, after a flush: a
// `transaction` event (10.x), or the segment of a `span` item of Span v2
// spans (11.x). Its envelope header's DSC comes with it.
async function transactionFor(spanId) {
  await Sentry.flush(5000);
  for (const envelope of envelopes) {
    const lines = envelope.split('\n');
    const header = JSON.parse(lines[0]);
    for (let i = 1; i + 1 < lines.length; i += 2) {
      const itemHeader = JSON.parse(lines[i]);
      const body = JSON.parse(lines[i + 1]);
      const trace = itemHeader.type === 'transaction' ? body.contexts && body.contexts.trace
        : itemHeader.type === 'span' ? body.items.find((s) => s.is_segment && s.span_id === spanId)
          : null;
      if (trace && trace.span_id === spanId) return { envelopeTrace: header.trace, trace };
    }
  }
  return null;
}

// The headers the C and C++ clients sent, read from their span records
// (--spans): the first record of `op`, or the first that `pick` accepts.
function sentHeaders(spanLog, op, pick = () => true) {
  const lines = fs.readFileSync(spanLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const record = lines.find((r) => r.op === op && pick(r));
  check(record, `a ${op} span record in ${spanLog}`);
  const headers = Object.fromEntries(record.headers);
  return { record, sentryTrace: headers['sentry-trace'], baggage: headers.baggage };
}

// Checks that the SDK continued exactly what a C hop sent.
function checkSdkContinued(rec, sent, what) {
  const st = parseSentryTrace(sent.sentryTrace);
  checkEqual(rec.incoming.sentryTrace, sent.sentryTrace, `${what}: sentry-trace the SDK received`);
  checkEqual(rec.traceId, st.traceId, `${what}: SDK trace id`);
  checkEqual(rec.parentSpanId, st.spanId, `${what}: SDK span's parent (the C span)`);
  checkEqual(rec.sampled, st.sampled, `${what}: SDK sampling decision`);
  const sentDsc = parseBaggage(sent.baggage).dsc;
  checkEqual(numeric(rec.dsc), numeric(sentDsc), `${what}: SDK DSC versus the baggage C sent`);
  // The SDK's own outgoing headers carry the same trace on.
  const out = parseSentryTrace(rec.outgoing['sentry-trace']);
  checkEqual(out.traceId, st.traceId, `${what}: trace id of the SDK's outgoing sentry-trace`);
  checkEqual(out.spanId, rec.spanId, `${what}: span id of the SDK's outgoing sentry-trace`);
  checkEqual(out.sampled, st.sampled, `${what}: flag of the SDK's outgoing sentry-trace`);
  checkEqual(numeric(parseBaggage(rec.outgoing.baggage).dsc), numeric(sentDsc),
    `${what}: DSC of the SDK's outgoing baggage`);
}

// What a C server reports of the trace it continued, whichever way it
// answers: the gRPC server's `key=value` lines or the HTTP/2 server's JSON.
function cViewFromLines(fields) {
  return {
    continued: fields.continued === 'yes',
    traceId: fields.trace_id,
    spanId: fields.span_id,
    parentSpanId: fields.parent_span_id,
    sampled: fields.sampled === 'true' ? true : fields.sampled === 'false' ? false : null,
    sampleRand: Number(fields.sample_rand),
    dsc: dscFromLines(fields),
    outgoing: { sentryTrace: fields['sentry-trace'], baggage: fields.baggage },
  };
}

function cViewFromJson(a) {
  return {
    continued: a.continued === true,
    traceId: a.trace_id,
    spanId: a.span_id,
    parentSpanId: a.parent_span_id,
    sampled: a.sampled,
    sampleRand: a.sample_rand,
    dsc: a.dsc,
    outgoing: { sentryTrace: a.outgoing['sentry-trace'], baggage: a.outgoing.baggage },
  };
}

// Checks that a C server continued the SDK head's trace exactly.
function checkCContinued(c, head, what) {
  checkEqual(c.continued, true, `${what}: C continued the trace`);
  checkEqual(c.traceId, head.traceId, `${what}: C trace id`);
  checkEqual(c.parentSpanId, head.spanId, `${what}: C parent span id (the SDK span)`);
  checkEqual(c.sampled, true, `${what}: C sampling decision`);
  check(Math.abs(c.sampleRand - Number(head.dsc.sample_rand)) < 1e-6,
    `${what}: C sample_rand ${c.sampleRand} versus the SDK's ${head.dsc.sample_rand}`);
  checkEqual(sorted(c.dsc), sorted(head.dsc), `${what}: C DSC versus the SDK's`);
  // What C would send on: the same trace, a span of its own, the frozen DSC.
  const out = parseSentryTrace(c.outgoing.sentryTrace);
  checkEqual(out.traceId, head.traceId, `${what}: trace id C sends on`);
  check(out.spanId !== head.spanId, `${what}: C sends on a span id of its own`);
  checkEqual(out.sampled, true, `${what}: flag C sends on`);
  checkEqual(sorted(parseBaggage(c.outgoing.baggage).dsc), sorted(head.dsc),
    `${what}: DSC C sends on`);
}

// Checks what a C client sent after continuing `incoming` and `baggage`:
// the same trace, a span of its own announced, the DSC passed on unchanged.
function checkCForwarded(sent, incoming, baggage, what) {
  const st = parseSentryTrace(sent.sentryTrace);
  checkEqual(st.traceId, parseSentryTrace(incoming).traceId, `${what} kept the incoming trace`);
  checkEqual(st.spanId, sent.record.span_id, `${what} announced its own span`);
  checkEqual(sorted(parseBaggage(sent.baggage).dsc), sorted(parseBaggage(baggage).dsc),
    `${what} passed the incoming DSC on unchanged`);
}

// ---- the tests ---------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({ name, fn });
let env; // the servers, started once

test('grpc: JS client (SDK) -> C server', async () => {
  await sdkHead('checkout', 'task', async (head) => {
    const answer = await grpcUnary(env.cGrpc.port, '/interop.Checkout/Pay', head.headers, 'pay');
    checkCContinued(cViewFromLines(parseLines(answer)), head, 'C gRPC server');
  });
});

test('grpc: C client -> JS server (SDK)', async () => {
  const incoming = '771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1';
  const baggage = 'sentry-trace_id=771a43a4192642f0b136d5159a501700,' +
    `sentry-public_key=${JS_PUBLIC_KEY},sentry-org_id=${ORG_ID},sentry-sample_rate=0.5,` +
    'sentry-sample_rand=0.250000,sentry-sampled=true,sentry-release=backend%401.2.3,' +
    'sentry-transaction=GET%20%2Fapi%2Fusers,vendor=1;p=2';
  const log = path.join(work, 'grpc_c_to_js.jsonl');
  const before = received.length;
  const r = expectRun(await run(bin('grpc/grpc_client'), ['-H', `sentry-trace: ${incoming}`,
    '-H', `baggage: ${baggage}`, '--method', '/interop.Checkout/Pay', '--spans', log,
    `127.0.0.1:${env.jsGrpc.port}`]), 'grpc_client');
  check(received.length === before + 1, `the JS server got one call (${r.stdout})`);
  const sent = sentHeaders(log, 'grpc.client');
  checkCForwarded(sent, incoming, baggage, 'C gRPC client');
  checkSdkContinued(received[before], sent, 'JS gRPC server');
});

test('http2: C client -> JS server (SDK)', async () => {
  const incoming = '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1';
  const baggage = 'sentry-trace_id=4bf92f3577b34da6a3ce929d0e0e4736,' +
    `sentry-public_key=${JS_PUBLIC_KEY},sentry-org_id=${ORG_ID},sentry-sample_rate=1,` +
    'sentry-sample_rand=0.731,sentry-sampled=true,sentry-environment=staging';
  const log = path.join(work, 'h2_c_to_js.jsonl');
  const before = received.length;
  expectRun(await run(bin('h2/h2_client'), ['--env', '--spans', log,
    `http://127.0.0.1:${env.jsH2.port}/inventory/42`],
  { SENTRY_TRACE: incoming, SENTRY_BAGGAGE: baggage }), 'h2_client');
  check(received.length === before + 1, 'the JS HTTP/2 server got one request');
  const sent = sentHeaders(log, 'http.client');
  checkCForwarded(sent, incoming, baggage, 'C HTTP/2 client');
  checkSdkContinued(received[before], sent, 'JS HTTP/2 server');
  checkEqual(received[before].name, 'GET /inventory/42', 'path the JS server saw');
});

// A DSC no SDK writes: properties on Sentry members, and the head's
// decision only in sentry-sampled (the sentry-trace has no flag). stp
// reads the values without their properties and sends them on so, and
// takes the DSC's decision over its own rate of 0: the SDK continues the
// same trace (it reads everything after '=' as the value, and an org id
// sent on as "77;p" would not be its own) and samples it.
test('http2: C client -> JS server (SDK), DSC with properties and no flag', async () => {
  const traceId = '5d8b2f1e0c3a49d7b6e4f2a1c9d8e7f6';
  const incoming = `${traceId}-a1b2c3d4e5f60718`;
  const baggage = `sentry-trace_id=${traceId},sentry-public_key=${JS_PUBLIC_KEY},` +
    `sentry-org_id=${ORG_ID};p,sentry-sample_rate=1,sentry-sample_rand=0.5;q=1,` +
    'sentry-sampled=true,sentry-release=backend%401.2.3;x=1;y';
  const log = path.join(work, 'h2_c_to_js_props.jsonl');
  const before = received.length;
  expectRun(await run(bin('h2/h2_client'), ['--env', '--sample-rate', '0', '--spans', log,
    `http://127.0.0.1:${env.jsH2.port}/props`],
  { SENTRY_TRACE: incoming, SENTRY_BAGGAGE: baggage }), 'h2_client');
  check(received.length === before + 1, 'the JS HTTP/2 server got one request');
  const sent = sentHeaders(log, 'http.client');
  checkEqual(parseSentryTrace(sent.sentryTrace).sampled, true,
    'the flag C sent (the decision in the DSC, not its own rate of 0)');
  for (const m of sent.baggage.split(',')) {
    if (m.startsWith('sentry-')) check(!m.includes(';'), `a Sentry member C sent has properties: ${m}`);
  }
  checkCForwarded(sent, incoming, baggage, 'C HTTP/2 client');
  const rec = received[before];
  checkEqual(rec.traceId, traceId, 'the SDK continued the trace');
  checkEqual(rec.dsc.org_id, ORG_ID, 'the org id the SDK read');
  checkEqual(rec.dsc.release, 'backend@1.2.3', 'the release the SDK read');
  checkSdkContinued(rec, sent, 'JS HTTP/2 server');
});

test('http2: JS client (SDK) -> C server', async () => {
  await sdkHead('browse', 'task', async (head) => {
    const res = await http2Get(env.cH2.port, '/items?page=2', head.headers);
    checkEqual(res.status, 200, 'C HTTP/2 server status');
    checkCContinued(cViewFromJson(JSON.parse(res.body)), head, 'C HTTP/2 server');
  });
});

test('chain: JS -> C gRPC server -> C HTTP/2 client -> JS', async () => {
  await sdkHead('order', 'task', async (head) => {
    const before = received.length;
    const answer = await grpcUnary(env.cChain.port, '/interop.Orders/Place', head.headers, 'order');
    const fields = parseLines(answer);
    checkCContinued(cViewFromLines(fields), head, 'middle C hop');
    checkEqual(fields.downstream_exit, '0', 'the C HTTP/2 client (downstream) exit status');
    check(received.length === before + 1, 'the last JS hop got one request');
    const last = received[before];
    const sentByC = /^> sentry-trace: (.*)$/m.exec(answer);
    check(sentByC, 'the C HTTP/2 client printed the sentry-trace it sent');
    checkEqual(last.traceId, head.traceId, 'last hop trace id versus the first hop\'s');
    checkEqual(last.parentSpanId, parseSentryTrace(sentByC[1]).spanId,
      'last hop parent (the C HTTP/2 client span)');
    check(last.parentSpanId !== head.spanId && last.parentSpanId !== fields.span_id,
      'the C hops added spans of their own');
    checkEqual(sorted(parseBaggage(last.incoming.baggage).dsc), sorted(head.dsc),
      'DSC the last hop received versus the one the first hop created');
    checkEqual(numeric(last.dsc), numeric(head.dsc), 'DSC the last hop continued with');
  });
});

// The grpc++ hop: the SDK's call reaches the grpc++ service
// (examples/grpcpp), whose handler calls the JavaScript server on through
// the grpc++ client interceptor, the parent tied with set_parent.
const CPP_LOG = () => path.join(work, 'grpcpp.jsonl');

test('grpc++: JS client (SDK) -> grpc++ server -> grpc++ client -> JS server (SDK)', async () => {
  await sdkHead('order', 'task', async (head) => {
    const before = received.length;
    const answer = await grpcUnary(env.cppChain.port, '/interop.Orders/Place', head.headers, 'order');
    const fields = parseLines(answer);
    checkCContinued(cViewFromLines(fields), head, 'grpc++ server');
    checkEqual(fields.downstream_status, '0', 'the grpc++ client call (downstream) status');
    check(received.length === before + 1, 'the JS server behind the grpc++ hop got one call');
    // The grpc++ client span: a child of the grpc++ server span, and what it
    // sent is what the SDK continued.
    const sent = sentHeaders(CPP_LOG(), 'grpc.client', (r) => r.parent_span_id === fields.span_id);
    checkEqual(sent.record.trace_id, head.traceId, 'grpc++ client span trace id');
    checkCForwarded(sent, head.headers['sentry-trace'], head.headers.baggage, 'grpc++ client');
    const last = received[before];
    checkSdkContinued(last, sent, 'JS gRPC server behind grpc++');
    checkEqual(last.traceId, head.traceId, 'last hop trace id versus the first hop\'s');
    checkEqual(sorted(parseBaggage(last.incoming.baggage).dsc), sorted(head.dsc),
      'DSC the last hop received versus the one the first hop created (frozen)');
    checkEqual(numeric(last.dsc), numeric(head.dsc), 'DSC the last hop continued with');
  });
});

// No trace comes in: the grpc++ service is the head (its DSN, release, rate
// 1, the method as the transaction), and the SDK continues its trace.
test('grpc++: head in the grpc++ server, continued by the SDK', async () => {
  const before = received.length;
  const answer = await grpcUnary(env.cppChain.port, '/interop.Orders/Place', {}, 'order');
  const fields = parseLines(answer);
  checkEqual(fields.continued, 'absent', 'the grpc++ server started the trace');
  checkEqual(fields.parent_span_id, '-', 'the grpc++ server span is a root');
  checkEqual(fields.downstream_status, '0', 'the grpc++ client call (downstream) status');
  check(received.length === before + 1, 'the JS server got one call');
  const sent = sentHeaders(CPP_LOG(), 'grpc.client', (r) => r.parent_span_id === fields.span_id);
  const dsc = parseBaggage(sent.baggage).dsc;
  checkEqual(sorted(dsc), sorted({
    trace_id: fields.trace_id,
    public_key: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    org_id: ORG_ID,
    sample_rate: '1',
    sample_rand: dsc.sample_rand,
    sampled: 'true',
    release: 'shop@2.0.0',
    transaction: '/interop.Orders/Place',
  }), 'the DSC the grpc++ head built');
  checkEqual(sorted(dscFromLines(fields)), sorted(dsc), 'the DSC the grpc++ server holds');
  const last = received[before];
  checkSdkContinued(last, sent, 'JS gRPC server behind grpc++');
  checkEqual(last.dsc.transaction, '/interop.Orders/Place', 'the transaction the SDK read');
});

// A trace that starts in C, as the head: DSN, release, environment, rate.
async function headInC(rate, sampled) {
  const log = path.join(work, `head_${rate}.jsonl`);
  const before = received.length;
  expectRun(await run(bin('grpc/grpc_client'), [
    '--dsn', `https://c0ffee00c0ffee00c0ffee00c0ffee00@o${ORG_ID}.ingest.sentry.io/4242`,
    '--release', 'shop@2.0.0', '--environment', 'interop-c', '--sample-rate', rate,
    '--method', '/interop.Checkout/Pay', '--spans', log, `127.0.0.1:${env.jsGrpc.port}`]),
  'grpc_client');
  check(received.length === before + 1, 'the JS server got one call');
  const sent = sentHeaders(log, 'grpc.client');
  const dsc = parseBaggage(sent.baggage).dsc;
  const rand = Number(dsc.sample_rand);
  check(rand >= 0 && rand < 1, `sample_rand in [0, 1): ${dsc.sample_rand}`);
  checkEqual(sorted(dsc), sorted({
    trace_id: parseSentryTrace(sent.sentryTrace).traceId,
    public_key: 'c0ffee00c0ffee00c0ffee00c0ffee00',
    org_id: ORG_ID,
    sample_rate: rate,
    sample_rand: dsc.sample_rand,
    sampled: String(sampled),
    release: 'shop@2.0.0',
    environment: 'interop-c',
  }), 'the DSC stp built as the head');
  const rec = received[before];
  checkSdkContinued(rec, sent, 'JS gRPC server');
  const tx = await transactionFor(rec.spanId);
  if (sampled) {
    check(tx, 'the SDK made a transaction for the continued, sampled trace');
    checkEqual(tx.trace.trace_id, rec.traceId, 'transaction trace id');
    checkEqual(tx.trace.parent_span_id, parseSentryTrace(sent.sentryTrace).spanId,
      'transaction parent (the C client span)');
    checkEqual(numeric(tx.envelopeTrace), numeric(dsc), 'DSC in the transaction envelope');
  } else {
    check(tx === null, 'no transaction for a trace C decided not to sample');
  }
}

test('head in C (sample rate 1) continued by the SDK', () => headInC('1', true));
test('head in C (sample rate 0) continued by the SDK', () => headInC('0', false));

// Where SDK versions differ from each other and from stp (sdk_rules.js).
require('./sdk_rules')({
  test, SDK, continueWithSdk, checkEqual, check, parseBaggage, parseSentryTrace, numeric,
  cView: async (headers) => {
    const res = await http2Get(env.cH2.port, '/rules', headers);
    return cViewFromJson(JSON.parse(res.body));
  },
});

// ---- main ---------------------------------------------------------------------

async function main() {
  let passed = 0;
  let failed = 0;
  try {
    const jsGrpc = await startJsGrpcServer();
    const jsH2 = await startJsHttp2Server();
    env = {
      jsGrpc,
      jsH2,
      cGrpc: await startServer(bin('grpc/grpc_server'), []),
      cH2: await startServer(bin('h2/h2_server'), []),
      cChain: await startServer(bin('grpc/grpc_server'),
        ['--exec', `${bin('h2/h2_client')} --env http://127.0.0.1:${jsH2.port}/chain`]),
      cppChain: await startServer(bin('grpcpp/grpcpp_server'), [
        '--dsn', `https://c0ffee00c0ffee00c0ffee00c0ffee00@o${ORG_ID}.ingest.sentry.io/4242`,
        '--release', 'shop@2.0.0', '--sample-rate', '1', '--spans', CPP_LOG(),
        '--downstream', `127.0.0.1:${jsGrpc.port}`, '--downstream-method', '/interop.Checkout/Pay']),
    };
  } catch (e) {
    console.log(`[${SDK}] setup: FAILED: ${e.message}`);
    failed++;
  }
  if (env) {
    const r = await runTests(tests.map((t) => ({ label: SDK, ...t })), filter);
    passed += r.passed;
    failed += r.failed;
  }
  await stopServers();
  if (env) await Promise.all([env.jsGrpc.stop(), env.jsH2.stop()]);
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
