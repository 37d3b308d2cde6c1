// Redis faults under a mixed cluster (two sio-server nodes, one Node.js socket.io node with
// @socket.io/redis-adapter, one real redis-server): while traffic flows, redis-server is killed
// (SIGKILL, as in a crash) and started again on the same port. The sio nodes keep serving their
// own clients while it is down (and every cluster operation answers with what is local, at once),
// /readyz and the sio_redis_link_up gauge say so, the loss is logged once, and after the
// restart they reconnect and subscribe again by themselves: cluster delivery resumes without
// restarting anything. Then hostile messages on every channel sio listens to: each is counted
// in sio_redis_messages_dropped_total and dropped, nothing reaches a client, nothing crashes
// (the servers' exit, under ASan/UBSan, is checked at the end of each test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import msgpack from 'notepack.io';
import { cluster, emitAck, expectExactly, inbox, join, metric, once, request, sleep, until, IS_REF } from '../lib/cluster.mjs';
import { startServer } from '../lib/server.mjs';

const readyz = async (srv) => (await request(`${srv.url}/readyz`)).status;

/** Resolves with [ms taken, result]: the operations of a node whose link is down must not wait. */
async function timed(promise) {
  const t0 = Date.now();
  const v = await promise;
  return [Date.now() - t0, v];
}

test('Redis killed during traffic: local delivery goes on, the cluster resumes after restart', { skip: IS_REF && 'sio health and metrics' }, async (t) => {
  const cl = await cluster(t);
  const [a, b] = [await cl.sio(['--log-level', 'info']), await cl.sio(['--log-level', 'info'])];
  const n = await cl.node();
  await cl.ready(['/'], 3);
  const [a0, a1, b0, n0] = [await cl.client(a), await cl.client(a), await cl.client(b), await cl.client(n)];
  const clients = [a0, a1, b0, n0];
  for (const s of [a0, b0, n0]) await join(s, 'room');
  const pids = [a.proc.pid, b.proc.pid];
  assert.equal(await metric(a, 'sio_redis_link_up'), 1);

  // Traffic: a0 broadcasts a numbered message every 10 ms, through sio A.
  const seen = clients.map((s) => inbox(s, 'broadcast-message'));
  let seq = 0;
  const traffic = setInterval(() => a0.emit('broadcast', seq++), 10);
  t.after(() => clearInterval(traffic));
  await until(() => seen.every((box) => box.length >= 10), 5000, 'traffic flowing everywhere');

  await cl.redis.kill();
  const downAt = seq;
  await until(async () => (await readyz(a)) === 503 && (await readyz(b)) === 503, 5000, '/readyz 503 on both');
  assert.match((await request(`${a.url}/readyz`)).body, /redis link down/);
  assert.equal((await request(`${a.url}/healthz`)).status, 200, 'alive all the same');
  assert.equal(await metric(a, 'sio_redis_link_up'), 0);
  assert.equal(await metric(b, 'sio_redis_link_up'), 0);

  // Local delivery continues: a1 (same node as the sender) keeps receiving.
  const mark = seq;
  await until(() => seen[1].some(([m]) => m > mark + 20), 3000, 'local broadcasts while Redis is down');
  // Every cluster operation answers at once with what this node has.
  const [fetchMs, [count]] = await timed(emitAck(a0, 'count'));
  assert.equal(count, 2, 'fetchSockets: the local sockets');
  assert.ok(fetchMs < 2000, `fetchSockets took ${fetchMs} ms (the request timeout: 5000)`);
  a1.on('question', (q, cb) => cb(`a1:${q}`));
  a0.on('question', (q, cb) => cb(`a0:${q}`));
  const answers = once(a0, 'answers', 3000);
  a0.emit('ask-all', 4000, 'q');
  const [askMs, [err, responses]] = await timed(answers);
  assert.equal(err, null);
  assert.deepEqual(responses.sort(), ['a0:q', 'a1:q']);
  assert.ok(askMs < 2000, `a broadcast with acks took ${askMs} ms (its timeout: 4000)`);
  const [ssMs, [ssErr, ssResponses]] = await timed(emitAck(a0, 'server-emit-ack', 4000, 'whoami'));
  assert.deepEqual([ssErr, ssResponses], [null, []], 'serverSideEmit with ack: nobody else to hear it');
  assert.ok(ssMs < 2000, `serverSideEmit with ack took ${ssMs} ms (its timeout: 4000)`);
  const roomBox = clients.map((s) => inbox(s, 'room-message'));
  a1.emit('to-room', 'room', 'while down');
  await expectExactly(roomBox, [1, 0, 0, 0], 'a room broadcast while down stays local');

  // Down for a while (several reconnection attempts), then back on the same port.
  await sleep(1500);
  await cl.redis.start();
  await until(async () => (await readyz(a)) === 200 && (await readyz(b)) === 200, 10_000, '/readyz 200 again');
  await cl.ready(['/'], 3); // every server subscribed again
  assert.equal(await metric(a, 'sio_redis_link_up'), 1);
  assert.equal(await metric(b, 'sio_redis_link_up'), 1);
  const upAt = seq;
  await until(() => seen[2].some(([m]) => m >= upAt + 20) && seen[3].some(([m]) => m >= upAt + 20), 5000,
    'the traffic from sio A reaches sio B and the Node.js node again');
  clearInterval(traffic);
  await sleep(300);

  // The local client saw everything, in order; the remote ones no duplicates, and nothing lost
  // once the cluster was whole again.
  const nums = (i) => seen[i].map(([m]) => m);
  assert.deepEqual(nums(1), [...Array(seq).keys()], 'a1: every broadcast of its node, in order');
  for (const i of [2, 3]) {
    assert.equal(new Set(nums(i)).size, nums(i).length, `client ${i}: no duplicates`);
    assert.ok(nums(i).every((m, k) => k === 0 || m > nums(i)[k - 1]), `client ${i}: in order`);
    for (let m = upAt; m < seq; m++) assert.ok(nums(i).includes(m), `client ${i} missed ${m} after the restart`);
    assert.ok(nums(i).some((m) => m < downAt), `client ${i} had traffic before the kill`);
  }

  // Cluster operations in every direction again.
  const roomBox2 = clients.map((s) => inbox(s, 'room-message'));
  a1.emit('to-room', 'room', 'from A');
  await expectExactly(roomBox2, [1, 0, 1, 1], 'room broadcast from sio A');
  n0.emit('to-room', 'room', 'from N');
  await expectExactly(roomBox2, [2, 0, 2, 1], 'room broadcast from the Node.js node');
  const [count2] = await emitAck(b0, 'count');
  assert.equal(count2, 4);
  const [e2, names] = await emitAck(b0, 'server-emit-ack', 2000, 'whoami');
  assert.equal(e2, null);
  assert.deepEqual(names.sort(), [a.name, n.name].sort());

  // Same processes, same connections; the loss and the recovery logged once each per node.
  assert.deepEqual([a.proc.pid, b.proc.pid], pids);
  assert.ok(clients.every((s) => s.connected));
  for (const srv of [a, b]) {
    assert.equal(srv.stderr().match(/Redis link down/g)?.length, 1, `${srv.name} logs the loss once:\n${srv.stderr()}`);
    assert.equal(srv.stderr().match(/Redis link up again/g)?.length, 1, `${srv.name} logs the recovery once`);
  }
});

test('a node started while Redis is down serves locally, then joins the cluster', { skip: IS_REF && 'sio health and metrics' }, async (t) => {
  const cl = await cluster(t);
  const a = await cl.sio();
  await cl.redis.kill();
  const b = await startServer(['--redis', cl.redis.url, '--log-level', 'warn']);
  b.name = `sio:${b.port}`;
  cl.servers.push(b);
  assert.equal(await readyz(b), 503);
  assert.equal(await metric(b, 'sio_redis_link_up'), 0);
  const [b0, b1, a0] = [await cl.client(b), await cl.client(b), await cl.client(a)];
  const boxes = [b0, b1, a0].map((s) => inbox(s, 'broadcast-message'));
  b0.emit('broadcast', 'local');
  await expectExactly(boxes, [1, 1, 0], 'local broadcast with Redis down from the start');

  await cl.redis.start();
  await until(async () => (await readyz(a)) === 200 && (await readyz(b)) === 200, 10_000, 'both ready');
  await cl.ready(['/'], 2);
  b1.emit('broadcast', 'cluster');
  await expectExactly(boxes, [2, 2, 1], 'cluster broadcast once Redis is there');
  a0.emit('broadcast', 'from A');
  await expectExactly(boxes, [3, 3, 2], 'and back');
});

// --- hostile messages ---

const enc = (v) => msgpack.encode(v);
const hex = (s) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** `depth` nested one-element arrays around nil. */
const nested = (depth) => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
const UID = 'someone-else';
const packet = (data, nsp = '/') => ({ type: 2, data, nsp });

// Broadcast channel messages ([uid, packet, opts] msgpack): each must be dropped and counted.
const BAD_BROADCASTS = [
  ['garbage bytes', Buffer.from([0xc1, 0xff, 0x00, 0x13, 0x37])],
  ['JSON instead of msgpack', Buffer.from('{"type":2,"data":["x"]}')],
  ['truncated message', enc([UID, packet(['x', 'long enough string']), {}]).subarray(0, 20)],
  ['trailing bytes', Buffer.concat([enc([UID, packet(['x']), {}]), Buffer.from([0xc0])])],
  ['a bare integer', enc(42)],
  ['a map, not an array', enc({ uid: UID, packet: packet(['x']) })],
  ['too short an array', enc([UID, packet(['x'])])],
  ['packet is a string', enc([UID, 'packet', {}])],
  ['opts is an array', enc([UID, packet(['x']), []])],
  ['data is not an array', enc([UID, { type: 2, data: 'x', nsp: '/' }, {}])],
  ['data is empty', enc([UID, packet([]), {}])],
  ['event is a map', enc([UID, packet([{ e: 1 }]), {}])],
  ['reserved event name', enc([UID, packet(['disconnect']), {}])],
  ['packet type CONNECT', enc([UID, { type: 0, data: ['x'], nsp: '/' }, {}])],
  ['packet type is a string', enc([UID, { type: '2', data: ['x'], nsp: '/' }, {}])],
  ['nsp is a number', enc([UID, { type: 2, data: ['x'], nsp: 7 }, {}])],
  ['rooms is a string', enc([UID, packet(['x']), { rooms: 'room' }])],
  ['rooms holds a map', enc([UID, packet(['x']), { rooms: [{ a: 1 }] }])],
  ['except holds a bool', enc([UID, packet(['x']), { except: [true] }])],
  ['a placeholder beyond the attachments', enc([UID, packet(['x', Buffer.from([1]), { _placeholder: true, num: 3 }]), {}])],
  ['invalid UTF-8 string', Buffer.concat([hex('93 ac'), Buffer.from(UID), hex('83 a4 74797065 02 a4 64617461 91 a2 ff fe a3 6e7370 a1 2f 80')])],
  ['array32 announcing 4 billion elements', Buffer.concat([hex('dd ffffffff'), Buffer.alloc(64, 0xc0)])],
  ['map32 announcing 4 billion pairs', Buffer.concat([hex('93 a1 78 df ffffffff'), Buffer.alloc(64, 0xc0)])],
  ['str32 longer than the message', Buffer.concat([hex('93 db 7fffffff'), Buffer.from('abc')])],
  ['bin32 longer than the message', Buffer.concat([hex('93 a1 78 c6 ffffffff'), Buffer.from('abc')])],
  ['ext32 longer than the message', Buffer.concat([hex('93 a1 78 c9 ffffffff 05'), Buffer.from('abc')])],
  ['nesting 100000 deep', nested(100_000)],
  ['nesting 33 deep inside the data', enc([UID, packet(['x', JSON.parse('['.repeat(33) + ']'.repeat(33))]), {}])],
  ['2000 binary attachments', enc([UID, packet(['x', ...Array.from({ length: 2000 }, () => Buffer.from([1]))]), {}])],
  ['a 17 MiB message', Buffer.concat([hex('93 a1 78 81 a4 64617461 c6 01100000'), Buffer.alloc(17 << 20, 0x61)])],
];

// Request and response channel messages (JSON, or msgpack for BROADCAST): dropped and counted.
const BAD_REQUESTS = [
  ['empty JSON object text', '{'],
  ['truncated JSON', '{"uid":"x","type":2,"opts":{"rooms":['],
  ['JSON array', '[1,2,3]'],
  ['garbage bytes', Buffer.from([0xff, 0x00, 0xfe])],
  ['no type', JSON.stringify({ uid: UID })],
  ['type is a string', JSON.stringify({ uid: UID, type: '2' })],
  ['unknown type', JSON.stringify({ uid: UID, type: 99 })],
  ['REMOTE_FETCH without requestId', JSON.stringify({ uid: UID, type: 5, opts: {} })],
  ['REMOTE_FETCH with opts a number', JSON.stringify({ uid: UID, type: 5, requestId: 'r1', opts: 5 })],
  ['SOCKETS with rooms a map', JSON.stringify({ uid: UID, type: 0, requestId: 'r2', rooms: { a: 1 } })],
  ['ALL_ROOMS without requestId', JSON.stringify({ uid: UID, type: 1 })],
  ['REMOTE_JOIN with rooms a string', JSON.stringify({ uid: UID, type: 2, opts: {}, rooms: 'room' })],
  ['REMOTE_JOIN with opts.rooms a map', JSON.stringify({ uid: UID, type: 2, opts: { rooms: {} }, rooms: ['x'] })],
  ['REMOTE_LEAVE without opts nor sid', JSON.stringify({ uid: UID, type: 3, rooms: ['x'] })],
  ['REMOTE_DISCONNECT with a numeric sid', JSON.stringify({ uid: UID, type: 4, sid: 5 })],
  ['SERVER_SIDE_EMIT with data a string', JSON.stringify({ uid: UID, type: 6, data: 'hello' })],
  ['SERVER_SIDE_EMIT with no event', JSON.stringify({ uid: UID, type: 6, data: [] })],
  ['SERVER_SIDE_EMIT of a reserved event', JSON.stringify({ uid: UID, type: 6, data: ['connect'] })],
  ['BROADCAST without requestId', enc({ uid: UID, type: 7, packet: packet(['x']), opts: {} })],
  ['BROADCAST without a packet', enc({ uid: UID, type: 7, requestId: 'r3', opts: {} })],
  ['BROADCAST with opts a list', enc({ uid: UID, type: 7, requestId: 'r4', packet: packet(['x']), opts: [] })],
  ['msgpack that is not a map', enc([UID, 7])],
  ['JSON nested 100000 deep', `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`],
  ['msgpack nested 100000 deep', nested(100_000)],
  ['array32 announcing 4 billion elements', Buffer.concat([hex('dd ffffffff'), Buffer.alloc(64, 0xc0)])],
];

// Responses: those that do not decode are counted (a well-formed one for nobody's request is
// just not ours, and ignored).
const BAD_RESPONSES = [
  ['garbage bytes', Buffer.from([0xc1, 0xc1])],
  ['truncated JSON', '{"requestId":"'],
  ['JSON string', '"hello"'],
  ['msgpack nested 100000 deep', nested(100_000)],
  ['map32 announcing 4 billion pairs', Buffer.concat([hex('df ffffffff'), Buffer.alloc(16, 0xc0)])],
];

test('malformed messages on every channel are counted and dropped, nothing else happens', { skip: IS_REF && 'sio metrics' }, async (t) => {
  const cl = await cluster(t);
  // The conformance app's heartbeat (300 + 200 ms) is shorter than a busy shared machine
  // reading a 17 MiB message twice under ASan can promise this process' clients.
  const slowHeartbeat = ['--ping-interval', '2000', '--ping-timeout', '5000'];
  const [a, b] = [await cl.sio(slowHeartbeat), await cl.sio(slowHeartbeat)];
  await cl.ready(['/'], 2);
  const [a0, a1, b0] = [await cl.client(a), await cl.client(a), await cl.client(b)];
  for (const s of [a0, a1, b0]) await join(s, 'room');
  // Anything any client receives from now on, whatever the event, is a failure until the end.
  const stray = [];
  // (the conformance app's welcome event, "auth", may come just after the connection)
  for (const s of [a0, a1, b0]) s.onAny((...args) => { if (args[0] !== 'auth') stray.push(args); });
  const dropped = async () => (await metric(a, 'sio_redis_messages_dropped_total')) + (await metric(b, 'sio_redis_messages_dropped_total'));

  const channels = [
    ['broadcast', 'socket.io#/#', BAD_BROADCASTS],
    ['room', 'socket.io#/#room#', BAD_BROADCASTS.slice(0, 4)],
    ['request', 'socket.io-request#/#', BAD_REQUESTS],
    ['response', 'socket.io-response#/#', BAD_RESPONSES],
  ];
  for (const [kind, channel, messages] of channels) {
    for (const [label, data] of messages) {
      const before = await dropped();
      const receivers = await cl.publish(channel, data);
      assert.equal(receivers, 2, `${kind} "${label}": both servers listen on ${channel}`);
      // each of the two servers drops it and counts it
      // (a message of many MiB takes a while to read, ~100 ms a MiB under ASan)
      await until(async () => (await dropped()) >= before + 2, data.length > 1e6 ? 20_000 : 10_000,
        `${kind} message "${label}" counted by both`);
      assert.equal(await dropped(), before + 2, `${kind} message "${label}": counted once by each`);
    }
  }
  await sleep(200);
  assert.deepEqual(stray, [], 'no client received anything');
  assert.ok((await metric(a, 'sio_redis_messages_in_total')) > 50);

  // Still whole: ready, and a valid message (the emitter's format) delivers, once.
  assert.equal(await readyz(a), 200);
  assert.equal(await readyz(b), 200);
  const boxes = [a0, a1, b0].map((s) => inbox(s, 'fine'));
  await cl.publish('socket.io#/#room#', enc([UID, packet(['fine', 1]), { rooms: ['room'], except: [], flags: {} }]));
  await expectExactly(boxes, [1, 1, 1], 'a valid broadcast after the garbage');
  // An object that looks like a placeholder, in a message without attachments, is plain data
  // (as the reference passes it on).
  await cl.publish('socket.io#/#', enc([UID, packet(['fine', { _placeholder: true, num: 3 }]), {}]));
  await expectExactly(boxes, [2, 2, 2], 'a placeholder-like object');
  for (const box of boxes) assert.deepEqual(box[1], [{ _placeholder: true, num: 3 }]);
  a0.emit('broadcast', 'still');
  const [still] = await Promise.all([once(a1, 'broadcast-message', 8000), once(b0, 'broadcast-message', 8000)]);
  assert.deepEqual(still, ['still']);
});

test('hostile answers to a node\'s own requests are counted and dropped; the request still ends', { skip: IS_REF && 'sio metrics' }, async (t) => {
  const cl = await cluster(t);
  const [a, b] = [await cl.sio(), await cl.sio()];
  await cl.ready(['/'], 2);
  const [a0, b0] = [await cl.client(a), await cl.client(b)];
  // A spy server: it hears A's requests (so A counts it among the servers to wait for) and
  // answers them with hostile content on A's own response channel.
  const spy = cl.admin.duplicate();
  spy.on('error', () => {});
  await spy.connect();
  t.after(() => spy.disconnect().catch(() => {}));
  const answer = (uid, msg) => cl.publish(`socket.io-response#/#${uid}#`, msg);
  await spy.subscribe('socket.io-request#/#', async (buf) => {
    const req = buf[0] === 0x7b ? JSON.parse(buf.toString()) : msgpack.decode(buf);
    const { uid, requestId, type } = req;
    if (type === 5) { // REMOTE_FETCH: 4 bad sockets, 2 odd but acceptable ones
      await answer(uid, JSON.stringify({ requestId, sockets: [
        { id: 7, rooms: [] }, 'not an object', { id: 'fake-2', rooms: [{}] }, { id: 'fake-3', rooms: 'x' },
        { id: 'fake-1', rooms: ['x'], handshake: 5, data: null },
        { id: 'fake-4', rooms: [1, 'y'], handshake: { auth: [1], issued: 'z', query: 5 }, data: { deep: [[[]]] } },
      ] }));
    } else if (type === 6 && requestId) { // SERVER_SIDE_EMIT with ack: an odd answer is an answer
      await answer(uid, JSON.stringify({ type: 6, requestId, data: { weird: [null] } }));
    } else if (type === 7) { // BROADCAST with acks: a bad count, then a real one and a reply
      await answer(uid, msgpack.encode({ type: 8, requestId, clientCount: -5 }));
      await answer(uid, msgpack.encode({ type: 8, requestId, clientCount: 'many' }));
      await answer(uid, msgpack.encode({ type: 8, requestId, clientCount: 1 }));
      await answer(uid, msgpack.encode({ type: 9, requestId, packet: { _placeholder: true, num: 9 } }));
      await answer(uid, msgpack.encode({ type: 9, requestId, packet: 'spy' }));
    }
  }, true);
  await until(async () => (await cl.subscribers('/')) === 3, 3000, 'the spy subscribed');
  const droppedA = () => metric(a, 'sio_redis_messages_dropped_total');

  let before = await droppedA();
  const [list] = await emitAck(a0, 'fetch', {});
  assert.deepEqual(list.map((x) => x.id), [a0.id, b0.id, 'fake-1', 'fake-4'].sort());
  assert.deepEqual(list.find((x) => x.id === 'fake-4').rooms, ['1', 'y']);
  assert.equal(await droppedA(), before + 4, 'the 4 malformed sockets');

  const [err, responses] = await emitAck(a0, 'server-emit-ack', 2000, 'whoami');
  assert.equal(err, null);
  assert.deepEqual(responses.sort((x, y) => String(x).localeCompare(String(y))), [{ weird: [null] }, b.name]);

  before = await droppedA();
  a0.on('question', (q, cb) => cb('a0'));
  b0.on('question', (q, cb) => cb('b0'));
  const answers = once(a0, 'answers', 5000);
  a0.emit('ask-all', 2000, 'q');
  const [bcErr, bcResponses] = await answers;
  assert.equal(bcErr, null);
  assert.deepEqual(bcResponses.sort(), ['a0', 'b0', 'spy']);
  assert.equal(await droppedA(), before + 3, 'two bad counts, one bad placeholder');
});
