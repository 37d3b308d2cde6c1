// Starts the server under test for one end-to-end test.
//
//   const srv = await startServer(['--ping-interval', '1000']);
//   ... srv.port, srv.url ('http://127.0.0.1:PORT'), srv.wsUrl ('ws://...'), srv.proc
//   await srv.stop();   // throws on a sanitizer report or an unclean exit
//
// The server is process.env.SIO_SERVER_BIN (default <repo>/build/sio-server), run as
//   <bin> --app conformance --host 127.0.0.1 --port <port> ...args
// (another app with startServer(args, { app: 'bench' })).
// With SIO_TEST_TARGET=ref it is the Node reference instead (tests/e2e/ref/eio-server.mjs, the
// engine.io npm package; ref/bench-server.mjs for the bench app), which takes the same flags:
// the tests must pass against both.
// SIO_TEST_VERBOSE=1 copies the server's stderr to ours.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const TARGET = process.env.SIO_TEST_TARGET === 'ref' ? 'ref' : 'sio';
export const IS_REF = TARGET === 'ref';

const SANITIZER_MARKERS = [
  'ERROR: AddressSanitizer',
  'ERROR: LeakSanitizer',
  'runtime error:',
  'WARNING: ThreadSanitizer',
  'ERROR: MemorySanitizer',
];
const STDERR_KEEP = 256 * 1024; // bytes of stderr kept for error messages (head and tail)
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;

// Servers still running when this process ends (a test that never stopped its own, or the
// runner cancelling a file with SIGTERM) are killed rather than left behind.
const running = new Set();
function killAll() {
  for (const proc of running) {
    try { proc.kill('SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killAll);
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.once(sig, () => {
    killAll();
    process.kill(process.pid, sig); // the default action, now that this listener is gone
  });
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Whether a TCP server on loopback `port` accepts a connection within 500 ms; with `send`,
 * also whether it answers with something that includes `expect`.
 */
export function canConnect(port, { send, expect } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    let got = '';
    const done = (ok) => {
      sock.removeAllListeners();
      sock.on('error', () => {});
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => (send ? sock.write(send) : done(true)));
    sock.on('data', (d) => {
      got += d;
      if (got.includes(expect)) done(true);
    });
    sock.once('error', () => done(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The reference server of each app that has one.
const REF_SERVERS = { conformance: 'eio-server.mjs', bench: 'bench-server.mjs' };

function command(port, args, app = 'conformance') {
  if (IS_REF) {
    if (!REF_SERVERS[app]) throw new Error(`no reference server for the ${app} app`);
    return {
      file: process.execPath,
      argv: [path.join(REPO_ROOT, 'tests/e2e/ref', REF_SERVERS[app]), '--port', String(port), ...args],
    };
  }
  const bin = process.env.SIO_SERVER_BIN
    ? path.resolve(REPO_ROOT, process.env.SIO_SERVER_BIN)
    : path.join(REPO_ROOT, 'build/sio-server');
  // SIGTERM drains for at most 1 s (within STOP_GRACE_MS); a test's own flag wins (it comes later).
  return {
    file: bin,
    argv: ['--app', app, '--host', '127.0.0.1', '--port', String(port), '--drain-timeout', '1000', ...args],
  };
}

/**
 * Spawns the server under test on a free loopback port and waits until it accepts connections.
 * @param {string[]} args extra command-line flags
 * @param {{app?: string, env?: object, readyTimeoutMs?: number}} opts
 */
export async function startServer(args = [], opts = {}) {
  const port = await freePort();
  const { file, argv } = command(port, args, opts.app);
  const proc = spawn(file, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...(opts.env || {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(proc);

  let head = '';
  let tail = '';
  let dropped = 0;
  let sanitizer = null; // first line of a sanitizer report
  let carry = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk) => {
    if (process.env.SIO_TEST_VERBOSE) process.stderr.write(chunk);
    if (head.length < STDERR_KEEP / 2) {
      head += chunk;
    } else {
      tail += chunk;
      if (tail.length > STDERR_KEEP / 2) {
        dropped += tail.length - STDERR_KEEP / 2;
        tail = tail.slice(-STDERR_KEEP / 2);
      }
    }
    // Look for a marker, also across chunk boundaries.
    const window = carry + chunk;
    if (!sanitizer) {
      for (const m of SANITIZER_MARKERS) {
        const at = window.indexOf(m);
        if (at >= 0) {
          const lineStart = window.lastIndexOf('\n', at) + 1;
          const lineEnd = window.indexOf('\n', at);
          sanitizer = window.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
          break;
        }
      }
    }
    carry = window.slice(-64);
  });
  const stderrText = () => (dropped ? `${head}\n[... ${dropped} bytes ...]\n${tail}` : head + tail);
  // What goes into an error message: the sanitizer report if there is one (from its first
  // marker on), else the end of stderr; bounded either way.
  const excerpt = (max = 16 * 1024) => {
    const text = stderrText();
    let from = Math.max(0, text.length - 4096);
    if (sanitizer) {
      const at = SANITIZER_MARKERS.map((m) => text.indexOf(m)).filter((i) => i >= 0);
      if (at.length) from = Math.max(0, text.lastIndexOf('\n', Math.min(...at)) - 80);
    }
    const out = text.slice(from);
    return `${from > 0 ? '[...]\n' : ''}${out.length > max ? `${out.slice(0, max)}\n[...]` : out}`;
  };

  let exit = null; // { code, signal }
  let spawnError = null;
  const exited = new Promise((resolve) => {
    proc.once('error', (e) => {
      spawnError = e;
      exit = exit || { code: null, signal: null };
      running.delete(proc);
      resolve();
    });
    proc.once('close', (code, signal) => {
      exit = { code, signal };
      running.delete(proc);
      resolve();
    });
  });

  const describeProc = () => `${path.relative(REPO_ROOT, file) || file} ${argv.join(' ')}`;

  // Wait until it accepts connections (or dies).
  const deadline = Date.now() + (opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
  for (;;) {
    if (exit) {
      throw new Error(
        `server exited before accepting connections (${spawnError ? spawnError.message : `code ${exit.code}, signal ${exit.signal}`}): ${describeProc()}\n${excerpt()}`,
      );
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      await exited;
      throw new Error(`server did not accept connections within ${opts.readyTimeoutMs ?? READY_TIMEOUT_MS} ms: ${describeProc()}\n${excerpt()}`);
    }
    await sleep(20);
  }

  let stopping = null;
  const srv = {
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    proc,
    target: TARGET,
    stderr: stderrText,
    /** Whether the process is still running. */
    get alive() {
      return exit === null;
    },
    /** Throws if the server has died or reported a sanitizer error so far. */
    check() {
      if (sanitizer) throw new Error(`sanitizer report from the server: ${sanitizer}\n${excerpt()}`);
      if (exit) throw new Error(`the server died (code ${exit.code}, signal ${exit.signal})\n${excerpt()}`);
    },
    /** SIGTERM, wait (SIGKILL after 3 s); throws on a sanitizer report or an unclean exit. */
    stop() {
      if (!stopping) stopping = doStop();
      return stopping;
    },
  };

  async function doStop() {
    const diedEarly = exit ? { ...exit } : null;
    let killed = false;
    if (!exit) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => {
        killed = true;
        proc.kill('SIGKILL');
      }, STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    if (sanitizer) throw new Error(`sanitizer report from the server: ${sanitizer}\n${excerpt()}`);
    if (diedEarly) {
      throw new Error(`the server died during the test (code ${diedEarly.code}, signal ${diedEarly.signal})\n${excerpt()}`);
    }
    if (killed) throw new Error(`the server did not exit within ${STOP_GRACE_MS} ms of SIGTERM\n${excerpt()}`);
    if (exit.code !== 0) {
      throw new Error(`the server exited with code ${exit.code}, signal ${exit.signal} after SIGTERM\n${excerpt()}`);
    }
  }

  return srv;
}
