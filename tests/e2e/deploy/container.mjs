// The checks that scripts/container-test runs against the sio image (docker/Dockerfile), started
// by it with podman on loopback: not a *.test.mjs file, so the end-to-end run leaves it alone.
//   SIO_CT_CHAT_URL=http://127.0.0.1:P1 SIO_CT_BENCH_URL=http://127.0.0.1:P2 \
//     node --test tests/e2e/deploy/container.mjs
// SIO_CT_CHAT_URL: a container with the image's defaults (the chat app); SIO_CT_BENCH_URL: one
// with SIO_APP=bench.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, emitAck, get, once, withTimeout } from './helpers.mjs';

const CHAT = process.env.SIO_CT_CHAT_URL;
const BENCH = process.env.SIO_CT_BENCH_URL;
if (!CHAT || !BENCH) throw new Error('set SIO_CT_CHAT_URL and SIO_CT_BENCH_URL (scripts/container-test does)');

test('chat (the default app): the page, the client bundle from the image, /healthz and /metrics', async () => {
  const page = await get(`${CHAT}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers['content-type'], /text\/html/);
  assert.match(page.body, /\/socket\.io\/socket\.io\.js/);
  const js = await get(`${CHAT}/socket.io/socket.io.js`);
  assert.equal(js.status, 200, 'the socket.io client bundle is not in the image');
  assert.match(js.headers['content-type'], /javascript/);
  assert.ok(js.body.length > 10000, `bundle of ${js.body.length} bytes`);
  assert.deepEqual(await get(`${CHAT}/healthz`).then((r) => [r.status, r.body]), [200, 'ok\n']);
  assert.match((await get(`${CHAT}/metrics`)).body, /^sio_sockets\{/m);
});

test('chat: a message to a room reaches both members (websocket and polling), not others', async (t) => {
  const ann = await connect(t, CHAT, { mode: 'websocket' });
  const bob = await connect(t, CHAT, { mode: 'polling' });
  const eve = await connect(t, CHAT, { mode: 'upgrade' });
  assert.deepEqual(await emitAck(ann, 'join-room', 'ops'), [true]);
  assert.deepEqual(await emitAck(bob, 'join-room', 'ops'), [true]);
  const strays = [];
  eve.on('new-message', (m) => strays.push(m));
  const got = [once(ann, 'new-message'), once(bob, 'new-message')];
  ann.emit('chat-message', { room: 'ops', user: 'ann', text: 'deployed' });
  for (const [m] of await Promise.all(got)) {
    assert.equal(m.user, 'ann');
    assert.equal(m.text, 'deployed');
    assert.ok(Math.abs(m.time - Date.now()) < 60000, `time ${m.time}`);
  }
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(strays, []);
});

for (const mode of ['polling', 'websocket', 'upgrade']) {
  test(`bench (SIO_APP=bench): [${mode}] echo is acknowledged with its arguments`, async (t) => {
    const s = await connect(t, BENCH, { mode });
    assert.deepEqual(await emitAck(s, 'echo', 1, 'two', { three: [3] }), [1, 'two', { three: [3] }]);
  });
}

test('bench: a room broadcast between two clients', async (t) => {
  const a = await connect(t, BENCH, { mode: 'websocket' });
  const b = await connect(t, BENCH, { mode: 'polling' });
  await emitAck(a, 'join', 'r');
  await emitAck(b, 'join', 'r');
  const got = withTimeout(Promise.all([once(a, 'msg'), once(b, 'msg')]), 4000, 'the room broadcast');
  b.emit('room-bcast', 'r', { hello: 'room' });
  assert.deepEqual(await got, [[{ hello: 'room' }], [{ hello: 'room' }]]);
});
