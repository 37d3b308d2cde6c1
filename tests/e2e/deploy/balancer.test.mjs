// sio behind a load balancer: scripts/cluster (redis-server + 3 sio-server instances + nginx or
// HAProxy on loopback) with socket.io-client sockets from several loopback source addresses
// (127.0.0.2, 127.0.0.3, ...), so that the balancer's hash of the source address spreads them
// over the instances. The instances run the conformance app, which joins the Redis cluster.
//   - sticky (nginx `hash $remote_addr consistent`, HAProxy `balance source`): every transport
//     mode connects and echoes through the balancer from clients on every instance; room and
//     global broadcasts reach the clients on every instance (through Redis); an instance drained
//     by SIGTERM sends its clients away, they reconnect through the balancer to another instance
//     and keep working;
//   - control (nginx round-robin, no stickiness): a polling session's next request lands on
//     another instance, which answers 400 "Session ID unknown", so polling clients cannot
//     connect; websocket-only clients (one connection) still can.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, emitAck, get, once, sleep, startCluster, withTimeout } from './helpers.mjs';

const INSTANCES = 3;
// The conformance app's heartbeat (300/200 ms) is the protocol suite's; through a balancer, on a
// shared machine under ASan, a calmer one.
const FLAGS = ['--ping-interval', '5000', '--ping-timeout', '5000'];
const RECONNECT = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 300, randomizationFactor: 0 };

/** The instance (its "127.0.0.1:PORT") that the balancer sends `addr`'s requests to. */
async function upstreamOf(cluster, addr) {
  const res = await get(`${cluster.url}/healthz`, { localAddress: addr });
  assert.equal(res.status, 200, `GET /healthz from ${addr}: ${res.status} ${res.body}`);
  const up = res.headers['x-sio-upstream'];
  assert.match(up || '', /^127\.0\.0\.1:\d+$/, `X-Sio-Upstream from ${addr}`);
  return up;
}

/** The `sio_sockets` gauge of namespace "/" of the instance on `port`, read directly. */
async function socketsOn(port) {
  const res = await get(`http://127.0.0.1:${port}/metrics`);
  const m = /^sio_sockets\{[^}]*nsp="\/"\}\s+(\d+)/m.exec(res.body);
  assert.ok(m, `no sio_sockets gauge in the metrics of port ${port}`);
  return Number(m[1]);
}

/** Waits until the instances on `ports` hold `counts[i]` sockets each (closes land late). */
async function socketsSettle(ports, counts) {
  let now = [];
  await withTimeout((async () => {
    for (;;) {
      now = await Promise.all(ports.map(socketsOn));
      if (now.every((n, i) => n === counts[i])) return;
      await sleep(50);
    }
  })(), 4000, `sockets per instance ${JSON.stringify(counts)}`).catch((e) => {
    throw new Error(`${e.message}: have ${JSON.stringify(now)}`);
  });
}

for (const balancer of ['nginx', 'haproxy']) {
  describe(`sticky ${balancer} over ${INSTANCES} instances with Redis`, () => {
    let cluster;
    const byInstance = new Map(); // "127.0.0.1:PORT" -> source addresses sent there

    before(async () => {
      cluster = await startCluster({ instances: INSTANCES, app: 'conformance', balancer, redis: true, extra: FLAGS });
      // Source addresses for every instance, two each (the hash placement is fixed but uneven).
      for (let i = 2; i < 100; i++) {
        const addr = `127.0.0.${i}`;
        const up = await upstreamOf(cluster, addr);
        if (!byInstance.has(up)) byInstance.set(up, []);
        byInstance.get(up).push(addr);
        if (byInstance.size === INSTANCES && [...byInstance.values()].every((a) => a.length >= 2)) break;
      }
    });
    after(() => cluster?.stop());

    /** One source address on each instance (the `n`th of each, for distinct clients). */
    const onePerInstance = (n = 0) => [...byInstance.values()].map((addrs) => addrs[n % addrs.length]);

    test('the source addresses reach every instance, each address always the same one', async () => {
      assert.equal(byInstance.size, INSTANCES, `addresses reached only ${[...byInstance.keys()].join(', ')}`);
      for (const [up, addrs] of byInstance) {
        for (let k = 0; k < 3; k++) assert.equal(await upstreamOf(cluster, addrs[0]), up, `${addrs[0]} moved`);
      }
    });

    for (const mode of ['polling', 'websocket', 'upgrade']) {
      test(`[${mode}] clients on every instance connect and echo through the balancer`, async (t) => {
        // (the clients of the tests before have gone)
        await socketsSettle(cluster.ports, cluster.ports.map(() => 0));
        const sockets = await Promise.all(onePerInstance().map((addr) => connect(t, cluster.url, { mode, localAddress: addr })));
        for (const s of sockets) {
          assert.equal(s.io.engine.transport.name, mode === 'polling' ? 'polling' : 'websocket');
          // several round trips: over polling each is new requests, which must all stick
          for (let i = 0; i < 5; i++) assert.deepEqual(await emitAck(s, 'message-with-ack', { i }, 'x'), [{ i }, 'x']);
        }
        // one on each instance
        assert.deepEqual(await Promise.all(cluster.ports.map(socketsOn)), cluster.ports.map(() => 1));
      });
    }

    test('room and global broadcasts reach the clients on every instance', async (t) => {
      const modes = ['websocket', 'polling', 'upgrade'];
      const members = await Promise.all(onePerInstance(0).map((addr, i) => connect(t, cluster.url, { mode: modes[i % 3], localAddress: addr })));
      const others = await Promise.all(onePerInstance(1).map((addr, i) => connect(t, cluster.url, { mode: modes[(i + 1) % 3], localAddress: addr })));
      for (const s of members) assert.ok((await emitAck(s, 'join', 'deploy-room'))[0].includes('deploy-room'));
      const strays = [];
      for (const s of others) s.on('room-message', (...a) => strays.push(a));
      // from a client outside the room on each instance in turn
      for (const [k, sender] of others.entries()) {
        const got = members.map((s) => once(s, 'room-message', 4000));
        sender.emit('to-room', 'deploy-room', { k });
        for (const args of await Promise.all(got)) assert.deepEqual(args, [{ k }]);
      }
      const all = [...members, ...others];
      const got = all.map((s) => once(s, 'broadcast-message', 4000));
      others[2].emit('broadcast', 'to everyone');
      for (const args of await Promise.all(got)) assert.deepEqual(args, ['to everyone']);
      await sleep(100);
      assert.deepEqual(strays, [], 'a socket outside the room got the room broadcast');
    });

    // Last: it takes an instance away.
    test('SIGTERM drains an instance: its clients reconnect through the balancer to another one and keep working', async (t) => {
      const [victimUp, victimAddrs] = [...byInstance.entries()][0];
      const victim = cluster.ports.indexOf(Number(victimUp.split(':')[1]));
      const addr = victimAddrs[0];
      await socketsSettle(cluster.ports, cluster.ports.map(() => 0));
      const modes = ['polling', 'websocket', 'upgrade'];
      const clients = await Promise.all(modes.map((mode) => connect(t, cluster.url, { mode, localAddress: addr, ...RECONNECT })));
      assert.equal(await socketsOn(cluster.ports[victim]), 3, 'the clients are on the instance to drain');
      const observer = await connect(t, cluster.url, { mode: 'websocket', localAddress: onePerInstance(0)[1] });

      const reasons = clients.map((s) => once(s, 'disconnect', 5000));
      const reconnected = clients.map((s) => once(s, 'connect', 10000)); // connected again
      await cluster.terminate(victim);
      for (const [reason] of await Promise.all(reasons)) assert.match(reason, /^transport (close|error)$/);
      await Promise.all(reconnected);

      const now = await upstreamOf(cluster, addr);
      assert.notEqual(now, victimUp, `${addr} still goes to the drained instance`);
      for (const [i, s] of clients.entries()) {
        assert.ok(s.connected, `${modes[i]} client connected again`);
        // a few round trips: a polling session that the balancer split would fail here
        for (let k = 0; k < 3; k++) assert.deepEqual(await emitAck(s, 'message-with-ack', modes[i], k), [modes[i], k]);
      }
      const got = clients.map((s) => once(s, 'broadcast-message', 4000));
      observer.emit('broadcast', 'after the drain');
      for (const args of await Promise.all(got)) assert.deepEqual(args, ['after the drain']);
      assert.equal(await upstreamOf(cluster, addr), now, `${addr} sticks to its new instance`);
    });
  });
}

describe('control: nginx round-robin without stickiness', () => {
  let cluster;
  before(async () => {
    cluster = await startCluster({ instances: INSTANCES, app: 'chat', balance: 'round-robin' });
  });
  after(() => cluster?.stop());

  test('the chat page is served through the balancer', async () => {
    const res = await get(`${cluster.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /text\/html/);
    assert.match(res.body, /socket\.io/);
  });

  test('a polling session\'s next request lands on another instance: 400 "Session ID unknown"', async () => {
    const hs = await get(`${cluster.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(hs.status, 200, hs.body);
    const { sid } = JSON.parse(hs.body.slice(1));
    const poll = await get(`${cluster.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.notEqual(poll.headers['x-sio-upstream'], hs.headers['x-sio-upstream'], 'round-robin sent both requests to one instance');
    assert.equal(poll.status, 400);
    assert.deepEqual(JSON.parse(poll.body), { code: 1, message: 'Session ID unknown' });
  });

  test('socket.io-client over polling cannot connect', async (t) => {
    const s = await connect(t, cluster.url, { mode: 'polling', localAddress: '127.0.0.2', wait: false });
    const [err] = await once(s, 'connect_error', 5000);
    assert.ok(err instanceof Error);
    assert.equal(s.connected, false);
  });

  test('websocket-only clients need no stickiness (one connection per session)', async (t) => {
    const sockets = [];
    for (let i = 0; i < INSTANCES; i++) sockets.push(await connect(t, cluster.url, { mode: 'websocket', localAddress: '127.0.0.2' }));
    for (const s of sockets) assert.deepEqual(await emitAck(s, 'join-room', 'lobby'), [true]);
    const got = withTimeout(new Promise((r) => sockets[0].once('new-message', r)), 4000, 'new-message');
    sockets[0].emit('chat-message', { room: 'lobby', user: 'ann', text: 'hi' });
    const msg = await got;
    assert.equal(msg.user, 'ann');
    assert.equal(msg.text, 'hi');
  });
});
