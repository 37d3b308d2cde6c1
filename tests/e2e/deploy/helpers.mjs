// Helpers for the deployment tests (tests/e2e/deploy): socket.io-client sockets from a chosen
// loopback source address and/or over TLS, plain HTTP(S) requests, and a local cluster started
// with scripts/cluster (redis-server + N sio-server instances + nginx as the load balancer).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { io } from 'socket.io-client';
import { sleep, withTimeout } from '../lib/eio.mjs';
import { REPO_ROOT } from '../lib/server.mjs';
import { MODES, once } from '../lib/sio.mjs';

export { MODES, once, sleep, withTimeout, REPO_ROOT };

export const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'];

/** The sio-server binary under test (SIO_SERVER_BIN, default build/sio-server), absolute. */
export function serverBin() {
  return path.resolve(REPO_ROOT, process.env.SIO_SERVER_BIN || 'build/sio-server');
}

/** Whether sio-server has the Redis adapter's flag (`--redis URL`). */
export function hasRedisFlag(bin = serverBin()) {
  try {
    return /--redis\b/.test(execFileSync(bin, ['--help'], { encoding: 'utf8', timeout: 5000 }));
  } catch {
    return false;
  }
}

/** An http(s).Agent whose connections leave from `localAddress` (e.g. 127.0.0.2). */
export function agent({ localAddress, secure = false, ...tls } = {}) {
  const opts = { keepAlive: false, ...(localAddress ? { localAddress } : {}), ...tls };
  return secure ? new https.Agent(opts) : new http.Agent(opts);
}

/**
 * A socket.io-client socket on `url`, connected (and upgraded in the "upgrade" mode), closed at
 * the end of test `t`. `localAddress` picks the loopback source address, through the agent (the
 * polling transport takes only an agent) and the websocket transport's own option; TLS options
 * (`rejectUnauthorized`, `ca`) go to both transports.
 */
export async function connect(t, url, { mode = 'websocket', localAddress, tls, wait = true, ...opts } = {}) {
  const secure = url.startsWith('https:');
  const a = agent({ localAddress, secure, ...(tls || {}) });
  const s = io(url, {
    forceNew: true,
    reconnection: false,
    timeout: 4000,
    ...MODES[mode],
    agent: a,
    ...(localAddress ? { localAddress } : {}),
    ...(tls || {}),
    ...opts,
  });
  t.after(() => {
    s.close();
    // not at once: over polling the close travels in one more request through this agent
    setTimeout(() => a.destroy(), 1000).unref();
  });
  if (!wait) return s;
  if (!s.connected) {
    await withTimeout(new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', (e) => reject(new Error(`connect_error: ${e.message}${e.description ? ` (${e.description.message || e.description})` : ''}`)));
    }), 5000, `connecting to ${url} over ${mode}${localAddress ? ` from ${localAddress}` : ''}`);
  }
  if (mode === 'upgrade' && s.io.engine.transport.name !== 'websocket') await once(s.io.engine, 'upgrade', 5000);
  return s;
}

/** Emits with an acknowledgement; resolves with the reply's arguments. */
export function emitAck(s, event, ...args) {
  return withTimeout(new Promise((resolve) => s.emit(event, ...args, (...reply) => resolve(reply))), 4000,
    `the acknowledgement of "${event}"`);
}

/** One GET; resolves with {status, headers, body}. Options: localAddress, TLS options, timeout. */
export function get(url, { localAddress, timeout = 4000, ...tls } = {}) {
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { localAddress, agent: false, timeout, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeout} ms`)));
    req.on('error', reject);
  });
}

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** The first of `count` consecutive ports that were all free a moment ago on 127.0.0.1. */
export async function freePortBlock(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    // below the ephemeral range (32768-60999), where other clients' local ports come and go
    const base = 12000 + Math.floor(Math.random() * 20000);
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports found`);
}

/**
 * Starts `scripts/cluster start` (a foreground process) on a free block of ports and waits for
 * its "ready" line, then for every instance's /readyz (the Redis link up, when there is one).
 * Resolves with {url, port, dir, ports, terminate(i), stop()}; stop() runs `scripts/cluster stop`
 * and throws if the cluster did not end cleanly (every instance exits 0, the drained ones too) or
 * a log has a sanitizer report.
 */
export async function startCluster({
  instances = 3, app = 'bench', balancer = 'nginx', balance = 'hash', redis = false, extra = [],
} = {}) {
  const port = await freePortBlock(instances + 2);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sio-cluster-test-'));
  const args = [path.join(REPO_ROOT, 'scripts/cluster'), 'start', '--port', String(port), '--instances', String(instances),
    '--app', app, '--balancer', balancer, '--balance', balance, redis ? '--redis' : '--no-redis', '--bin', serverBin(),
    '--dir', dir, '--', '--drain-timeout', '1000', '--log-level', 'warn', ...extra];
  const proc = spawn('bash', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (c) => { out += c; });
  proc.stderr.on('data', (c) => { out += c; if (process.env.SIO_TEST_VERBOSE) process.stderr.write(c); });
  const exited = new Promise((resolve) => proc.once('close', (code, signal) => resolve({ code, signal })));
  // The runner may end this process (a timeout): no cluster is left behind then.
  const killAll = () => {
    try { execFileSync('bash', [path.join(REPO_ROOT, 'scripts/cluster'), 'stop', '--dir', dir], { timeout: 5000, stdio: 'ignore' }); } catch { /* gone */ }
    try { proc.kill('SIGKILL'); } catch { /* gone */ }
  };
  process.once('exit', killAll);

  const logs = () => {
    let text = '';
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
      text += `--- ${f}\n${readFileSync(path.join(dir, f), 'utf8').slice(-3000)}\n`;
    }
    return text;
  };
  const ports = Array.from({ length: instances }, (_, i) => port + 1 + i);
  try {
    await withTimeout(new Promise((resolve, reject) => {
      const check = () => { if (/cluster: ready/.test(out)) resolve(); };
      proc.stdout.on('data', check);
      check();
      exited.then(({ code }) => reject(new Error(`scripts/cluster exited with code ${code} before it was ready`)));
    }), 20000, 'starting the cluster');
    await withTimeout((async () => {
      for (const p of ports) {
        while ((await get(`http://127.0.0.1:${p}/readyz`).catch(() => ({}))).status !== 200) await sleep(50);
      }
    })(), 10000, 'every instance ready (/readyz)');
  } catch (e) {
    killAll();
    process.removeListener('exit', killAll);
    throw new Error(`${e.message}\n${out}\n${logs()}`);
  }

  let stopping = null;
  const doStop = async () => {
    await promisify(execFile)('bash', [path.join(REPO_ROOT, 'scripts/cluster'), 'stop', '--dir', dir], { timeout: 40000 });
    const { code, signal } = await withTimeout(exited, 10000, 'the cluster to stop');
    process.removeListener('exit', killAll);
    const text = logs();
    const marker = SANITIZER_MARKERS.find((m) => text.includes(m));
    if (marker) throw new Error(`sanitizer report in the cluster's logs (${marker}):\n${text}`);
    if (code !== 0) throw new Error(`scripts/cluster ended with code ${code}, signal ${signal}:\n${out}\n${text}`);
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    ports,
    output: () => out,
    logs,
    /** SIGTERM to instance `i` (0-based); resolves once it has exited (its drain is over). */
    async terminate(i, ms = 5000) {
      const pid = Number(readFileSync(path.join(dir, `sio-${i + 1}.pid`), 'utf8'));
      process.kill(pid, 'SIGTERM');
      // exited: gone, or a zombie that scripts/cluster has yet to reap
      const running = () => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        } catch {
          return false;
        }
      };
      await withTimeout((async () => {
        while (running()) await sleep(50);
      })(), ms, `instance ${i + 1} (port ${ports[i]}) to exit after SIGTERM`);
    },
    stop() {
      if (!stopping) stopping = doStop();
      return stopping;
    },
  };
}

