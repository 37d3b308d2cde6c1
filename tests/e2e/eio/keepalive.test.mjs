// HTTP keep-alive: a connection idle between requests is closed after the idle time (sio times
// it itself, SIO_HTTP_IDLE_TIMEOUT in ms, not libwebsockets), a request in progress resets it,
// and a held long-polling GET is not cut by it (the session's heartbeat governs a held GET).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setup, pollingHandshake, parseOpen, EIO_PATH, IS_REF } from '../lib/eio.mjs';

const IDLE_MS = 600;
const SKIP = IS_REF ? 'the idle time is set through sio\'s SIO_HTTP_IDLE_TIMEOUT' : false;

/** One keep-alive TCP connection speaking HTTP/1.1, one request at a time. */
function keepAliveConnection(port) {
  const sock = net.connect({ port, host: '127.0.0.1' });
  let buf = Buffer.alloc(0);
  let waiter = null;
  let closedAt = null;
  const closed = new Promise((resolve) => {
    const done = () => {
      if (closedAt === null) closedAt = Date.now();
      if (waiter) waiter.reject(new Error('connection closed before a response'));
      resolve(closedAt);
    };
    sock.on('close', done);
    sock.on('error', done);
  });
  const tryParse = () => {
    if (!waiter) return;
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.subarray(0, end).toString('latin1');
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const len = m ? Number(m[1]) : 0;
    if (buf.length < end + 4 + len) return;
    const body = buf.subarray(end + 4, end + 4 + len).toString('utf8');
    buf = buf.subarray(end + 4 + len);
    const w = waiter;
    waiter = null;
    clearTimeout(w.timer);
    w.resolve({ status: Number(head.split(' ')[1]), head, body });
  };
  sock.on('data', (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    tryParse();
  });
  const connected = new Promise((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  return {
    closed,
    isClosed: () => closedAt !== null,
    async get(pathAndQuery, timeoutMs = 5000) {
      await connected;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = null;
          reject(new Error(`no response within ${timeoutMs} ms`));
        }, timeoutMs);
        waiter = { resolve, reject, timer };
        sock.write(`GET ${pathAndQuery} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`);
        tryParse();
      });
    },
    destroy: () => sock.destroy(),
  };
}

test('an idle keep-alive connection is closed after the idle time, counted from its last response', { skip: SKIP }, async (t) => {
  const ctx = await setup(t, [], { env: { SIO_HTTP_IDLE_TIMEOUT: String(IDLE_MS) } });
  const conn = keepAliveConnection(ctx.srv.port);
  t.after(() => conn.destroy());
  const first = await conn.get(`${EIO_PATH}?EIO=4&transport=polling`);
  assert.equal(first.status, 200);
  parseOpen(first.body);

  // A second request on the same connection before the idle time is up is served, and restarts it.
  await new Promise((r) => setTimeout(r, IDLE_MS / 2));
  assert.equal(conn.isClosed(), false, 'closed before the idle time');
  const second = await conn.get(`${EIO_PATH}?EIO=4&transport=polling`);
  assert.equal(second.status, 200);
  const answeredAt = Date.now();

  const closedAt = await Promise.race([
    conn.closed,
    new Promise((_, reject) => setTimeout(() => reject(new Error('idle connection still open after 5 s')), 5000)),
  ]);
  const idle = closedAt - answeredAt;
  assert.ok(idle >= IDLE_MS - 100, `closed after ${idle} ms of idleness, before the idle time (${IDLE_MS} ms)`);
  assert.ok(idle < IDLE_MS + 2000, `closed after ${idle} ms of idleness`);
});

test('a held long-polling GET outlives the idle time: the session\'s heartbeat answers it', { skip: SKIP }, async (t) => {
  const PING_MS = 1500;
  const ctx = await setup(t, ['--ping-interval', String(PING_MS), '--ping-timeout', '2000'], {
    env: { SIO_HTTP_IDLE_TIMEOUT: '300' },
  });
  const { sid } = await pollingHandshake(ctx);
  const conn = keepAliveConnection(ctx.srv.port);
  t.after(() => conn.destroy());
  const started = Date.now();
  const held = await conn.get(`${EIO_PATH}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`, PING_MS + 3000);
  const waited = Date.now() - started;
  assert.equal(held.status, 200);
  assert.equal(held.body, '2', 'the held GET ends with the ping');
  assert.ok(waited >= PING_MS - 300, `answered after ${waited} ms, before the ping interval`);
  assert.equal(conn.isClosed(), false);
});
