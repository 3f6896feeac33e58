'use strict';
// Interop test: Sentry's browser SDK (@sentry/browser), in headless
// Chromium, continuing the trace of the HTML meta tags stp writes.
//
//   node test.js BIN_DIR [NAME_FILTER]
//
// BIN_DIR holds http1/http1_server. Each case starts the C HTTP/1.1 server
// as the page server: its page's <head> carries stp_context_meta's tags
// for the request's trace, an import map, and a module that loads
// @sentry/browser from the same server (its ES modules from this
// directory's node_modules, as npm installed them: no CDN, no bundler),
// initialises it with browserTracingIntegration and a DSN whose endpoint
// is this process, and fetches from a second C server (the API, named in
// tracePropagationTargets) and from its own origin (not named). The test
// then reads what the SDK produced: the pageload transaction from the
// envelope the SDK posted (trace id, parent = the span the meta tag named,
// decision, the DSC in the envelope header), and what the C API server
// made of the fetch's headers. Chromium is Debian's /usr/bin/chromium,
// driven by playwright-core; everything is on 127.0.0.1.
//
// Why HTTP/1.1: Chromium speaks HTTP/2 only over TLS (ALPN); it never
// sends cleartext HTTP/2 (h2c), neither with prior knowledge nor by
// Upgrade, so the C servers a page can reach in clear are HTTP/1.1 ones.
//
// Prints one `[@sentry/browser VERSION] NAME: ok|FAILED: why` line per
// case, then `N passed, N failed`.

const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const {
  check, checkEqual, parseBaggage, parseSentryTrace, numeric, sorted,
  startServer, stopServers, runTests, withTimeout,
} = require('../lib');

const binDir = process.argv[2];
const filter = process.argv[3] || '';
if (!binDir) {
  console.error('usage: node test.js BIN_DIR [NAME_FILTER]');
  process.exit(2);
}
const C_SERVER = path.join(binDir, 'http1/http1_server');
const CHROMIUM = process.env.STP_CHROMIUM || '/usr/bin/chromium';
const MODULES = path.join(__dirname, 'node_modules');
const SDK_VERSION = require('@sentry/browser/package.json').version;
const LABEL = `@sentry/browser ${SDK_VERSION}`;
const PUBLIC_KEY = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const C_DSN = `https://${PUBLIC_KEY}@o77.ingest.sentry.io/4242`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'stp-browser-'));

// ---- the envelope endpoint ----------------------------------------------------

// The SDK's DSN points here: every envelope it posts, parsed.
const envelopes = [];
function startEndpoint() {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && /^\/api\/\d+\/envelope\//.test(req.url)) {
        const lines = Buffer.concat(chunks).toString('utf8').split('\n');
        const items = [];
        for (let i = 1; i + 1 < lines.length; i += 2) {
          items.push({ header: JSON.parse(lines[i]), body: JSON.parse(lines[i + 1]) });
        }
        envelopes.push({ header: JSON.parse(lines[0]), items });
      }
      res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/json' });
      res.end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    stop: () => new Promise((r) => server.close(() => r())),
  })));
}

// The value of a span v2 attribute ({value, type}).
const attr = (span, key) => span.attributes && span.attributes[key] && span.attributes[key].value;

// The pageload of a trace as the SDK sent it, with its envelope's DSC and
// its http.client spans, whichever form it took: a `transaction` event,
// or (JS 11) a `span` item of Span v2 spans whose segment is the pageload.
function pageload(traceId) {
  for (const e of envelopes) {
    for (const item of e.items) {
      const tr = item.body.contexts && item.body.contexts.trace;
      if (item.header.type === 'transaction' && tr && tr.trace_id === traceId &&
          tr.op === 'pageload') {
        const spans = (item.body.spans || []).map((s) => ({
          span_id: s.span_id, op: s.op, url: String(s.description) }));
        return { form: 'transaction', dsc: e.header.trace, trace: tr, spans };
      }
      if (item.header.type !== 'span') continue;
      const segment = item.body.items.find((s) => s.trace_id === traceId && s.is_segment &&
        attr(s, 'sentry.op') === 'pageload');
      if (!segment) continue;
      const spans = envelopes.flatMap((x) => x.items).filter((i) => i.header.type === 'span')
        .flatMap((i) => i.body.items).filter((s) => s.trace_id === traceId)
        .map((s) => ({ span_id: s.span_id, op: attr(s, 'sentry.op'), url: attr(s, 'url.full') }));
      return {
        form: 'span v2',
        dsc: e.header.trace,
        trace: { ...segment, op: 'pageload' },
        spans,
      };
    }
  }
  return null;
}

// ---- the page ------------------------------------------------------------------

// An import map for every package installed here but the browser driver:
// each export of its package.json, under the conditions a browser's ES
// modules take (@sentry/browser-utils imports web-vitals, for one).
function importMap() {
  const pick = (entry) => {
    if (typeof entry === 'string') return entry;
    for (const cond of ['browser', 'import', 'production', 'default']) {
      if (entry && entry[cond]) return pick(entry[cond]);
    }
    return null;
  };
  const packages = fs.readdirSync(MODULES).flatMap((d) => (d.startsWith('@')
    ? fs.readdirSync(path.join(MODULES, d)).map((n) => `${d}/${n}`) : [d]))
    .filter((d) => d !== 'playwright-core' && !d.startsWith('.'));
  const imports = {};
  for (const dir of packages) {
    const pkg = JSON.parse(fs.readFileSync(path.join(MODULES, dir, 'package.json'), 'utf8'));
    for (const [sub, entry] of Object.entries(pkg.exports || { '.': pkg.module })) {
      const file = pick(entry);
      if (!file || !/\.m?js$/.test(file)) continue;
      const spec = sub === '.' ? pkg.name : `${pkg.name}/${sub.slice(2)}`;
      imports[spec] = `/static/${dir}/${file.replace(/^\.\//, '')}`;
    }
  }
  return { imports };
}

// The page template: <!--stp-meta--> is where the C server puts the tags.
function writePage(endpointPort, apiPort) {
  const file = path.join(work, 'page.html');
  const api = `http://127.0.0.1:${apiPort}/`;
  fs.writeFileSync(file, `<!doctype html>
<html><head><meta charset="utf-8">
<!--stp-meta-->
<script type="importmap">${JSON.stringify(importMap())}</script>
<script type="module">
import * as Sentry from '@sentry/browser';
const run = { sdk: Sentry.SDK_VERSION };
try {
  Sentry.init({
    dsn: 'http://0123456789abcdef0123456789abcdef@127.0.0.1:${endpointPort}/7',
    release: 'browser@1.0.0',
    environment: 'interop-browser',
    tracesSampleRate: 1,
    integrations: [Sentry.browserTracingIntegration()],
    tracePropagationTargets: [${JSON.stringify(api)}],
  });
  const root = Sentry.getActiveSpan() && Sentry.getRootSpan(Sentry.getActiveSpan());
  run.root = root ? Sentry.spanToJSON(root) : null;
  run.api = await (await fetch(${JSON.stringify(`${api}api/checkout`)})).json();
  run.sameOrigin = await (await fetch('/api/same-origin')).json();
  if (root) root.end();
  run.flushed = await Sentry.flush(5000);
} catch (e) {
  run.error = String(e && e.stack || e);
}
window.__stp = run;
</script>
<title>stp meta tags</title></head>
<body><p>stp</p></body></html>
`);
  return file;
}

// ---- the cases -------------------------------------------------------------------

// Loads the page of a page server (optionally with trace headers on the
// page request only) and returns what the page and the SDK did.
async function load(browser, env, pageServer, headers) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    const url = `http://127.0.0.1:${pageServer.port}/page`;
    if (headers) {
      await page.route(url, (route) =>
        route.continue({ headers: { ...route.request().headers(), ...headers } }));
    }
    const res = await page.goto(url, { timeout: 15000 });
    checkEqual(res.status(), 200, 'the page\'s status');
    await page.waitForFunction(() => window.__stp, null, { timeout: 20000 });
    const run = await page.evaluate(() => window.__stp);
    const dom = await page.evaluate(() => ({
      head: [...document.head.children].map((e) => e.tagName.toLowerCase() +
        (e.getAttribute('name') ? `[${e.getAttribute('name')}]` : '')),
      meta: Object.fromEntries([...document.querySelectorAll('meta[name]')]
        .map((m) => [m.getAttribute('name'), m.getAttribute('content')])),
      pwned: window.__pwned === undefined ? null : window.__pwned,
    }));
    check(!run.error, `the page's script failed: ${run.error}`);
    checkEqual(errors, [], 'errors on the page');
    return { run, dom };
  } finally {
    await context.close();
  }
}

// What every case checks: the SDK continued the meta tags' trace, and the
// fetch to the API carried it on (a span of the SDK's own, the meta's DSC
// frozen); the same-origin fetch, no target, carried nothing.
function checkContinued(r, what) {
  const st = parseSentryTrace(r.dom.meta['sentry-trace']);
  const metaDsc = parseBaggage(r.dom.meta.baggage).dsc;
  checkEqual(r.run.root && r.run.root.trace_id, st.traceId, `${what}: the pageload span's trace id`);
  checkEqual(r.run.root.parent_span_id, st.spanId,
    `${what}: the pageload span's parent (the span the meta tag named)`);
  checkEqual(r.run.root.op || r.run.root.attributes['sentry.op'], 'pageload',
    `${what}: the root span is the pageload`);
  const api = r.run.api;
  checkEqual([api.continued, api.trace_id], [true, st.traceId], `${what}: the API continued the trace`);
  check(api.parent_span_id !== st.spanId && api.parent_span_id !== r.run.root.span_id,
    `${what}: the fetch announced a span of its own`);
  checkEqual([r.run.sameOrigin.continued, r.run.sameOrigin.status], [false, 'absent'],
    `${what}: no trace headers to an origin outside tracePropagationTargets`);
  return { st, metaDsc, api };
}

function cases(browser, env) {
  const t = (name, fn) => ({ label: LABEL, name, fn });
  return [
    t('C head (sample rate 1) meta tags -> pageload transaction, fetch -> C', async () => {
      const r = await load(browser, env, env.pageSampled);
      const { st, metaDsc, api } = checkContinued(r, 'sampled');
      checkEqual(st.sampled, true, 'the meta tag\'s flag');
      const tx = pageload(st.traceId);
      check(tx, 'the SDK sent a pageload transaction for the meta tags\' trace');
      checkEqual(tx.form, PAGELOAD_FORM, 'the form the SDK sent the pageload in');
      checkEqual(tx.trace.parent_span_id, st.spanId, 'the transaction\'s parent: the C span');
      checkEqual(numeric(tx.dsc), numeric(metaDsc), 'the envelope\'s DSC is the frozen meta DSC');
      const fetchSpan = tx.spans.find((s) => s.op === 'http.client' &&
        String(s.url).includes('/api/checkout'));
      check(fetchSpan, 'the transaction has the fetch\'s http.client span');
      checkEqual(api.parent_span_id, fetchSpan.span_id, 'the API\'s parent: the fetch span');
      checkEqual(api.sampled, true, 'the API\'s decision');
      checkEqual(numeric(api.dsc), numeric(metaDsc), 'the DSC the fetch carried: the meta DSC');
    }),
    t('C head (sample rate 0) meta tags -> no transaction, fetch -> C unsampled', async () => {
      const r = await load(browser, env, env.pageUnsampled);
      const { st, metaDsc, api } = checkContinued(r, 'unsampled');
      checkEqual(st.sampled, false, 'the meta tag\'s flag');
      checkEqual(r.run.flushed, true, 'the SDK flushed');
      checkEqual(pageload(st.traceId), null, 'no transaction for a trace C decided not to sample');
      checkEqual(api.sampled, false, 'the API\'s decision');
      checkEqual(numeric(api.dsc), numeric(metaDsc), 'the DSC the fetch carried: the meta DSC');
    }),
    // A C head without a sample rate leaves the decision to the browser
    // (no flag in the meta tag, no sentry-sampled in its DSC).
    t('C head, decision deferred, meta tags -> the browser decides', async () => {
      const r = await load(browser, env, env.pageDeferred);
      const { st, metaDsc, api } = checkContinued(r, 'deferred');
      checkEqual(st.sampled, null, 'the meta tag has no flag');
      check(!('sampled' in metaDsc) && !('sample_rate' in metaDsc), 'the meta DSC has no decision');
      const tx = pageload(st.traceId);
      check(tx, 'the SDK sampled it (its rate is 1) and sent the transaction');
      checkEqual(api.sampled, true, 'the fetch carried the browser\'s decision');
      // The DSC the browser sends on: the meta's, plus the rate this SDK
      // version writes into a frozen DSC that had no decision when it
      // decides (docs/interop.md); no sentry-sampled is added.
      const want = numeric({ ...metaDsc, ...DEFERRED_ADDED });
      checkEqual(numeric(tx.dsc), want, 'the envelope\'s DSC');
      checkEqual(numeric(api.dsc), want, 'the DSC the fetch carried');
    }),
    t('hostile baggage: quotes, <, >, & and newlines stay inside the attribute', async () => {
      const traceId = '5d8b2f1e0c3a49d7b6e4f2a1c9d8e7f6';
      const spanId = 'a1b2c3d4e5f60718';
      // ' < > & raw (all baggage-octets, so stp keeps them), " and a
      // newline percent-encoded: the SDK decodes them into the release.
      const release = 'x\'><script>window.__pwned=1</script>&amp"\n<meta name=x>';
      const raw = 'x\'><script>window.__pwned=1</script>&amp%22%0A<meta%20name=x>';
      const r = await load(browser, env, env.pageDeferred, {
        'sentry-trace': `${traceId}-${spanId}-1`,
        baggage: `sentry-trace_id=${traceId},sentry-public_key=${PUBLIC_KEY},` +
          `sentry-release=${raw},sentry-sample_rand=0.25`,
      });
      checkEqual(r.dom.head, ['meta', 'meta[sentry-trace]', 'meta[baggage]', 'script',
        'script', 'title'], 'the elements of <head>');
      checkEqual(r.dom.pwned, null, 'no script of the baggage ran');
      checkEqual(r.dom.meta.baggage,
        `sentry-trace_id=${traceId},sentry-public_key=${PUBLIC_KEY},sentry-release=${raw},` +
        'sentry-sample_rand=0.25', 'the attribute holds the frozen DSC byte for byte');
      const { st } = checkContinued(r, 'hostile');
      checkEqual([st.traceId, st.sampled], [traceId, true], 'C continued the page request\'s trace');
      const tx = pageload(traceId);
      check(tx, 'the SDK sent the pageload transaction');
      checkEqual(tx.dsc.release, release, 'the release the SDK read, decoded');
      checkEqual(r.run.api.dsc.release, release, 'the release the fetch carried, decoded by C');
    }),
  ];
}

// What @sentry/browser 11 writes into a frozen DSC without a decision when
// it takes the decision itself: its own sample rate (1 here).
const DEFERRED_ADDED = { sample_rate: '1' };

// How @sentry/browser 11 sends the pageload: not a `transaction` event but
// a `span` envelope item of Span v2 spans, the pageload its segment (the
// envelope header carries the DSC only when it has trace_id and
// public_key).
const PAGELOAD_FORM = 'span v2';

async function main() {
  let setupFailed = 0;
  let browser;
  let endpoint;
  const tests = [];
  try {
    check(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (Debian: chromium)`);
    endpoint = await startEndpoint();
    const api = await startServer(work, C_SERVER, (pf) => ['--port', '0', '--port-file', pf]);
    const page = writePage(endpoint.port, api.port);
    const pageServer = (...opts) => startServer(work, C_SERVER, (pf) => ['--port', '0',
      '--port-file', pf, '--page', page, '--static', MODULES, ...opts]);
    const env = {
      api,
      pageSampled: await pageServer('--dsn', C_DSN, '--release', 'shop@2.0.0',
        '--environment', 'interop-c', '--sample-rate', '1'),
      pageUnsampled: await pageServer('--dsn', C_DSN, '--sample-rate', '0'),
      pageDeferred: await pageServer('--dsn', C_DSN, '--release', 'shop@2.0.0'),
    };
    browser = await withTimeout(chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }), 30000, 'Chromium start');
    tests.push(...cases(browser, env));
  } catch (e) {
    console.log(`[${LABEL}] setup: FAILED: ${e.message}`);
    setupFailed = 1;
  }
  const { passed, failed } = await runTests(tests, filter);
  if (browser) await browser.close().catch(() => {});
  if (endpoint) await endpoint.stop();
  await stopServers();
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed + setupFailed} failed`);
  process.exit(failed + setupFailed === 0 ? 0 : 1);
}

main();
