// Connection state recovery (--recovery) on one server, with the real socket.io-client and its
// own auto-reconnect: after a short disconnection the socket comes back with the same id,
// `recovered` true, its rooms and data, and every packet it missed, once and in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, sleep, withTimeout, IS_REF } from '../lib/eio.mjs';
import { once, client, connected } from '../lib/sio.mjs';

const skip = IS_REF && 'the reference server in tests/e2e/ref serves Engine.IO only';

/** Emits with an acknowledgement and resolves with the reply's arguments. */
function call(s, event, ...args) {
  return withTimeout(new Promise((resolve) => s.emit(event, ...args, (...reply) => resolve(reply))), 3000,
    `the ack of "${event}"`);
}

async function until(what, cond, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const reconnecting = { reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 300, randomizationFactor: 0 };

for (const mode of ['websocket', 'polling']) {
  test(`[${mode}] the server drops the transport: same id, rooms, data and every missed event, repeatedly`, { skip }, async (t) => {
    const ctx = await setup(t, ['--recovery', '--recovery-timeout', '5000']);
    const a = await connected(client(ctx, '/', mode, reconnecting), mode);
    ctx.track(a, () => a.disconnect());
    const sender = await connected(client(ctx, '/', 'websocket'), 'websocket');
    const id = a.id;
    assert.equal(a.recovered, false);
    await call(a, 'join', 'r1');
    await call(a, 'set-data', { name: 'alice' });

    const got = [];
    a.on('news', (n, offset) => {
      assert.equal(typeof offset, 'string', 'a replayable event carries its offset last');
      got.push(n);
    });
    let n = 0;
    const expected = [];
    const send = async (to, except) => {
      const spec = { to, ...(except ? { except } : {}) };
      await call(sender, 'bc', spec, 'news', n);
      if (to.includes('r1') && !(except || []).includes('r1')) expected.push(n);
      n++;
    };
    await send(['r1']);
    await until('the first event', () => got.length === 1);

    for (let round = 1; round <= 3; round++) {
      const gone = once(a, 'disconnect');
      const back = once(a, 'connect', 5000);
      a.emit('drop-transport');
      assert.equal((await gone)[0], 'transport close');
      await send(['r1']);
      await send(['r2']); // a room it is not in
      await send(['r1', 'r2'], ['r1']); // excepted
      await send(['r1']);
      await back;
      assert.equal(a.id, id, `round ${round}: the same socket id`);
      assert.equal(a.recovered, true, `round ${round}: recovered`);
      await until(`round ${round}: the missed events`, () => got.length >= expected.length);
      await sleep(50); // nothing more may come
      assert.deepEqual(got, expected, `round ${round}: every missed event once, in order`);
      assert.deepEqual(await call(a, 'get-data'), [{ name: 'alice' }, true]);
    }
    // Still in its room, and live events flow as before.
    await send(['r1']);
    await until('a live event', () => got.length === expected.length);
    assert.deepEqual(got, expected);
  });
}

test('a client cut off on its side, that had received no event yet, recovers too (chat app)', { skip }, async (t) => {
  const ctx = await setup(t, ['--recovery'], { app: 'chat' });
  const a = await connected(client(ctx, '/', 'websocket', reconnecting), 'websocket');
  ctx.track(a, () => a.disconnect());
  const b = await connected(client(ctx, '/', 'websocket'), 'websocket');
  const id = a.id;
  assert.deepEqual(await call(a, 'join-room', 'lobby'), [true]);
  assert.deepEqual(await call(b, 'join-room', 'lobby'), [true]);
  const got = [];
  a.on('new-message', (m) => got.push(m.text));
  const seenByB = [];
  b.on('new-message', (m) => seenByB.push(m.text));

  const gone = once(a, 'disconnect');
  const back = once(a, 'connect', 5000);
  a.io.engine.close(); // the network goes, as far as the client knows
  await gone;
  await sleep(50); // the server has seen the connection close
  for (const text of ['one', 'two', 'three']) b.emit('chat-message', { room: 'lobby', user: 'bob', text });
  await until('b to see its messages', () => seenByB.length === 3);
  await back;
  assert.equal(a.id, id);
  assert.equal(a.recovered, true);
  await until('the missed messages', () => got.length >= 3);
  await sleep(50);
  assert.deepEqual(got, ['one', 'two', 'three']);
  // and it is still in the room
  b.emit('chat-message', { room: 'lobby', user: 'bob', text: 'four' });
  await until('a live message', () => got.length === 4);
  assert.deepEqual(got, ['one', 'two', 'three', 'four']);
});

test('after the recovery timeout the client gets a fresh session', { skip }, async (t) => {
  const ctx = await setup(t, ['--recovery', '--recovery-timeout', '300']);
  const slow = { ...reconnecting, reconnectionDelay: 900, reconnectionDelayMax: 900 };
  const a = await connected(client(ctx, '/', 'websocket', slow), 'websocket');
  ctx.track(a, () => a.disconnect());
  const id = a.id;
  await call(a, 'join', 'r1');
  await call(a, 'set-data', { name: 'alice' });
  const back = once(a, 'connect', 5000);
  a.emit('drop-transport');
  await back;
  assert.notEqual(a.id, id, 'a new socket id');
  assert.equal(a.recovered, false);
  assert.deepEqual(await call(a, 'get-data'), [null, false]);
  const rooms = await call(a, 'join', 'r2');
  assert.deepEqual(rooms.flat().sort(), [a.id, 'r2'].sort(), 'the old rooms are gone');
});

test('recovery is off by default: no pid, no offsets, no recovery', { skip }, async (t) => {
  const ctx = await setup(t);
  const a = await connected(client(ctx, '/', 'websocket', reconnecting), 'websocket');
  ctx.track(a, () => a.disconnect());
  const sender = await connected(client(ctx, '/', 'websocket'), 'websocket');
  assert.equal(a._pid, undefined, 'no pid in the CONNECT reply');
  await call(a, 'join', 'r1');
  const got = once(a, 'news');
  await call(sender, 'bc', { to: ['r1'] }, 'news', 1);
  assert.deepEqual(await got, [1], 'no offset argument');
  const id = a.id;
  const back = once(a, 'connect', 5000);
  a.emit('drop-transport');
  await back;
  assert.notEqual(a.id, id);
  assert.ok(!a.recovered);
});
