// Helpers for the cluster tests (tests/e2e/cluster): a real redis-server on a free loopback port
// (no persistence), sio-server nodes joined to it (--redis), Node.js socket.io nodes with
// @socket.io/redis-adapter (ref/cluster-node.mjs), socket.io-client sockets on any of them, and
// a wait for the cluster to be complete (every server subscribed).
//
//   const cl = await cluster(t);                     // redis + cleanup at the end of the test
//   const a = await cl.sio(); const n = await cl.node();
//   await cl.ready(['/'], 2);                        // 2 servers subscribed on "/"
//   const s = await cl.client(a, '/');
//
// With SIO_TEST_TARGET=ref every "sio" node is a Node.js one instead, so that the tests can be
// checked against the reference alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { createClient } from 'redis';
import { io as ioc } from 'socket.io-client';
import { startServer, freePort, canConnect, REPO_ROOT, IS_REF } from './server.mjs';
import { sleep, withTimeout, request } from './eio.mjs';

export { IS_REF, sleep, withTimeout, request };

const REDIS_BIN = process.env.REDIS_SERVER_BIN || 'redis-server';

/** The next `event` of `emitter`, as the array of its arguments. */
export function once(emitter, event, ms = 3000) {
  return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), ms,
    `waiting for "${event}"`);
}

/** Emits with an acknowledgement; resolves with the reply's arguments. */
export function emitAck(s, event, ...args) {
  return withTimeout(new Promise((resolve) => s.emit(event, ...args, (...reply) => resolve(reply))), 8000,
    `the acknowledgement of "${event}"`);
}

/** Records every `event` a socket receives (each as the array of its arguments). */
export function inbox(s, event) {
  const got = [];
  s.on(event, (...args) => got.push(args));
  return got;
}

/** ms to wait for stray duplicates after the expected messages arrived. */
export const SETTLE = 300;

/**
 * Waits until each inbox of `boxes` has its count in `expect`, then a little longer, and checks
 * that the counts are exactly those (no duplicates, nobody else).
 */
export async function expectExactly(boxes, expect, label) {
  await until(() => boxes.every((b, i) => b.length >= expect[i]), 5000, label);
  await sleep(SETTLE);
  assert.deepEqual(boxes.map((b) => b.length), expect, `${label}: deliveries per socket`);
}

/** Resolves once `pred()` holds, polling; rejects after `ms`. */
export async function until(pred, ms = 5000, label = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > deadline) throw new Error(`${label}: not reached within ${ms} ms`);
    await sleep(20);
  }
}

/** Whether the redis-server on `port` answers PING. */
const ping = (port) => canConnect(port, { send: 'PING\r\n', expect: '+PONG' });

/** A redis-server of our own; kill() and start() again on the same port for fault tests. */
export async function startRedis() {
  const port = await freePort();
  let proc = null;
  let exited = null;
  const r = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      proc = spawn(REDIS_BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--protected-mode', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      proc.stderr.on('data', (d) => { err += d; });
      exited = new Promise((resolve) => proc.once('exit', resolve));
      const deadline = Date.now() + 5000;
      while (!(await ping(port))) {
        if (proc.exitCode !== null) throw new Error(`redis-server exited: ${err}`);
        if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port}: ${err}`);
        await sleep(20);
      }
    },
    /** SIGKILL: the connections drop at once, as in a crash. */
    async kill() {
      if (!proc || proc.exitCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    },
  };
  await r.start();
  return r;
}

/** A Node.js cluster member (ref/cluster-node.mjs). */
export async function startNode(redisUrl, extra = []) {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.join(REPO_ROOT, 'tests/e2e/ref/cluster-node.mjs'), '--port', String(port),
    '--redis', redisUrl, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    err += d;
    if (process.env.SIO_TEST_VERBOSE) process.stderr.write(d);
  });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`cluster-node exited: ${err}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`cluster-node did not listen: ${err}`);
    }
    await sleep(20);
  }
  return {
    kind: 'node',
    port,
    url: `http://127.0.0.1:${port}`,
    name: `node:${port}`,
    proc,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        const { code } = await exited;
        clearTimeout(t);
        if (code !== 0) throw new Error(`cluster-node exited with ${code}: ${err}`);
      }
    },
  };
}

/** An sio-server cluster member (conformance app, --redis); a Node one with SIO_TEST_TARGET=ref. */
export async function startSio(redisUrl, extra = []) {
  if (IS_REF) return startNode(redisUrl, extra);
  const srv = await startServer(['--redis', redisUrl, '--log-level', 'warn', ...extra]);
  srv.kind = 'sio';
  srv.name = `sio:${srv.port}`;
  // Wait for its link: /readyz is 503 while Redis is configured and the link is down.
  await until(async () => (await request(`${srv.url}/readyz`)).status === 200, 5000, `${srv.name} ready`);
  return srv;
}

/**
 * A cluster for one test: its redis-server, the servers started through it, their clients,
 * all stopped at the end (a sanitizer report or an unclean exit of an sio node fails the test).
 */
export async function cluster(t, opts = {}) {
  const redis = await startRedis();
  const servers = [];
  const clients = [];
  const admin = createClient({ url: redis.url });
  admin.on('error', () => {});
  await admin.connect();
  t.after(async () => {
    for (const c of clients.reverse()) {
      try { c.disconnect(); } catch { /* gone */ }
    }
    try { await admin.disconnect(); } catch { /* redis may be gone */ }
    const errors = [];
    for (const s of servers) {
      try { await s.stop(); } catch (e) { errors.push(e); }
    }
    await redis.stop();
    if (errors.length) {
      console.error(`\n[cluster of test "${t.name}"] ${errors.map((e) => e.message).join('\n')}\n`);
      throw errors[0];
    }
  });
  const prefix = opts.prefix || 'socket.io';
  const cl = {
    redis,
    admin,
    servers,
    async sio(extra = []) {
      const s = await startSio(redis.url, extra);
      servers.push(s);
      return s;
    },
    async node(extra = []) {
      const s = await startNode(redis.url, extra);
      servers.push(s);
      return s;
    },
    /** Subscribers of the request channel of each namespace: one per server. */
    async subscribers(nsp = '/') {
      const [, n] = await admin.sendCommand(['PUBSUB', 'NUMSUB', `${prefix}-request#${nsp}#`]);
      return Number(n);
    },
    /** Waits until `count` servers listen on every namespace of `nsps`. */
    async ready(nsps = ['/'], count = servers.length) {
      for (const nsp of nsps) {
        await until(async () => (await cl.subscribers(nsp)) === count, 5000, `${count} servers subscribed on ${nsp}`);
      }
    },
    /** A connected socket.io-client socket on server `srv`, namespace `nsp`. */
    async client(srv, nsp = '/', o = {}) {
      const s = ioc(`${srv.url}${nsp}`, { forceNew: true, reconnection: false, timeout: 5000, transports: ['websocket'], ...o });
      clients.push(s);
      if (!s.connected) await once(s, 'connect', 5000);
      return s;
    },
    /** Publishes raw bytes on a channel (for emitter-made or malformed messages). */
    publish(channel, data) {
      return admin.publish(channel, data);
    },
  };
  return cl;
}

/**
 * The mixed cluster of most tests: Redis, nodes [sio A, sio B, Node.js N] (all ready on "/" and
 * "/custom"), and two clients per node on "/" (`clients[node][0..1]`; `all` is them in order).
 */
export async function mixedCluster(t, opts = {}) {
  const cl = await cluster(t, opts);
  const extra = opts.prefix ? ['--redis-prefix', opts.prefix] : [];
  const nodes = [await cl.sio(extra), await cl.sio(extra), await cl.node(['--requests-timeout', '2000', ...extra])];
  await cl.ready(['/', '/custom'], 3);
  const clients = [];
  for (const srv of nodes) clients.push([await cl.client(srv), await cl.client(srv)]);
  return { cl, nodes, clients, all: clients.flat() };
}

/** socket.join(room) through the apps' "join" event, checked. */
export async function join(s, room) {
  const [rooms] = await emitAck(s, 'join', room);
  assert.ok(rooms.includes(room), `joined ${room}`);
}

/** The value of a Prometheus metric (first sample whose line starts with `name`). */
export async function metric(srv, name) {
  const { body } = await request(`${srv.url}/metrics`);
  const line = body.split('\n').find((l) => l.startsWith(name) && (l[name.length] === ' ' || l[name.length] === '{'));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined;
}
