// Connection state recovery across a cluster: three sio nodes with --recovery on one real
// redis-server, a client reaching them through a switchable TCP balancer (what a load balancer
// does when a backend goes: new connections go to another one). The client's node is drained
// (SIGTERM), then killed (SIGKILL): each time the client reconnects, by itself, to another
// node and recovers there: same id, rooms and data, every missed event once and in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { cluster, emitAck, IS_REF, sleep, until, withTimeout } from '../lib/cluster.mjs';

const skip = IS_REF && 'recovery across a cluster is sio\'s own (the reference cannot do it with Redis Pub/Sub)';

/** A TCP balancer on loopback whose backend can be switched; old connections are cut. */
async function balancer(port) {
  let target = port;
  const conns = new Set();
  const server = net.createServer((down) => {
    const up = net.connect({ host: '127.0.0.1', port: target });
    conns.add(down);
    down.on('close', () => conns.delete(down));
    down.on('error', () => up.destroy());
    up.on('error', () => down.destroy());
    down.pipe(up).pipe(down);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    switchTo(p) { target = p; },
    close() {
      for (const c of conns) c.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Redis, three sio nodes with recovery, and the balancer in front of the first. */
async function threeNodes(t) {
  const cl = await cluster(t);
  const flags = ['--recovery', '--recovery-timeout', '10000'];
  const nodes = [await cl.sio(flags), await cl.sio(flags), await cl.sio(flags)];
  await cl.ready(['/'], 3);
  const lb = await balancer(nodes[0].port);
  t.after(() => lb.close());
  return { cl, nodes, lb };
}

test('a client recovers on another node after its node is drained, then killed', { skip, timeout: 60000 }, async (t) => {
  const { cl, nodes, lb } = await threeNodes(t);

  const a = await cl.client(lb, '/', { reconnection: true, reconnectionDelay: 300, reconnectionDelayMax: 300, randomizationFactor: 0 });
  const sender = await cl.client(nodes[2]); // on the node that stays
  const id = a.id;
  await emitAck(a, 'join', 'r1');
  await emitAck(a, 'set-data', { name: 'alice' });

  const got = [];
  a.on('news', (n) => got.push(n));
  const expected = [];
  let n = 0;
  const send = async (to, except = []) => {
    await emitAck(sender, 'bc', { to, except }, 'news', n);
    if (to.includes('r1') && !except.includes('r1')) expected.push(n);
    n++;
  };
  await send(['r1']);
  await until(() => got.length === 1, 3000, 'the first event');

  const cutAndRecover = async (label, cut, next) => {
    lb.switchTo(nodes[next].port);
    const gone = withTimeout(new Promise((resolve) => a.once('disconnect', resolve)), 5000, `${label}: disconnect`);
    const back = withTimeout(new Promise((resolve) => a.once('connect', resolve)), 8000, `${label}: reconnect`);
    await cut();
    await gone;
    await send(['r1']);
    await send(['r2']);
    await send(['r1', 'r2'], ['r1']);
    await send(['r1']);
    await back;
    assert.equal(a.id, id, `${label}: the same socket id`);
    assert.equal(a.recovered, true, `${label}: recovered`);
    await until(() => got.length >= expected.length, 3000, `${label}: the missed events`);
    await sleep(100);
    assert.deepEqual(got, expected, `${label}: every missed event once, in order`);
    assert.deepEqual(await emitAck(a, 'get-data'), [{ name: 'alice' }, true], `${label}: data`);
    await send(['r1']); // still in its room, on the new node
    await until(() => got.length === expected.length, 3000, `${label}: a live event`);
    assert.deepEqual(got, expected);
  };

  await cutAndRecover('drained', () => nodes[0].stop(), 1);
  const killed = nodes[1];
  await cutAndRecover('killed', async () => {
    const exited = new Promise((resolve) => killed.proc.once('exit', resolve));
    killed.proc.kill('SIGKILL');
    await exited;
    killed.stop = async () => {}; // it is gone on purpose
  }, 2);
});

test('an unknown or expired session gets a new one, in a cluster too', { skip, timeout: 30000 }, async (t) => {
  const cl = await cluster(t);
  const flags = ['--recovery', '--recovery-timeout', '400'];
  const nodes = [await cl.sio(flags), await cl.sio(flags)];
  await cl.ready(['/'], 2);
  const lb = await balancer(nodes[0].port);
  t.after(() => lb.close());
  const a = await cl.client(lb, '/', { reconnection: true, reconnectionDelay: 1000, reconnectionDelayMax: 1000, randomizationFactor: 0 });
  const id = a.id;
  await emitAck(a, 'join', 'r1');
  lb.switchTo(nodes[1].port);
  const back = withTimeout(new Promise((resolve) => a.once('connect', resolve)), 8000, 'reconnect');
  a.emit('drop-transport');
  await back;
  assert.notEqual(a.id, id, 'a new socket id after the recovery timeout');
  assert.equal(a.recovered, false);
  assert.deepEqual(await emitAck(a, 'get-data'), [null, false]);
});

test('broadcasts from two nodes at once, the client\'s node killed mid-stream: each event once, per-sender order kept', { skip, timeout: 60000 }, async (t) => {
  const { cl, nodes, lb } = await threeNodes(t);
  const a = await cl.client(lb, '/', { reconnection: true, reconnectionDelay: 200, reconnectionDelayMax: 200, randomizationFactor: 0 });
  await emitAck(a, 'join', 'r1');
  const got = [];
  a.on('news', (from, i) => got.push(`${from}:${i}`));
  const senders = [await cl.client(nodes[1]), await cl.client(nodes[2])];
  const PER_SENDER = 150;
  let acked = 0;
  const blast = (k) => {
    for (let i = 0; i < PER_SENDER; i++) senders[k].emit('bc', { to: ['r1'] }, 'news', k, i, () => { acked++; });
  };
  lb.switchTo(nodes[1].port);
  const back = withTimeout(new Promise((resolve) => a.once('connect', resolve)), 10000, 'reconnect');
  blast(0);
  blast(1);
  await until(() => got.length >= 40, 5000, 'some events before the cut');
  const exited = new Promise((resolve) => nodes[0].proc.once('exit', resolve));
  nodes[0].proc.kill('SIGKILL');
  await exited;
  nodes[0].stop = async () => {};
  await until(() => acked === 2 * PER_SENDER, 10000, 'every broadcast sent');
  await back;
  assert.equal(a.recovered, true);
  await until(() => got.length >= 2 * PER_SENDER, 5000, `all events (got ${got.length})`);
  await sleep(200);
  assert.equal(new Set(got).size, got.length, 'no duplicates');
  assert.equal(got.length, 2 * PER_SENDER, 'nothing lost');
  for (const k of [0, 1]) {
    const mine = got.filter((e) => e.startsWith(`${k}:`)).map((e) => Number(e.split(':')[1]));
    assert.deepEqual(mine, [...mine].sort((x, y) => x - y), `sender ${k}'s order kept`);
  }
});
