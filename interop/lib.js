'use strict';
// What the interop test programs share: checks, header parsing, child
// processes with time limits, and the loop that runs the tests and prints
// one `[SDK VERSION] NAME: ok` or `... FAILED: why` line each.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const TEST_TIMEOUT_MS = 30000;
const PROCESS_TIMEOUT_MS = 20000;

class CheckError extends Error {}

function check(cond, what) {
  if (!cond) throw new CheckError(what);
}

function checkEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}: got ${a}, want ${e}`);
}

function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

// The `sentry-*` members of a baggage header, keys without the prefix and
// values percent-decoded (what a DSC holds); other members apart.
function parseBaggage(header) {
  const dsc = {};
  const others = [];
  for (const raw of String(header || '').split(',')) {
    const member = raw.trim();
    if (!member) continue;
    const eq = member.indexOf('=');
    const key = member.slice(0, eq).trim();
    const value = member.slice(eq + 1).split(';')[0].trim();
    if (key.startsWith('sentry-')) dsc[key.slice(7)] = decodeURIComponent(value);
    else others.push(member);
  }
  return { dsc, others };
}

function parseSentryTrace(header) {
  const m = /^([0-9a-f]{32})-([0-9a-f]{16})(?:-([01]))?$/.exec(String(header || '').trim());
  check(m, `a well-formed sentry-trace, got ${JSON.stringify(header)}`);
  return { traceId: m[1], spanId: m[2], sampled: m[3] === undefined ? null : m[3] === '1' };
}

// A DSC object with sorted keys, so that two DSCs compare as JSON.
function sorted(obj) {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : 1)));
}

// The same, with sample_rand as the number it denotes: the SDK re-writes
// the value it continues from ("0.369240", as stp and Sentry's Python SDK
// write it, comes out of @sentry/node as "0.36924").
function numeric(dsc) {
  const out = sorted(dsc);
  if ('sample_rand' in out) out.sample_rand = String(Number(out.sample_rand));
  return out;
}

// Runs a program to its end (at most PROCESS_TIMEOUT_MS).
function run(file, args, env) {
  return new Promise((resolve) => {
    childProcess.execFile(
      file,
      args,
      { timeout: PROCESS_TIMEOUT_MS, killSignal: 'SIGKILL', env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (error.code ?? error.signal ?? 'error') : 0, stdout, stderr });
      }
    );
  });
}

function expectRun(result, what) {
  check(result.code === 0, `${what} exited ${result.code}: ${result.stderr || result.stdout}`);
  return result;
}

// Servers started by startServer, stopped by stopServers.
const servers = [];

// Starts a server that writes its port to a file; args(portFile) gives
// its arguments. Resolves to {port, stop()}; its output goes to a log in
// workDir, quoted when it does not start.
async function startServer(workDir, file, args) {
  const n = servers.length;
  const portFile = path.join(workDir, `port.${n}`);
  const logFile = path.join(workDir, `server.${n}.log`);
  const log = fs.openSync(logFile, 'w');
  const child = childProcess.spawn(file, args(portFile), { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exited = false;
  const done = new Promise((resolve) => child.on('exit', () => { exited = true; resolve(); }));
  child.on('error', () => { exited = true; });
  const server = {
    child,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      await withTimeout(done, 5000, 'server stop').catch(() => child.kill('SIGKILL'));
    },
  };
  servers.push(server);
  for (let i = 0; i < 200 && !exited; i++) {
    const text = fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8').trim() : '';
    if (text) {
      server.port = Number(text);
      return server;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path.basename(file)} did not start: ${fs.readFileSync(logFile, 'utf8')}`);
}

async function stopServers() {
  for (const s of servers.splice(0)) await s.stop();
}

// Runs each test whose line contains filter, each within TEST_TIMEOUT_MS,
// printing `[label] name: ok` or `[label] name: FAILED: why`. Tests are
// {label, name, fn}. Returns {passed, failed}.
async function runTests(tests, filter) {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    const line = `[${t.label}] ${t.name}`;
    if (!line.includes(filter || '')) continue;
    try {
      await withTimeout(Promise.resolve().then(t.fn), TEST_TIMEOUT_MS, t.name);
      console.log(`${line}: ok`);
      passed++;
    } catch (e) {
      console.log(`${line}: FAILED: ${e.message}`);
      failed++;
    }
  }
  return { passed, failed };
}

module.exports = {
  CheckError,
  check,
  checkEqual,
  withTimeout,
  parseBaggage,
  parseSentryTrace,
  sorted,
  numeric,
  run,
  expectRun,
  startServer,
  stopServers,
  runTests,
  TEST_TIMEOUT_MS,
};
