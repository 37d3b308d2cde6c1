// The chat app (src/app/app_chat.c), sio-server's default, with the real socket.io-client over
// websocket only and polling only: "join-room", "leave-room", "chat-message" -> "new-message"
// to the room; rooms are isolated; bad input is ignored. Then what it serves over HTTP: the page
// at "/" and the client bundle (found through --client-js / SIO_CLIENT_JS here; a missing one
// answers 404 and the server runs on).
//
// Isolation is checked without sleeping: a socket's frames arrive in the order they were queued,
// so when a later message to a room the socket is in arrives first, nothing was sent to it
// before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { io } from 'socket.io-client';
import { setup, request, withTimeout, IS_REF } from '../lib/eio.mjs';
import { REPO_ROOT } from '../lib/server.mjs';

const skip = IS_REF && 'there is no Node reference of the chat app';
const BUNDLE = path.join(REPO_ROOT, 'tests/e2e/node_modules/socket.io-client/dist/socket.io.min.js');
const MODES = { websocket: ['websocket'], polling: ['polling'] };

const start = (t, args = [], env = { SIO_CLIENT_JS: BUNDLE }) => setup(t, args, { app: 'chat', env });

function once(emitter, event, ms = 3000) {
  return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), ms,
    `waiting for "${event}"`);
}

/** A connected socket on "/", with `got`: the "new-message" payloads it has received. */
async function client(ctx, mode = 'websocket') {
  const s = io(ctx.srv.url, { forceNew: true, reconnection: false, timeout: 3000, transports: MODES[mode] });
  ctx.track(s, () => s.io.engine && s.io.engine.close());
  s.got = [];
  s.on('new-message', (m) => s.got.push(m));
  if (!s.connected) await once(s, 'connect');
  return s;
}

/** Emits with an acknowledgement and resolves with its first argument. */
function ack(s, event, ...args) {
  return withTimeout(new Promise((resolve) => s.emit(event, ...args, resolve)), 3000,
    `the acknowledgement of "${event}"`);
}

const join = async (s, room) => assert.equal(await ack(s, 'join-room', room), true, `join ${room}`);

/** Sends a chat message from `from` and waits until every socket of `to` has it. */
async function say(from, room, text, to) {
  const arrived = to.map((s) => once(s, 'new-message'));
  from.emit('chat-message', { room, user: 'u', text });
  await Promise.all(arrived);
}

const texts = (s) => s.got.map((m) => m.text);

for (const mode of Object.keys(MODES)) {
  test(`[${mode}] a chat message reaches everyone in the room, the sender included`, { skip }, async (t) => {
    const ctx = await start(t);
    const [a, b] = [await client(ctx, mode), await client(ctx, mode)];
    await join(a, 'lobby');
    await join(b, 'lobby');
    const before = Date.now();
    const got = [once(a, 'new-message'), once(b, 'new-message')];
    a.emit('chat-message', { room: 'lobby', user: 'alice', text: 'h\u00e9llo \ud83d\ude00', extra: 'dropped' });
    for (const [m] of await Promise.all(got)) {
      assert.deepEqual(Object.keys(m).sort(), ['text', 'time', 'user']);
      assert.equal(m.user, 'alice');
      assert.equal(m.text, 'h\u00e9llo \ud83d\ude00');
      assert.equal(typeof m.time, 'number');
      assert.ok(Number.isInteger(m.time) && m.time >= before - 1000 && m.time <= Date.now() + 1000, `time ${m.time}`);
    }
  });

  test(`[${mode}] a message to room A never reaches room B`, { skip }, async (t) => {
    const ctx = await start(t);
    const [a, b, c] = [await client(ctx, mode), await client(ctx, mode), await client(ctx, mode)];
    await join(a, 'A');
    await join(b, 'B');
    await join(c, 'A');
    await join(c, 'B');
    await say(a, 'A', 'to A', [a, c]);
    await say(c, 'B', 'to B', [b, c]);
    assert.deepEqual(texts(a), ['to A']);
    assert.deepEqual(texts(b), ['to B']);
    assert.deepEqual(texts(c), ['to A', 'to B']);
  });

  test(`[${mode}] after "leave-room" no more messages from that room`, { skip }, async (t) => {
    const ctx = await start(t);
    const [a, b] = [await client(ctx, mode), await client(ctx, mode)];
    for (const s of [a, b]) {
      await join(s, 'r1');
      await join(s, 'r2');
    }
    await say(b, 'r1', 'first', [a, b]);
    assert.equal(await ack(a, 'leave-room', 'r1'), true);
    await say(b, 'r1', 'second', [b]);
    await say(b, 'r2', 'marker', [a, b]);
    assert.deepEqual(texts(a), ['first', 'marker']);
    // and a cannot post to the room it left
    a.emit('chat-message', { room: 'r1', user: 'a', text: 'not a member' });
    await say(a, 'r2', 'marker 2', [a, b]);
    assert.deepEqual(texts(b), ['first', 'second', 'marker', 'marker 2']);
  });
}

test('bad input is ignored, and the connection stays up', { skip }, async (t) => {
  const ctx = await start(t);
  const [a, b] = [await client(ctx), await client(ctx)];
  await join(a, 'room');
  await join(b, 'room');
  const ok = { room: 'room', user: 'alice', text: 'hi' };
  const bad = [
    [],
    [null],
    ['room'],
    [42],
    [['room', 'alice', 'hi']],
    [{ ...ok, room: 42 }],
    [{ ...ok, room: '' }],
    [{ ...ok, room: 'x'.repeat(65) }],
    [{ ...ok, room: 'other' }], // a room it is not in
    [{ ...ok, room: a.id }], // its own socket id's room
    [{ ...ok, user: undefined }],
    [{ ...ok, user: '' }],
    [{ ...ok, user: 'x'.repeat(33) }],
    [{ ...ok, user: { name: 'alice' } }],
    [{ ...ok, text: undefined }],
    [{ ...ok, text: '' }],
    [{ ...ok, text: 7 }],
    [{ ...ok, text: ['hi'] }],
    [{ ...ok, text: 'x'.repeat(1001) }],
    [{ ...ok, text: '\u00e9'.repeat(1001) }],
    [{ ...ok, text: Buffer.from('hi') }],
    [{ ...ok, text: 'nul \u0000 inside' }],
    [{ ...ok, room: 'room\u0000other' }],
  ];
  for (const args of bad) a.emit('chat-message', ...args);
  for (const room of [42, '', 'x'.repeat(65), null, { room: 'room' }]) {
    assert.equal(await ack(a, 'join-room', room), false, `join-room ${JSON.stringify(room)}`);
  }
  a.emit('join-room'); // no room, no ack: nothing to answer
  assert.equal(await ack(a, 'leave-room', a.id), false, 'leaving its own id room');
  assert.equal(await ack(a, 'leave-room', 17), false);
  // Limits are in characters: 1000 two-byte characters and a 64-character room name pass.
  const long = '\u00e9'.repeat(1000);
  await say(a, 'room', long, [a, b]);
  assert.ok(a.connected && b.connected);
  assert.deepEqual(texts(b), [long]);
  await join(a, 'r'.repeat(64));
});

test('a socket is in at most 16 chat rooms', { skip }, async (t) => {
  const ctx = await start(t);
  const s = await client(ctx);
  for (let i = 0; i < 16; i++) await join(s, `room ${i}`);
  assert.equal(await ack(s, 'join-room', 'one too many'), false);
  assert.equal(await ack(s, 'join-room', 'room 3'), true, 'a room it is in already');
  assert.equal(await ack(s, 'leave-room', 'room 3'), true);
  assert.equal(await ack(s, 'join-room', 'one too many'), true);
});

test('the page at "/" loads the client bundle from the Socket.IO path', { skip }, async (t) => {
  const ctx = await start(t);
  const page = await request(`${ctx.srv.url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /^text\/html/);
  assert.match(page.body, /<script src="\/socket\.io\/socket\.io\.js"><\/script>/);
  assert.doesNotMatch(page.body, /__SIO_PATH__/);
  const js = await request(`${ctx.srv.url}/socket.io/socket.io.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers['content-type'], /^application\/javascript/);
  assert.equal(js.body, readFileSync(BUNDLE, 'utf8'));
});

test('with --path the page and the bundle follow the path', { skip }, async (t) => {
  const ctx = await start(t, ['--path', '/rt']);
  const page = await request(`${ctx.srv.url}/`);
  assert.match(page.body, /<script src="\/rt\/socket\.io\.js"><\/script>/);
  assert.match(page.body, /path: '\/rt\/'/);
  assert.equal((await request(`${ctx.srv.url}/rt/socket.io.js`)).status, 200);
  assert.equal((await request(`${ctx.srv.url}/rt/socket.io.min.js.map`)).status, 200);
});

test('--client-js wins over SIO_CLIENT_JS', { skip }, async (t) => {
  const ctx = await start(t, ['--client-js', BUNDLE], { SIO_CLIENT_JS: '/nonexistent/socket.io.min.js' });
  const js = await request(`${ctx.srv.url}/socket.io/socket.io.min.js`);
  assert.equal(js.status, 200);
  assert.equal(js.body, readFileSync(BUNDLE, 'utf8'));
});

test('without a client bundle: 404 at its paths, one warning, and the chat still works', { skip }, async (t) => {
  const ctx = await start(t, [], { SIO_CLIENT_JS: '/nonexistent/socket.io.min.js' });
  for (const file of ['socket.io.js', 'socket.io.min.js', 'socket.io.min.js.map']) {
    assert.equal((await request(`${ctx.srv.url}/socket.io/${file}`)).status, 404, file);
  }
  const warnings = ctx.srv.stderr().split('\n').filter((l) => /warn .*client bundle/.test(l));
  assert.equal(warnings.length, 1, ctx.srv.stderr());
  assert.match(warnings[0], /\/nonexistent\/socket\.io\.min\.js/);
  const s = await client(ctx);
  await join(s, 'lobby');
  await say(s, 'lobby', 'still here', [s]);
});
