// @socket.io/redis-emitter 5.x (a backend that is no Socket.IO server) publishing into a mixed
// cluster on one real redis-server: two sio-server nodes and one Node.js socket.io 4.8 node
// (tests/e2e/ref/cluster-node.mjs), two socket.io-client sockets on each. Whatever the emitter
// sends reaches exactly the sockets it targets, once, on sio and Node.js nodes alike:
// namespace-wide, to rooms (one room: the room's channel; several: the namespace's), with
// except, with flags, to other namespaces (dynamic ones included), under another key prefix;
// and its requests: serverSideEmit, socketsJoin, socketsLeave, disconnectSockets (with close).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { Emitter } from '@socket.io/redis-emitter';
import { emitAck, expectExactly, inbox, join, mixedCluster, once, sleep, until, SETTLE, IS_REF } from '../lib/cluster.mjs';

/** An emitter with its own Redis connection, closed at the end of the test. */
async function emitterOf(t, cl, opts) {
  const client = createClient({ url: cl.redis.url });
  client.on('error', () => {});
  await client.connect();
  t.after(() => client.disconnect().catch(() => {}));
  return new Emitter(client, opts);
}

/** The ids of the sockets in `room`, as seen by fetchSockets from `from`. */
async function roomIds(from, room) {
  const [list] = await emitAck(from, 'fetch', { to: [room] });
  return list.map((x) => x.id);
}

test('emit to the namespace reaches every socket of the cluster once, any argument type', async (t) => {
  const { cl, all } = await mixedCluster(t);
  const emitter = await emitterOf(t, cl);
  const boxes = all.map((s) => inbox(s, 'news'));
  const when = new Date(Date.UTC(2024, 1, 29, 12, 30, 15, 250));
  emitter.emit('news', 'text', 42, 1.5, true, null, { deep: { list: [1, 'two', { three: 3 }] } }, when);
  await expectExactly(boxes, [1, 1, 1, 1, 1, 1], 'emitter.emit');
  for (const [i, b] of boxes.entries()) {
    assert.deepEqual(b[0], ['text', 42, 1.5, true, null, { deep: { list: [1, 'two', { three: 3 }] } },
      '2024-02-29T12:30:15.250Z'], `arguments seen by socket ${i}`);
  }
  // binary arguments (msgpack bin) become attachments
  const bins = all.map((s) => once(s, 'blob'));
  emitter.emit('blob', Buffer.from([0, 1, 254, 255]), { inner: Buffer.from('hé') }, Buffer.alloc(0));
  for (const [i, [a, { inner }, empty]] of (await Promise.all(bins)).entries()) {
    assert.ok(Buffer.from(a).equals(Buffer.from([0, 1, 254, 255])), `binary seen by socket ${i}`);
    assert.equal(Buffer.from(inner).toString(), 'hé');
    assert.equal(Buffer.from(empty).length, 0);
  }
  // empty strings (msgpack fixstr of length 0), as values and as keys
  const empties = all.map((s) => once(s, 'empty'));
  emitter.emit('empty', '', { '': '', k: '' });
  for (const [i, args] of (await Promise.all(empties)).entries()) {
    assert.deepEqual(args, ['', { '': '', k: '' }], `empty strings seen by socket ${i}`);
  }
  // a burst keeps its order and loses nothing
  const burst = all.map((s) => inbox(s, 'seq'));
  for (let n = 0; n < 50; n++) emitter.emit('seq', n);
  await expectExactly(burst, all.map(() => 50), '50 emits');
  for (const b of burst) assert.deepEqual(b.map(([n]) => n), [...Array(50).keys()]);
});

test('emit to rooms and with except: exactly the targeted sockets, once', async (t) => {
  const { cl, all } = await mixedCluster(t);
  const emitter = await emitterOf(t, cl);
  // red: 0, 2, 4 (one per node); blue: 1, 2, 5; vip: 2, 5; "odd*[room]?" (glob characters): 3, 4
  for (const i of [0, 2, 4]) await join(all[i], 'red');
  for (const i of [1, 2, 5]) await join(all[i], 'blue');
  for (const i of [2, 5]) await join(all[i], 'vip');
  for (const i of [3, 4]) await join(all[i], 'odd*[room]?');
  const boxes = all.map((s) => inbox(s, 'r'));

  emitter.to('red').emit('r', 'red'); // one room: published on the room's own channel
  await expectExactly(boxes, [1, 0, 1, 0, 1, 0], 'to(red)');
  emitter.to(['red', 'blue']).emit('r', 'red+blue'); // several rooms: socket 2 is in both, once
  await expectExactly(boxes, [2, 1, 2, 0, 2, 1], 'to([red, blue])');
  emitter.to('red').to('blue').except('vip').emit('r', 'no vip');
  await expectExactly(boxes, [3, 2, 2, 0, 3, 1], 'to(red).to(blue).except(vip)');
  emitter.except(['red', all[3].id]).emit('r', 'not red, not 3'); // everyone else, by room and id
  await expectExactly(boxes, [3, 3, 2, 0, 3, 2], 'except([red, <id of 3>])');
  emitter.in('odd*[room]?').emit('r', 'odd'); // the room's name matches literally, not as a glob
  await expectExactly(boxes, [3, 3, 2, 1, 4, 2], 'in(odd*[room]?)');
  emitter.to('odd').emit('r', 'nobody'); // no such room anywhere
  emitter.to(all[5].id).emit('r', 'to 5'); // a socket's own room
  await expectExactly(boxes, [3, 3, 2, 1, 4, 3], 'to(<id of 5>)');
  assert.deepEqual(boxes[5].at(-1), ['to 5']);
  assert.deepEqual(boxes[3], [['odd']]);
  // flags travel and do not stop delivery to connected sockets
  emitter.volatile.compress(false).to('vip').emit('r', 'flags');
  await expectExactly(boxes, [3, 3, 3, 1, 4, 4], 'volatile.compress(false).to(vip)');
});

test('emit to another namespace reaches its sockets only, dynamic namespaces included', async (t) => {
  const { cl, nodes, all } = await mixedCluster(t);
  const emitter = await emitterOf(t, cl);
  const custom = [await cl.client(nodes[0], '/custom'), await cl.client(nodes[1], '/custom'),
    await cl.client(nodes[2], '/custom')];
  const boxes = all.map((s) => inbox(s, 'c'));
  const cboxes = custom.map((s) => inbox(s, 'c'));
  emitter.of('/custom').emit('c', 1);
  emitter.of('custom').emit('c', 2); // the emitter adds the leading slash
  await expectExactly(cboxes, [2, 2, 2], 'of(/custom).emit');
  await join(custom[1], 'here');
  emitter.of('/custom').to('here').emit('c', 3);
  await expectExactly(cboxes, [2, 3, 2], 'of(/custom).to(here)');
  assert.deepEqual(boxes.map((b) => b.length), [0, 0, 0, 0, 0, 0], '"/" heard nothing of /custom');
  emitter.emit('c', 'root');
  await expectExactly(boxes, [1, 1, 1, 1, 1, 1], 'emit on "/"');
  assert.deepEqual(cboxes.map((b) => b.length), [2, 3, 2], '/custom heard nothing of "/"');

  if (IS_REF) return; // dynamic namespaces are an app of sio's conformance server
  // A child of a dynamic namespace joins the cluster when its first socket connects.
  const dyn = await cl.client(nodes[1], '/dyn-42');
  await cl.ready(['/dyn-42'], 1);
  const dbox = inbox(dyn, 'd');
  emitter.of('/dyn-42').emit('d', 'dynamic');
  emitter.of('/dyn-43').emit('d', 'nobody'); // no server has it
  await expectExactly([dbox], [1], 'of(/dyn-42)');
  assert.deepEqual(dbox[0], ['dynamic']);
});

test('serverSideEmit from the emitter reaches every server once', async (t) => {
  const { cl, all } = await mixedCluster(t);
  const emitter = await emitterOf(t, cl);
  const boxes = all.map((s) => inbox(s, 'server-hello'));
  // each server answers "hello" with a local broadcast to its own sockets
  emitter.serverSideEmit('hello', 'from the emitter', { n: 1 });
  await expectExactly(boxes, [1, 1, 1, 1, 1, 1], 'serverSideEmit(hello)');
  for (const b of boxes) assert.deepEqual(b[0], ['from the emitter', { n: 1 }]);
  assert.throws(() => emitter.serverSideEmit('hello', () => {}), /not supported/);
});

test('socketsJoin, socketsLeave and disconnectSockets from the emitter act on every node', async (t) => {
  const { cl, all } = await mixedCluster(t);
  const emitter = await emitterOf(t, cl);
  for (const i of [0, 3, 4]) await join(all[i], 'src');
  for (const i of [2, 4]) await join(all[i], 'keep');
  const sorted = (idx) => idx.map((i) => all[i].id).sort();

  emitter.in('src').socketsJoin(['joined', 'also']);
  await until(async () => (await roomIds(all[1], 'joined')).length === 3, 3000, 'socketsJoin');
  assert.deepEqual(await roomIds(all[1], 'joined'), sorted([0, 3, 4]));
  assert.deepEqual(await roomIds(all[5], 'also'), sorted([0, 3, 4]));

  emitter.socketsJoin('everyone');
  await until(async () => (await roomIds(all[2], 'everyone')).length === 6, 3000, 'socketsJoin all');
  emitter.in('everyone').except('src').socketsLeave('everyone');
  await until(async () => (await roomIds(all[0], 'everyone')).length === 3, 3000, 'socketsLeave');
  assert.deepEqual(await roomIds(all[0], 'everyone'), sorted([0, 3, 4]));

  // the rooms joined through the emitter are real rooms: emits to them arrive
  const boxes = all.map((s) => inbox(s, 'j'));
  emitter.to('joined').except('keep').emit('j');
  await expectExactly(boxes, [1, 0, 0, 1, 0, 0], 'to(joined).except(keep)');

  // A second namespace on the same connections tells disconnect() from disconnect(close).
  const siblings = {};
  for (const i of [0, 2, 4]) {
    siblings[i] = all[i].io.socket('/custom');
    t.after(() => siblings[i].disconnect());
    await once(siblings[i], 'connect');
  }
  const gone = [once(all[0], 'disconnect'), once(all[3], 'disconnect')];
  emitter.in('src').except('keep').disconnectSockets();
  assert.deepEqual((await Promise.all(gone)).map(([reason]) => reason),
    ['io server disconnect', 'io server disconnect']);
  // close: the whole connection goes, the sibling too (with DISCONNECT packets or a bare
  // close: the reference races the two, so the reason is not checked)
  const closed = [2, 4].flatMap((i) => [once(all[i], 'disconnect'), once(siblings[i], 'disconnect')]);
  emitter.in('keep').disconnectSockets(true);
  await Promise.all(closed);
  await sleep(SETTLE);
  assert.deepEqual(all.map((s) => s.connected), [false, true, false, false, false, true]);
  assert.equal(siblings[0].connected, true, 'disconnect() without close leaves the connection open');
});

test('an emitter with another key reaches servers of that prefix only', async (t) => {
  const prefix = 'app-one';
  const { cl, all } = await mixedCluster(t, { prefix });
  const mine = await emitterOf(t, cl, { key: prefix });
  const other = await emitterOf(t, cl); // the default key, "socket.io"
  const boxes = all.map((s) => inbox(s, 'k'));
  other.emit('k', 'wrong prefix');
  other.serverSideEmit('hello', 'wrong prefix');
  mine.emit('k', 'right prefix');
  await expectExactly(boxes, [1, 1, 1, 1, 1, 1], `emit with key ${prefix}`);
  for (const b of boxes) assert.deepEqual(b[0], ['right prefix']);
});
