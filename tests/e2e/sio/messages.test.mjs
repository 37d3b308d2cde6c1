// Socket.IO end-to-end: events both ways (binary included), acknowledgements both ways, rooms and
// broadcasts, with the real socket.io-client over websocket only, polling only, and polling
// upgraded to websocket. See src/app/app_conformance.c for the events the app answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, withTimeout, IS_REF } from '../lib/eio.mjs';
import { MODES, once, client, connected } from '../lib/sio.mjs';

const skip = IS_REF && 'the reference server in tests/e2e/ref serves Engine.IO only';

/** Emits with a callback and resolves with every argument of the acknowledgement. */
function emitAck(s, event, ...args) {
  return withTimeout(new Promise((resolve) => s.emit(event, ...args, (...reply) => resolve(reply))), 3000,
    `the acknowledgement of "${event}"`);
}

const bytes = (...b) => Buffer.from(b);

for (const mode of Object.keys(MODES)) {
  test(`[${mode}] "message" comes back as "message-back" with the same JSON arguments`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = await connected(client(ctx, '/', mode), mode);
    const args = [1, '2', { 3: [true] }, null, 1.5, -0.25, 1e21, 'h\u00e9llo \u2713 \ud83d\ude00', '', [], {},
      { deep: { er: [[[['x']]]] } }, 'quote " and \\ and \n'];
    const back = once(s, 'message-back');
    s.emit('message', ...args);
    assert.deepEqual(await back, args);
  });

  test(`[${mode}] binary arguments go both ways, nested and mixed with JSON`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = await connected(client(ctx, '/', mode), mode);
    const back = once(s, 'message-back');
    s.emit('message', bytes(1, 2, 3), { nested: bytes(4, 5, 6), list: [bytes(), 'x'] }, 'text', 7);
    const [a, b, c, d] = await back;
    assert.ok(Buffer.isBuffer(a) && a.equals(bytes(1, 2, 3)));
    assert.ok(Buffer.isBuffer(b.nested) && b.nested.equals(bytes(4, 5, 6)));
    assert.ok(Buffer.isBuffer(b.list[0]) && b.list[0].length === 0);
    assert.equal(b.list[1], 'x');
    assert.equal(c, 'text');
    assert.equal(d, 7);
  });

  test(`[${mode}] a large binary argument round-trips intact`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = await connected(client(ctx, '/', mode), mode);
    const big = Buffer.alloc(400_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const back = once(s, 'message-back', 5000);
    s.emit('message', big);
    const [got] = await back;
    assert.ok(got.equals(big));
  });

  test(`[${mode}] events keep their order`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = await connected(client(ctx, '/', mode), mode);
    const got = [];
    const all = withTimeout(new Promise((resolve) => {
      s.on('message-back', (n) => {
        got.push(n);
        if (got.length === 300) resolve();
      });
    }), 5000, 'all the messages');
    for (let i = 0; i < 300; i++) s.emit('message', i);
    await all;
    assert.deepEqual(got, Array.from({ length: 300 }, (_, i) => i));
  });

  test(`[${mode}] "message-with-ack" is acknowledged with the same arguments`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = await connected(client(ctx, '/', mode), mode);
    assert.deepEqual(await emitAck(s, 'message-with-ack', 1, '2', { 3: [false] }), [1, '2', { 3: [false] }]);
    assert.deepEqual(await emitAck(s, 'message-with-ack'), []);
    assert.equal(await s.timeout(2000).emitWithAck('message-with-ack', 'first', 'second'), 'first');
  });

  test(`[${mode}] acknowledgements carry binary arguments`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = await connected(client(ctx, '/', mode), mode);
    const [a, b] = await emitAck(s, 'message-with-ack', bytes(1, 2, 3), { b: bytes(4, 5, 6) });
    assert.ok(a.equals(bytes(1, 2, 3)));
    assert.ok(b.b.equals(bytes(4, 5, 6)));
  });

  test(`[${mode}] the server's emit with ack gets the client's reply, binary included`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = await connected(client(ctx, '/', mode), mode);
    s.on('question', (...args) => {
      const cb = args.pop();
      cb('reply to', ...args, bytes(9, 8));
    });
    const answer = once(s, 'answer');
    s.emit('ask', 2000, 'q1', { n: 1 });
    const [err, r0, r1, r2, bin] = await answer;
    assert.equal(err, null);
    assert.deepEqual([r0, r1, r2], ['reply to', 'q1', { n: 1 }]);
    assert.ok(bin.equals(bytes(9, 8)));
  });

  test(`[${mode}] the server's emit with ack times out when the client does not answer`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = await connected(client(ctx, '/', mode), mode);
    const asked = once(s, 'question');
    const answer = once(s, 'answer');
    s.emit('ask', 200, 'are you there?');
    const q = await asked;
    assert.equal(q[0], 'are you there?');
    assert.equal(typeof q[1], 'function');
    const started = Date.now();
    assert.deepEqual(await answer, ['operation has timed out']);
    assert.ok(Date.now() - started >= 100);
    q[1]('too late'); // ignored by the server
    const back = once(s, 'message-back');
    s.emit('message', 'still fine');
    assert.deepEqual(await back, ['still fine']);
  });

  test(`[${mode}] rooms: join, leave, and to(room) skips the sender`, { skip }, async (t) => {
    const ctx = await setup(t);
    const a = await connected(client(ctx, '/', mode), mode);
    const b = await connected(client(ctx, '/', mode), mode);
    const c = await connected(client(ctx, '/', mode), mode);
    assert.deepEqual((await emitAck(a, 'join', 'r1'))[0].sort(), [a.id, 'r1'].sort());
    assert.deepEqual((await emitAck(b, 'join', 'r1'))[0].sort(), [b.id, 'r1'].sort());
    const got = [];
    for (const [name, s] of [['a', a], ['b', b], ['c', c]]) s.on('room-message', (...args) => got.push([name, ...args]));
    const aGot = once(a, 'room-message');
    b.emit('to-room', 'r1', 'hi', bytes(7));
    const [text, bin] = await aGot;
    assert.equal(text, 'hi');
    assert.ok(bin.equals(bytes(7)));
    // A round trip on each of them, so that anything wrongly sent would have arrived.
    await Promise.all([a, b, c].map((s) => emitAck(s, 'message-with-ack')));
    assert.deepEqual(got.map((g) => g[0]), ['a']);
    assert.deepEqual((await emitAck(a, 'leave', 'r1'))[0], [a.id]);
    c.emit('to-room', 'r1', 'for b');
    assert.deepEqual(await once(b, 'room-message'), ['for b']);
    // A socket's own room reaches it alone.
    c.emit('to-room', a.id, 'direct');
    assert.deepEqual(await once(a, 'room-message'), ['direct']);
  });

  test(`[${mode}] io.emit reaches every socket of the namespace, and only it`, { skip }, async (t) => {
    const ctx = await setup(t);
    const a = await connected(client(ctx, '/', mode), mode);
    const b = await connected(client(ctx, '/', mode), mode);
    const other = await connected(client(ctx, '/custom', mode), mode);
    let leaked = false;
    other.on('broadcast-message', () => {
      leaked = true;
    });
    const got = Promise.all([once(a, 'broadcast-message'), once(b, 'broadcast-message')]);
    a.emit('broadcast', 'all', bytes(1));
    for (const [text, bin] of await got) {
      assert.equal(text, 'all');
      assert.ok(bin.equals(bytes(1)));
    }
    await emitAck(other, 'message-with-ack');
    assert.equal(leaked, false);
  });

  test(`[${mode}] a broadcast with ack collects every reply`, { skip }, async (t) => {
    const ctx = await setup(t);
    const a = await connected(client(ctx, '/', mode), mode);
    const b = await connected(client(ctx, '/', mode), mode);
    a.on('question', (q, cb) => cb(`a:${q}`));
    b.on('question', (q, cb) => cb(`b:${q}`));
    const answers = once(a, 'answers');
    a.emit('ask-all', 2000, 'q');
    const [err, responses] = await answers;
    assert.equal(err, null);
    assert.deepEqual(responses.sort(), ['a:q', 'b:q']);
  });

  test(`[${mode}] a broadcast with ack times out with the replies it has`, { skip }, async (t) => {
    const ctx = await setup(t);
    const a = await connected(client(ctx, '/', mode), mode);
    const b = await connected(client(ctx, '/', mode), mode);
    a.on('question', (q, cb) => cb('a'));
    b.on('question', () => {}); // never answers
    const answers = once(a, 'answers');
    a.emit('ask-all', 300, 'q');
    assert.deepEqual(await answers, ['operation has timed out', ['a']]);
  });
}

test('many sockets over mixed transports: each broadcast reaches each member once', { skip }, async (t) => {
  const ctx = await setup(t);
  const modes = Object.keys(MODES);
  const sockets = [];
  for (let i = 0; i < 30; i++) sockets.push(client(ctx, '/', modes[i % 3]));
  await Promise.all(sockets.map((s, i) => connected(s, modes[i % 3])));
  // Every socket joins "all" and "m<i % 3>"; the even ones join "even" too.
  await Promise.all(sockets.map(async (s, i) => {
    await emitAck(s, 'join', 'all');
    await emitAck(s, 'join', `m${i % 3}`);
    if (i % 2 === 0) await emitAck(s, 'join', 'even');
  }));
  const counts = sockets.map(() => 0);
  sockets.forEach((s, i) => s.on('room-message', () => { counts[i]++; }));
  const sender = sockets[0];
  sender.emit('to-room', 'all', 'x');   // everyone but the sender
  sender.emit('to-room', 'm1', 'x');    // i % 3 == 1
  sender.emit('to-room', 'even', 'x');  // even i, sender excluded
  // Round trips through every socket: what was sent before has arrived.
  await Promise.all(sockets.map((s) => emitAck(s, 'message-with-ack')));
  await Promise.all(sockets.map((s) => emitAck(s, 'message-with-ack')));
  const expected = sockets.map((_, i) => (i === 0 ? 0 : 1 + (i % 3 === 1 ? 1 : 0) + (i % 2 === 0 ? 1 : 0)));
  assert.deepEqual(counts, expected);
  // Half of them leave; the rooms forget them.
  for (let i = 1; i < 30; i += 2) sockets[i].disconnect();
  for (let i = 0; i < 50; i++) {
    if ((await sender.timeout(2000).emitWithAck('count')) === 15) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await sender.timeout(2000).emitWithAck('count'), 15);
  counts.fill(0);
  sender.emit('to-room', 'all', 'y');
  for (let i = 0; i < 30; i += 2) await emitAck(sockets[i], 'message-with-ack');
  assert.deepEqual(counts, sockets.map((_, i) => (i % 2 === 0 && i !== 0 ? 1 : 0)));
});

test('emits with many distinct ack timeouts each time out on time', { skip }, async (t) => {
  const ctx = await setup(t);
  const s = await connected(client(ctx, '/', 'websocket'), 'websocket');
  s.on('question', () => {}); // never answers
  const arrivals = [];
  let started;
  const all = withTimeout(new Promise((resolve) => {
    s.on('answer', (err) => {
      arrivals.push([err, Date.now() - started]);
      if (arrivals.length === 24) resolve();
    });
  }), 5000, 'all the timeouts');
  // 24 distinct delays: more than the fixed-delay queues kept (the rest get their own timer).
  started = Date.now();
  for (let i = 23; i >= 0; i--) s.emit('ask', 100 + i * 20, i);
  await all;
  arrivals.forEach(([err, ms], k) => {
    assert.equal(err, 'operation has timed out');
    // The k-th timeout to fire cannot come before the k-th deadline.
    assert.ok(ms >= 100 + k * 20 - 10, `timeout #${k} after ${ms} ms`);
  });
  assert.ok(arrivals[23][1] < 100 + 23 * 20 + 1000);
});
