'use strict';
// Spotlight tests: stp's exporter against Sentry's development sidecar,
// with @sentry/node in the same trace.
//
//   node test.js BIN_DIR
//
// BIN_DIR holds the built examples (grpc/, h2/). Starts `spotlight server`
// on a free port and the C servers with SENTRY_SPOTLIGHT pointing at it,
// runs traces through them, and reads back what Spotlight received:
// `spotlight tail traces -f json` (one line per transaction) and the
// envelopes of its event stream (for the spans inside them). Everything is
// on 127.0.0.1; every wait has a limit.

const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const http = require('node:http');
const childProcess = require('node:child_process');

// The SDK pinned by interop/package-lock.json.
const interop = path.join(__dirname, '..', 'node_modules');
const Sentry = require(path.join(interop, '@sentry', 'node'));
const grpc = require(path.join(interop, '@grpc', 'grpc-js'));

const binDir = process.argv[2];
if (!binDir) {
  console.error('usage: node test.js BIN_DIR');
  process.exit(2);
}
const bin = (name) => path.join(binDir, name);
const spotlightBin = path.join(__dirname, 'node_modules', '.bin', 'spotlight');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stp-spotlight-'));
const KEY = '49d0f7386ad645858ae85020e393bef3';
const DSN = `https://${KEY}@o447951.ingest.sentry.io/5`;
const WAIT_MS = 15000;

class CheckError extends Error {}
function check(cond, what) {
  if (!cond) throw new CheckError(what);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn) {
  const end = Date.now() + WAIT_MS;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new CheckError(`${what}: not within ${WAIT_MS} ms`);
    await sleep(100);
  }
}

// ---- processes ---------------------------------------------------------------

const children = [];
function spawn(file, args, env, logName) {
  const log = fs.openSync(path.join(work, logName), 'w');
  const child = childProcess.spawn(file, args, {
    stdio: ['ignore', log, log],
    env: { ...process.env, ...env },
  });
  fs.closeSync(log);
  child.done = new Promise((r) => child.on('exit', (code, sig) => r(code ?? sig)));
  children.push(child);
  return child;
}

async function stopAll() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 5000);
    await c.done;
    clearTimeout(t);
  }
}

const logOf = (name) => fs.readFileSync(path.join(work, name), 'utf8');

// Spotlight on a free port: the port its log names.
async function startSpotlight() {
  const child = spawn(spotlightBin, ['server', '-p', '0'], {}, 'spotlight.log');
  const m = await until('spotlight server', () =>
    /listening on (\d+)/.exec(logOf('spotlight.log')) || (child.exitCode !== null && ['', 'exited']));
  check(m[1] !== 'exited', `spotlight server exited: ${logOf('spotlight.log')}`);
  return Number(m[1]);
}

async function startServer(file, args, env, name) {
  const portFile = path.join(work, `${name}.port`);
  const child = spawn(file, ['--port', '0', '--port-file', portFile, ...args], env, `${name}.log`);
  const text = await until(`${name} start`, () =>
    (fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim()) ||
    (child.exitCode !== null && 'exited'));
  check(text !== 'exited', `${name} exited: ${logOf(`${name}.log`)}`);
  return Number(text);
}

// ---- what Spotlight received -------------------------------------------------

// `spotlight tail traces -f json`: one JSON line per transaction.
const tailed = [];
function startTail(port) {
  const child = childProcess.spawn(spotlightBin, ['tail', 'traces', '-p', String(port), '-f', 'json'],
    { stdio: ['ignore', 'pipe', 'ignore'] });
  child.done = new Promise((r) => child.on('exit', r));
  children.push(child);
  let rest = '';
  child.stdout.on('data', (d) => {
    rest += d;
    const lines = rest.split('\n');
    rest = lines.pop();
    for (const l of lines) {
      try {
        const o = JSON.parse(l);
        if (o.type === 'trace') tailed.push(o);
      } catch (_) { /* its banner */ }
    }
  });
}

// The envelopes of Spotlight's event stream: [header, [[itemHeader, payload]]].
const envelopes = [];
function startStream(port) {
  const req = http.get({ host: '127.0.0.1', port, path: '/stream',
    headers: { Accept: 'text/event-stream' } }, (res) => {
    let rest = '';
    res.on('data', (d) => {
      rest += d;
      const events = rest.split('\n\n');
      rest = events.pop();
      for (const e of events) {
        const data = e.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (!/event: application\/x-sentry-envelope/.test(e) || !data) continue;
        try { envelopes.push(JSON.parse(data)); } catch (_) { /* not one */ }
      }
    });
  });
  req.on('error', () => {});
  return req;
}

// Every transaction event of a trace that the stream carried, with the
// envelope header it came in.
function transactionsOf(traceId) {
  const out = [];
  for (const [header, items] of envelopes)
    for (const [ih, payload] of items)
      if (ih.type === 'transaction' && payload.contexts.trace.trace_id === traceId)
        out.push({ header, event: payload });
  return out;
}

// The tree of a trace: exactly one span without a parent, and every
// parent id is a span Spotlight received (a transaction or one of its
// spans). Returns the transactions by span id.
function checkWhole(traceId, count) {
  const txs = transactionsOf(traceId);
  check(txs.length === count, `${count} transactions in the stream, got ${txs.length}`);
  const known = new Set();
  const parents = [];
  for (const { event } of txs) {
    const t = event.contexts.trace;
    known.add(t.span_id);
    parents.push([t.span_id, t.parent_span_id]);
    for (const s of event.spans) {
      known.add(s.span_id);
      parents.push([s.span_id, s.parent_span_id]);
    }
  }
  const roots = parents.filter(([, p]) => !p);
  check(roots.length === 1, `one root, got ${roots.length}`);
  const orphans = parents.filter(([, p]) => p && !known.has(p));
  check(orphans.length === 0, `orphan parent ids: ${orphans.map(([s, p]) => `${s}->${p}`).join(' ')}`);
  return txs;
}

const tailedOf = (traceId) => tailed.filter((t) => t.trace_id === traceId);
const byOp = (list, op) => list.filter((t) => t.op === op);

// ---- the tests ---------------------------------------------------------------

let env;

function grpcCall(port, metadata) {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  const id = (b) => b;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest('/shop.Orders/Checkout', id, id, Buffer.from('hi'), md,
      { deadline: Date.now() + 10000 }, (err, reply) => {
        client.close();
        if (err) reject(err);
        else resolve(reply.toString('utf8'));
      });
  });
}

const tests = [
  ['a @sentry/node head, then the C gRPC server, its own span, the C HTTP/2 client and server', async () => {
    const { traceId, spanId } = await Sentry.startSpan({ name: 'checkout', op: 'function' }, async (span) => {
      const data = Sentry.getTraceData();
      await grpcCall(env.grpcPort, { 'sentry-trace': data['sentry-trace'], baggage: data.baggage });
      return span.spanContext();
    });
    check(await Sentry.flush(5000), 'the SDK flushed');
    const seen = await until('four transactions in `spotlight tail`', () =>
      tailedOf(traceId).length >= 4 && tailedOf(traceId));
    check(seen.length === 4, `four transactions, got ${seen.length}`);
    const js = seen.find((t) => t.span_id === spanId);
    check(js && !js.parent_span_id && js.sdk === 'sentry.javascript.node', `the JS root: ${JSON.stringify(js)}`);
    const [server] = byOp(seen, 'grpc.server');
    const [client] = byOp(seen, 'http.client');
    const [h2] = byOp(seen, 'http.server');
    for (const [t, what] of [[server, 'grpc.server'], [client, 'http.client'], [h2, 'http.server']])
      check(t && t.sdk === 'stp' && t.status === 'ok', `${what} from stp: ${JSON.stringify(t)}`);
    check(server.parent_span_id === spanId, 'the C gRPC server continued the JS span');
    check(server.transaction === '/shop.Orders/Checkout', `gRPC transaction name ${server.transaction}`);
    check(h2.parent_span_id === client.span_id, 'the C HTTP/2 server continued the C HTTP/2 client');
    check(h2.transaction === 'GET /inventory/42', `HTTP/2 transaction name ${h2.transaction}`);
    const txs = await until('the envelopes in the event stream', () =>
      transactionsOf(traceId).length >= 4 && transactionsOf(traceId));
    checkWhole(traceId, 4);
    const grpcTx = txs.find((t) => t.event.contexts.trace.span_id === server.span_id);
    const sub = grpcTx.event.spans.find((s) => s.op === 'subprocess');
    check(sub && sub.parent_span_id === server.span_id, 'the server\'s own span (stp_local_span) is in its transaction');
    check(client.parent_span_id === sub.span_id, 'the HTTP/2 client continued the server\'s own span');
    check(grpcTx.header.trace.trace_id === traceId && grpcTx.header.trace.public_key === KEY &&
      grpcTx.header.trace.sampled === 'true', `the frozen DSC of the JS head: ${JSON.stringify(grpcTx.header.trace)}`);
  }],
  ['a C head (grpc_client): its task transaction and the tree under it', async () => {
    const out = childProcess.execFileSync(bin('grpc/grpc_client'),
      ['--dsn', DSN, '--sample-rate', '1', '--release', 'shop@1.4.2', `127.0.0.1:${env.grpcPort}`],
      { env: { ...process.env, SENTRY_SPOTLIGHT: env.url }, timeout: 20000 }).toString();
    const traceId = /^context trace_id=([0-9a-f]{32})/m.exec(out)[1];
    const seen = await until('four transactions', () => tailedOf(traceId).length >= 4 && tailedOf(traceId));
    const [task] = byOp(seen, 'task');
    check(task && !task.parent_span_id && task.transaction === 'grpc_client', `the C root: ${JSON.stringify(task)}`);
    check(seen.every((t) => t.sdk === 'stp'), 'every transaction from stp');
    await until('the envelopes', () => transactionsOf(traceId).length >= 4);
    const txs = checkWhole(traceId, 4);
    const root = txs.find((t) => t.event.contexts.trace.op === 'task');
    check(root.event.release === 'shop@1.4.2', 'the release of the exporter');
    check(root.header.trace.public_key === KEY && root.header.trace.org_id === '447951',
      `the head's DSC: ${JSON.stringify(root.header.trace)}`);
  }],
  ['an unsampled trace sends nothing', async () => {
    const out = childProcess.execFileSync(bin('grpc/grpc_client'),
      ['--dsn', DSN, '--sample-rate', '0', `127.0.0.1:${env.grpcPort}`],
      { env: { ...process.env, SENTRY_SPOTLIGHT: env.url }, timeout: 20000 }).toString();
    const traceId = /^context trace_id=([0-9a-f]{32})/m.exec(out)[1];
    await sleep(2000);
    check(tailedOf(traceId).length === 0 && transactionsOf(traceId).length === 0,
      'no transaction of the unsampled trace');
  }],
];

async function main() {
  let passed = 0;
  let failed = 0;
  let stream;
  try {
    const port = await startSpotlight();
    const url = `http://127.0.0.1:${port}/stream`;
    Sentry.init({
      dsn: `http://${KEY}@127.0.0.1:9/42`,
      tracesSampleRate: 1,
      release: 'web@3.1.0',
      spotlight: url,
      // Nothing goes to the DSN: Spotlight is the receiver here.
      transport: (options) => Sentry.createTransport(options, () => Promise.resolve({ statusCode: 200 })),
    });
    const cenv = { SENTRY_SPOTLIGHT: url };
    const h2Port = await startServer(bin('h2/h2_server'), [], cenv, 'h2_server');
    const grpcPort = await startServer(bin('grpc/grpc_server'),
      ['--exec', `${bin('h2/h2_client')} --env http://127.0.0.1:${h2Port}/inventory/42`], cenv, 'grpc_server');
    startTail(port);
    stream = startStream(port);
    env = { url, grpcPort };
  } catch (e) {
    console.log(`setup: FAILED: ${e.message}`);
    failed++;
  }
  if (env) {
    for (const [name, fn] of tests) {
      try {
        await fn();
        console.log(`${name}: ok`);
        passed++;
      } catch (e) {
        console.log(`${name}: FAILED: ${e.message}`);
        failed++;
      }
    }
  }
  if (stream) stream.destroy();
  await stopAll();
  if (failed) for (const f of fs.readdirSync(work)) console.error(`--- ${f}\n${logOf(f)}`);
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main();
