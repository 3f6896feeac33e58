'use strict';
// The unit of work of //bench:core_bench (BM_UnitOfWork), done by Sentry's
// JavaScript SDK on the same reference input: continue the incoming trace
// from `sentry-trace` + `baggage`, then produce the outgoing headers.
//
//   node bench.js [--rounds N] [--json]
//
// Two variants:
//   continue+getTraceData        Sentry.continueTrace + Sentry.getTraceData,
//                                the SDK's documented propagation calls
//   continue+span+getTraceData   the same with a child span started (and
//                                ended) around getTraceData, as BM_UnitOfWork
//                                makes a child span
// Each round times a batch of at least 0.5 s after a warm-up; prints the
// median ns/op over the rounds (and every round with --json). Nothing is
// sent: the SDK's transport drops what it is given.

const Sentry = require('@sentry/node');

const SENTRY_TRACE = '771a43a4192642f0b136d5159a501700-b1c2d3e4f5a6b7c8-1';
// The 321-byte reference baggage of bench/core_bench.cc.
const BAGGAGE =
  'sentry-trace_id=771a43a4192642f0b136d5159a501700,' +
  'sentry-public_key=49d0f7386ad645858ae85020e393bef3,' +
  'sentry-sample_rate=0.25,sentry-sampled=true,' +
  'sentry-release=backend%401.2.3,sentry-environment=production,' +
  'sentry-transaction=GET%20%2Fapi%2Fusers,sentry-sample_rand=0.123456,' +
  'vendor-a=a;prop1=1;prop2,vendor-b=beta%20two;p=x';
if (BAGGAGE.length !== 321) throw new Error(`reference baggage is ${BAGGAGE.length} bytes`);

Sentry.init({
  dsn: 'https://49d0f7386ad645858ae85020e393bef3@o447951.ingest.sentry.io/5',
  tracesSampleRate: 1,
  transport: (options) =>
    Sentry.createTransport(options, () => Promise.resolve({ statusCode: 200 })),
});

const incoming = { sentryTrace: SENTRY_TRACE, baggage: BAGGAGE };
let sink = 0;

const variants = {
  'continue+getTraceData': () =>
    Sentry.continueTrace(incoming, () => {
      const out = Sentry.getTraceData();
      sink += out['sentry-trace'].length + out.baggage.length;
    }),
  'continue+span+getTraceData': () =>
    Sentry.continueTrace(incoming, () =>
      Sentry.startSpan({ name: 'downstream', op: 'http.client' }, () => {
        const out = Sentry.getTraceData();
        sink += out['sentry-trace'].length + out.baggage.length;
      })
    ),
};

function check() {
  // The SDK must actually continue the reference trace, or the timing
  // measures something else.
  Sentry.continueTrace(incoming, () => {
    const out = Sentry.getTraceData();
    if (!out['sentry-trace'].startsWith('771a43a4192642f0b136d5159a501700-')) {
      throw new Error(`the SDK did not continue the trace: ${out['sentry-trace']}`);
    }
    if (!out.baggage.includes('sentry-release=backend%401.2.3')) {
      throw new Error(`the SDK did not keep the DSC: ${out.baggage}`);
    }
  });
}

// ns/op of one batch that runs for at least minNs.
function timeBatch(fn, minNs) {
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) fn();
    const ns = Number(process.hrtime.bigint() - t0);
    if (ns >= minNs) return ns / n;
    n = Math.ceil(n * Math.min(10, (minNs * 1.2) / Math.max(ns, 1)));
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main() {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const r = args.indexOf('--rounds');
  const rounds = r >= 0 ? Number(args[r + 1]) : 5;
  if (!(rounds >= 1)) throw new Error('--rounds takes a positive number');
  check();
  const results = {};
  for (const [name, fn] of Object.entries(variants)) {
    timeBatch(fn, 3e8); // warm-up: let the JIT settle
    const per = [];
    for (let i = 0; i < rounds; i++) per.push(timeBatch(fn, 5e8));
    results[name] = { median_ns: median(per), rounds_ns: per };
  }
  if (json) {
    console.log(JSON.stringify({ node: process.version, sdk: Sentry.SDK_VERSION, results }));
  } else {
    console.log(`node ${process.version}, @sentry/node ${Sentry.SDK_VERSION}`);
    for (const [name, v] of Object.entries(results)) {
      console.log(`${name.padEnd(28)} ${v.median_ns.toFixed(0).padStart(8)} ns/op (median of ${rounds})`);
    }
  }
  if (sink === 0) throw new Error('nothing produced');
}

main();
