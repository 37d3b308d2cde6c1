// The checks that scripts/container-test runs against the topology of docker/compose.yaml, set
// up by it on loopback: three containers of the sio image with compose's environment (the chat
// app, joined through Redis), Redis, and nginx with docker/nginx.conf in front. Not a *.test.mjs
// file, so the end-to-end run leaves it alone.
//   SIO_CT_LB_URL=http://127.0.0.1:P SIO_CT_INSTANCES=P1,P2,P3 node --test tests/e2e/deploy/compose.mjs
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, emitAck, get, once, sleep } from './helpers.mjs';

const LB = process.env.SIO_CT_LB_URL;
const INSTANCES = (process.env.SIO_CT_INSTANCES || '').split(',').filter(Boolean).map(Number);
if (!LB || INSTANCES.length !== 3) throw new Error('set SIO_CT_LB_URL and SIO_CT_INSTANCES (scripts/container-test does)');


// Source addresses by instance port, found through the balancer's X-Sio-Upstream header.
const byInstance = new Map();
before(async () => {
  for (let i = 2; i < 100 && byInstance.size < INSTANCES.length; i++) {
    const addr = `127.0.0.${i}`;
    const res = await get(`${LB}/healthz`, { localAddress: addr });
    const port = Number((res.headers['x-sio-upstream'] || '').split(':')[1]);
    if (!byInstance.has(port)) byInstance.set(port, addr);
  }
});

test('the chat page and its client bundle through nginx; the source addresses reach all 3 instances', async () => {
  const page = await get(`${LB}/`);
  assert.equal(page.status, 200);
  assert.match(page.body, /\/socket\.io\/socket\.io\.js/);
  assert.equal((await get(`${LB}/socket.io/socket.io.js`)).status, 200);
  assert.deepEqual([...byInstance.keys()].sort(), [...INSTANCES].sort());
});

test('chat through nginx on each instance: clients over every transport talk in a room', async (t) => {
  const modes = ['polling', 'websocket', 'upgrade'];
  for (const [i, port] of INSTANCES.entries()) {
    // from one source address: the same instance for all three (sticky)
    const addr = byInstance.get(port);
    const room = `room-${port}`;
    const members = await Promise.all(modes.map((mode) => connect(t, LB, { mode, localAddress: addr })));
    for (const s of members) assert.deepEqual(await emitAck(s, 'join-room', room), [true]);
    const sender = members[i];
    const got = members.map((s) => once(s, 'new-message', 4000));
    sender.emit('chat-message', { room, user: 'ann', text: `on ${port}` });
    for (const [m] of await Promise.all(got)) assert.deepEqual([m.user, m.text], ['ann', `on ${port}`]);
  }
});

test('every instance is ready, with its Redis link up', async () => {
  for (const port of INSTANCES) {
    assert.equal((await get(`http://127.0.0.1:${port}/readyz`)).status, 200, `/readyz of ${port}`);
    const { body } = await get(`http://127.0.0.1:${port}/metrics`);
    assert.ok(/^sio_redis_link_up\{[^}]*\} 1$/m.test(body), `the instance on ${port} has no Redis link (sio_redis_link_up)`);
  }
});

test('chat across instances: a room message reaches the members on every instance, over every transport', async (t) => {
  const modes = ['polling', 'websocket', 'upgrade'];
  const members = await Promise.all(INSTANCES.map((port, i) => connect(t, LB, { mode: modes[i], localAddress: byInstance.get(port) })));
  for (const s of members) assert.deepEqual(await emitAck(s, 'join-room', 'ops'), [true]);
  await sleep(100); // the joins are local; the messages go through Redis
  for (const [k, sender] of members.entries()) {
    const got = members.map((s) => once(s, 'new-message', 4000));
    sender.emit('chat-message', { room: 'ops', user: `user${k}`, text: `from ${modes[k]}` });
    for (const [m] of await Promise.all(got)) {
      assert.equal(m.user, `user${k}`);
      assert.equal(m.text, `from ${modes[k]}`);
    }
  }
});
