// A mixed cluster on one real redis-server: two sio-server nodes (--redis) and one Node.js
// socket.io 4.8 node with @socket.io/redis-adapter 8.x (tests/e2e/ref/cluster-node.mjs), with
// socket.io-client sockets on each. Broadcasts from any node reach exactly the right sockets
// on every node, once; fetchSockets, socketsJoin/Leave, disconnectSockets, serverSideEmit (with
// acknowledgements) and broadcasts with acknowledgements work across the mix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emitAck, expectExactly, inbox, join, mixedCluster as mixed, once, sleep, until, SETTLE } from '../lib/cluster.mjs';

test('namespace broadcasts from every node reach every socket of the cluster exactly once', async (t) => {
  const { all } = await mixed(t);
  const boxes = all.map((s) => inbox(s, 'broadcast-message'));
  for (let i = 0; i < 3; i++) all[i * 2].emit('broadcast', { from: i }, 'x');
  await expectExactly(boxes, all.map(() => 3), 'io.emit from each node');
  for (const b of boxes) {
    assert.deepEqual(b.map(([m]) => m.from).sort(), [0, 1, 2]);
    assert.ok(b.every((args) => args[1] === 'x'));
  }
});

test('room broadcasts reach the room on every node, except the sender, and nobody else', async (t) => {
  const { all } = await mixed(t);
  // sockets 0,2,4 (one per node) are in "red"; 1 and 5 in "blue"; 3 in none
  for (const i of [0, 2, 4]) await join(all[i], 'red');
  for (const i of [1, 5]) await join(all[i], 'blue');
  const boxes = all.map((s) => inbox(s, 'room-message'));
  all[4].emit('to-room', 'red', 'from-node'); // socket.to(room) on the Node.js node
  await expectExactly(boxes, [1, 0, 1, 0, 0, 0], 'to-room from the Node.js node');
  all[0].emit('to-room', 'red', 'from-sio'); // on sio A
  await expectExactly(boxes, [1, 0, 2, 0, 1, 0], 'to-room from sio A');
  assert.deepEqual(boxes[4][0], ['from-sio']);
  all[3].emit('to-room', 'blue', { n: 1 }); // from a socket outside the room, on sio B
  await expectExactly(boxes, [1, 1, 2, 0, 1, 1], 'to-room blue from sio B');
  assert.deepEqual(boxes[5][0], [{ n: 1 }]);
});

test('several rooms and exceptions: each socket once, the excepted never', async (t) => {
  const { all, clients } = await mixed(t);
  // every socket in "a"; sockets 0,3,4 also in "b"; 1 and 4 in "vip"
  for (const s of all) await join(s, 'a');
  for (const i of [0, 3, 4]) await join(all[i], 'b');
  for (const i of [1, 4]) await join(all[i], 'vip');
  const boxes = all.map((s) => inbox(s, 'multi'));
  for (const [n, from] of clients.map((c, i) => [i, c[0]])) {
    await emitAck(from, 'bc', { to: ['a', 'b'], except: ['vip'] }, 'multi', n);
  }
  // three emits (one per node), everyone but 1 and 4, once per emit despite two rooms
  await expectExactly(boxes, [3, 0, 3, 3, 0, 3], 'to(a, b).except(vip) from each node');
  // except by socket id (the sender's own room), on another node
  await emitAck(all[0], 'bc', { to: ['b'], except: [all[3].id] }, 'multi', 'id');
  await expectExactly(boxes, [4, 0, 3, 3, 1, 3], 'except a socket id of another node');
  // one room only (the reference's room channel)
  await emitAck(all[5], 'bc', { to: ['vip'] }, 'multi', 'vip');
  await expectExactly(boxes, [4, 1, 3, 3, 2, 3], 'to(vip) from the Node.js node');
});

test('local broadcasts stay on their node; namespaces are kept apart', async (t) => {
  const { cl, nodes, all } = await mixed(t);
  const custom = [await cl.client(nodes[0], '/custom'), await cl.client(nodes[2], '/custom')];
  const boxes = all.map((s) => inbox(s, 'loc'));
  const cboxes = custom.map((s) => inbox(s, 'loc'));
  await emitAck(all[0], 'bc', { local: true }, 'loc', 1);
  await emitAck(all[4], 'bc', { local: true }, 'loc', 2);
  await expectExactly(boxes, [1, 1, 0, 0, 1, 1], 'local broadcasts');
  await emitAck(custom[1], 'bc', {}, 'loc', 'custom');
  await expectExactly(cboxes, [1, 1], 'a broadcast on /custom');
  assert.deepEqual(boxes.map((b) => b.length), [1, 1, 0, 0, 1, 1], '/ heard nothing of /custom');
});

test('binary arguments travel between sio and Node.js nodes', async (t) => {
  const { all } = await mixed(t);
  const got = [once(all[1], 'bin'), once(all[3], 'bin'), once(all[5], 'bin')];
  await emitAck(all[0], 'bc', { except: [all[0].id] }, 'bin', Buffer.from([1, 2, 3]), { nested: Buffer.from('hé') }, 'text');
  for (const [buf, obj, text] of await Promise.all(got)) {
    assert.ok(Buffer.from(buf).equals(Buffer.from([1, 2, 3])));
    assert.equal(Buffer.from(obj.nested).toString(), 'hé');
    assert.equal(text, 'text');
  }
  const got2 = [once(all[0], 'bin2'), once(all[2], 'bin2')];
  await emitAck(all[4], 'bc', {}, 'bin2', [Buffer.alloc(0), Buffer.from([255])]);
  for (const [[a, b]] of await Promise.all(got2)) {
    assert.equal(Buffer.from(a).length, 0);
    assert.ok(Buffer.from(b).equals(Buffer.from([255])));
  }
});

test('fetchSockets sees every socket of the cluster, with its rooms, from any node', async (t) => {
  const { all, nodes } = await mixed(t);
  await join(all[0], 'r1');
  await join(all[3], 'r1');
  await join(all[4], 'r1');
  await join(all[5], 'r2');
  const ids = all.map((s) => s.id).sort();
  for (let n = 0; n < 3; n++) {
    const from = all[n * 2];
    const [list] = await emitAck(from, 'fetch', {});
    assert.deepEqual(list.map((x) => x.id), ids, `fetch from ${nodes[n].name}`);
    for (const x of list) {
      const owner = all.findIndex((s) => s.id === x.id);
      assert.equal(x.remote, Math.floor(owner / 2) !== n, `remote flag of socket ${owner} seen from node ${n}`);
      const expected = [x.id, ...(owner === 0 || owner === 3 || owner === 4 ? ['r1'] : []), ...(owner === 5 ? ['r2'] : [])];
      assert.deepEqual(x.rooms, expected.sort());
    }
    const [inRoom] = await emitAck(from, 'fetch', { to: ['r1', 'r2'], except: [all[3].id] });
    assert.deepEqual(inRoom.map((x) => x.id), [all[0].id, all[4].id, all[5].id].sort());
    const [count] = await emitAck(from, 'count');
    assert.equal(count, 6);
  }
});

test('a socket fetched on another node can be emitted to', async (t) => {
  const { all } = await mixed(t);
  for (const [from, to] of [[0, 5], [4, 2], [2, 1]]) {
    const got = once(all[to], 'direct');
    const [found] = await emitAck(all[from], 'remote-emit', all[to].id, 'direct', from);
    assert.equal(found, true);
    assert.deepEqual(await got, [from]);
  }
});

test('socketsJoin, socketsLeave and disconnectSockets act on every node', async (t) => {
  const { all } = await mixed(t);
  await join(all[1], 'src');
  await join(all[4], 'src');
  await emitAck(all[0], 'sockets-join', { to: ['src'] }, 'joined'); // from sio A
  await until(async () => (await emitAck(all[2], 'fetch', { to: ['joined'] }))[0].length === 2, 3000, 'joined');
  const [list] = await emitAck(all[2], 'fetch', { to: ['joined'] });
  assert.deepEqual(list.map((x) => x.id), [all[1].id, all[4].id].sort());

  await emitAck(all[4], 'sockets-join', {}, 'everyone'); // from the Node.js node
  await until(async () => (await emitAck(all[0], 'fetch', { to: ['everyone'] }))[0].length === 6, 3000, 'everyone');
  await emitAck(all[3], 'sockets-leave', { except: ['src'] }, 'everyone'); // from sio B
  await until(async () => (await emitAck(all[5], 'fetch', { to: ['everyone'] }))[0].length === 2, 3000, 'left');

  const gone = [once(all[1], 'disconnect'), once(all[4], 'disconnect')];
  await emitAck(all[2], 'disconnect-sockets', { to: ['src'] }, false);
  assert.deepEqual((await Promise.all(gone)).map(([reason]) => reason),
    ['io server disconnect', 'io server disconnect']);
  await sleep(SETTLE);
  assert.deepEqual(all.map((s) => s.connected), [true, false, true, true, false, true]);
});

test('serverSideEmit reaches the other servers (not the sender), with acknowledgements', async (t) => {
  const { all, nodes } = await mixed(t);
  const boxes = all.map((s) => inbox(s, 'server-hello'));
  await emitAck(all[0], 'server-emit', 'hello', 'from-A', 1); // sio A
  await expectExactly(boxes, [0, 0, 1, 1, 1, 1], 'serverSideEmit from sio A');
  assert.deepEqual(boxes[5][0], ['from-A', 1]);
  await emitAck(all[4], 'server-emit', 'hello', 'from-N'); // the Node.js node
  await expectExactly(boxes, [1, 1, 2, 2, 1, 1], 'serverSideEmit from the Node.js node');

  for (let n = 0; n < 3; n++) {
    const [err, responses] = await emitAck(all[n * 2], 'server-emit-ack', 2000, 'whoami');
    assert.equal(err, null);
    assert.deepEqual(responses.sort(), nodes.filter((_, i) => i !== n).map((s) => s.name).sort(),
      `answers to ${nodes[n].name}`);
  }
});

test('broadcasts with acknowledgements gather every client of the cluster', async (t) => {
  const { all } = await mixed(t);
  all.forEach((s, i) => s.on('question', (q, cb) => cb({ i, q })));
  for (const from of [0, 4, 3]) {
    const answers = once(all[from], 'answers', 5000);
    all[from].emit('ask-all', 2000, 'q?');
    const [err, responses] = await answers;
    assert.equal(err, null, `ask-all from socket ${from}`);
    assert.deepEqual(responses.map((r) => r.i).sort(), [0, 1, 2, 3, 4, 5]);
    assert.ok(responses.every((r) => r.q === 'q?'));
  }
  // a client that does not answer: the timeout, with the answers so far
  all[5].removeAllListeners('question');
  all[5].on('question', () => {});
  const answers = once(all[0], 'answers', 5000);
  all[0].emit('ask-all', 500, 'again');
  const [err, responses] = await answers;
  assert.equal(err, 'operation has timed out');
  assert.deepEqual(responses.map((r) => r.i).sort(), [0, 1, 2, 3, 4]);
});
