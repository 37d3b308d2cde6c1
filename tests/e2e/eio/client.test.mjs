// The real engine.io-client (npm) against the server: polling only, websocket only, and
// polling with the upgrade to websocket. Each connects, exchanges text and binary messages and
// closes cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import { setup, withTimeout } from '../lib/eio.mjs';

function once(emitter, event, ms, label = event) {
  return withTimeout(new Promise((resolve, reject) => {
    emitter.once(event, (...args) => resolve(args));
    if (event !== 'error') emitter.once('error', (e) => reject(new Error(`engine.io-client error: ${e && e.message}`)));
  }), ms, `engine.io-client ${label}`);
}

/** Collects `n` messages. */
function messages(socket, n, ms = 3000) {
  return withTimeout(new Promise((resolve) => {
    const got = [];
    const onMessage = (m) => {
      got.push(m);
      if (got.length === n) {
        socket.off('message', onMessage);
        resolve(got);
      }
    };
    socket.on('message', onMessage);
  }), ms, `${n} messages`);
}

function asBytes(m) {
  assert.notEqual(typeof m, 'string', 'a binary message');
  return [...new Uint8Array(m.buffer ? m.buffer.slice(m.byteOffset, m.byteOffset + m.byteLength) : m)];
}

async function exchange(socket) {
  const got = messages(socket, 4);
  socket.send('hello');
  socket.send(Uint8Array.from([1, 2, 3, 250]));
  socket.send('héllo ✓ 😀');
  socket.send(new Uint8Array(0));
  const [a, b, c, d] = await got;
  assert.equal(a, 'hello');
  assert.deepEqual(asBytes(b), [1, 2, 3, 250]);
  assert.equal(c, 'héllo ✓ 😀');
  assert.deepEqual(asBytes(d), []);
}

async function closeCleanly(socket) {
  const closed = once(socket, 'close', 2000);
  socket.close();
  const [reason] = await closed;
  assert.equal(reason, 'forced close');
}

test('engine.io-client over polling only connects, echoes text and binary, and closes cleanly', async (t) => {
  const ctx = await setup(t);
  const socket = ctx.track(new Socket(ctx.srv.url, { path: '/engine.io/', transports: ['polling'] }), () => socket.close());
  await once(socket, 'open', 3000);
  assert.equal(socket.transport.name, 'polling');
  await exchange(socket);
  await closeCleanly(socket);
});

test('engine.io-client over websocket only connects, echoes text and binary, and closes cleanly', async (t) => {
  const ctx = await setup(t);
  const socket = ctx.track(new Socket(ctx.srv.url, { path: '/engine.io/', transports: ['websocket'] }), () => socket.close());
  await once(socket, 'open', 3000);
  assert.equal(socket.transport.name, 'websocket');
  await exchange(socket);
  await closeCleanly(socket);
});

test('engine.io-client over polling upgrades to websocket, echoes text and binary, and closes cleanly', async (t) => {
  const ctx = await setup(t);
  const socket = ctx.track(new Socket(ctx.srv.url, { path: '/engine.io/', transports: ['polling', 'websocket'] }), () => socket.close());
  const upgraded = once(socket, 'upgrade', 3000);
  await once(socket, 'open', 3000);
  // messages sent while the upgrade is under way must not be lost
  const early = messages(socket, 1);
  socket.send('during upgrade');
  const [transport] = await upgraded;
  assert.equal(transport.name, 'websocket');
  assert.equal(socket.transport.name, 'websocket');
  assert.deepEqual(await early, ['during upgrade']);
  await exchange(socket);
  await closeCleanly(socket);
});

test('engine.io-client with --no-upgrades stays on polling', async (t) => {
  const ctx = await setup(t, ['--no-upgrades']);
  const socket = ctx.track(new Socket(ctx.srv.url, { path: '/engine.io/', transports: ['polling', 'websocket'] }), () => socket.close());
  let upgraded = false;
  socket.on('upgrade', () => {
    upgraded = true;
  });
  await once(socket, 'open', 3000);
  await exchange(socket);
  assert.equal(upgraded, false);
  assert.equal(socket.transport.name, 'polling');
  await closeCleanly(socket);
});

test('twenty engine.io-clients at once each get their own echoes', async (t) => {
  const ctx = await setup(t);
  const sockets = [];
  for (let i = 0; i < 20; i++) {
    const s = new Socket(ctx.srv.url, { path: '/engine.io/', transports: i % 2 ? ['websocket'] : ['polling', 'websocket'] });
    sockets.push(ctx.track(s, () => s.close()));
  }
  await Promise.all(sockets.map((s) => once(s, 'open', 5000)));
  await Promise.all(sockets.map(async (s, i) => {
    const got = messages(s, 1);
    s.send(`client ${i}`);
    assert.deepEqual(await got, [`client ${i}`]);
  }));
  await Promise.all(sockets.map((s) => closeCleanly(s)));
});
