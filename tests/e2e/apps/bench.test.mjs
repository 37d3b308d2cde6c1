// The bench app (src/app/app_bench.c) with the real socket.io-client, over websocket only and
// polling only: "echo" (acknowledged with its arguments), "bcast" and "room-bcast" (as "msg"),
// "join"; the reference's default options; the client bundle served beside the endpoint.
// With SIO_TEST_TARGET=ref the same tests run against tests/e2e/ref/bench-server.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { setup, request, withTimeout, IS_REF } from '../lib/eio.mjs';
import { REPO_ROOT } from '../lib/server.mjs';

const BUNDLE = path.join(REPO_ROOT, 'tests/e2e/node_modules/socket.io-client/dist/socket.io.min.js');
const MODES = { websocket: ['websocket'], polling: ['polling'] };

const start = (t, args = []) => setup(t, args, { app: 'bench', env: { SIO_CLIENT_JS: BUNDLE } });

function once(emitter, event, ms = 3000) {
  return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), ms,
    `waiting for "${event}"`);
}

/** A connected socket.io-client socket on "/", closed at the end of the test. */
async function client(ctx, mode) {
  const s = io(ctx.srv.url, { forceNew: true, reconnection: false, timeout: 3000, transports: MODES[mode] });
  ctx.track(s, () => s.io.engine && s.io.engine.close());
  if (!s.connected) await once(s, 'connect');
  return s;
}

/** Emits with an acknowledgement; resolves with all its arguments. */
function emitAck(s, event, ...args) {
  return withTimeout(new Promise((resolve) => s.emit(event, ...args, (...reply) => resolve(reply))), 3000,
    `the acknowledgement of "${event}"`);
}

/** Collects every "msg" a socket receives (each as the array of its arguments). */
function inbox(s) {
  const got = [];
  s.on('msg', (...args) => got.push(args));
  return got;
}

for (const mode of Object.keys(MODES)) {
  test(`[${mode}] "echo" is acknowledged with the same arguments, binary included`, async (t) => {
    const ctx = await start(t);
    const s = await client(ctx, mode);
    const args = [1, 'two', { three: [3, null, true] }, Buffer.from([1, 2, 3]), { nested: Buffer.from([4]) }];
    const reply = await emitAck(s, 'echo', ...args);
    assert.deepEqual(reply.slice(0, 3), args.slice(0, 3));
    assert.ok(reply[3].equals(args[3]));
    assert.ok(reply[4].nested.equals(args[4].nested));
    assert.deepEqual(await emitAck(s, 'echo'), []);
  });

  test(`[${mode}] "bcast" reaches every socket of "/" as "msg", the sender included`, async (t) => {
    const ctx = await start(t);
    const [a, b, c] = [await client(ctx, mode), await client(ctx, mode), await client(ctx, mode)];
    const all = [once(a, 'msg'), once(b, 'msg'), once(c, 'msg')];
    a.emit('bcast', { n: 1, s: 'x' });
    for (const got of await Promise.all(all)) assert.deepEqual(got, [{ n: 1, s: 'x' }]);

    const bin = [once(b, 'msg'), once(c, 'msg')];
    a.emit('bcast', Buffer.from([9, 8, 7]));
    for (const [payload] of await Promise.all(bin)) assert.ok(payload.equals(Buffer.from([9, 8, 7])));

    const none = once(b, 'msg');
    a.emit('bcast'); // undefined travels as null, as JSON.stringify makes it
    assert.deepEqual(await none, [null]);
  });

  test(`[${mode}] "join" is acknowledged; "room-bcast" reaches the room only`, async (t) => {
    const ctx = await start(t);
    const [a, b, c] = [await client(ctx, mode), await client(ctx, mode), await client(ctx, mode)];
    await emitAck(a, 'join', 'r1');
    await emitAck(b, 'join', 'r1');
    await emitAck(c, 'join', 'r2');
    const [gotA, gotB, gotC] = [inbox(a), inbox(b), inbox(c)];

    // c is not in r1: it sends there (it still reaches the room), then to its own room r2. Any
    // frame queued to c before the second broadcast would arrive before it.
    const both = [once(a, 'msg'), once(b, 'msg')];
    c.emit('room-bcast', 'r1', { hello: 'r1' });
    await Promise.all(both);
    const mine = once(c, 'msg');
    c.emit('room-bcast', 'r2', Buffer.from([1, 2]));
    await mine;
    assert.deepEqual(gotA, [[{ hello: 'r1' }]]);
    assert.deepEqual(gotB, [[{ hello: 'r1' }]]);
    assert.equal(gotC.length, 1);
    assert.ok(gotC[0][0].equals(Buffer.from([1, 2])));

    // without an acknowledgement; b's own next packet is handled after it
    b.emit('join', 'r2');
    const again = [once(b, 'msg'), once(c, 'msg')];
    b.emit('room-bcast', 'r2', 'to r2');
    assert.deepEqual(await Promise.all(again), [['to r2'], ['to r2']]);
    assert.equal(gotA.length, 1);
  });
}

test('the defaults are the reference\'s (pingInterval 25000, pingTimeout 20000, maxPayload 1e6)', async (t) => {
  const ctx = await start(t);
  const res = await request(`${ctx.srv.url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(res.status, 200);
  const open = JSON.parse(res.body.slice(1));
  assert.equal(open.pingInterval, 25000);
  assert.equal(open.pingTimeout, 20000);
  assert.equal(open.maxPayload, 1000000);
  assert.deepEqual(open.upgrades, ['websocket']);
});

test('flags override the defaults', async (t) => {
  const ctx = await start(t, ['--ping-interval', '1234', '--max-payload', '5000']);
  const res = await request(`${ctx.srv.url}/socket.io/?EIO=4&transport=polling`);
  const open = JSON.parse(res.body.slice(1));
  assert.equal(open.pingInterval, 1234);
  assert.equal(open.maxPayload, 5000);
});

test('the client bundle is served at /socket.io/socket.io.js, .min.js and .min.js.map', async (t) => {
  const ctx = await start(t);
  for (const file of ['socket.io.js', 'socket.io.min.js']) {
    const res = await request(`${ctx.srv.url}/socket.io/${file}`);
    assert.equal(res.status, 200, file);
    assert.match(res.headers['content-type'], /^application\/javascript/, file);
    assert.match(res.body, /sourceMappingURL=socket\.io(\.min)?\.js\.map/, file);
    // the reference serves its own copy (an unminified socket.io.js)
    if (!IS_REF) assert.equal(res.body, readFileSync(BUNDLE, 'utf8'), file);
  }
  const map = await request(`${ctx.srv.url}/socket.io/socket.io.min.js.map`);
  assert.equal(map.status, 200);
  assert.match(map.headers['content-type'], /^application\/json/);
  assert.equal(JSON.parse(map.body).version, 3);
});
