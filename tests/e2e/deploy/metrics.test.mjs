// /metrics (Prometheus text) follows real traffic: socket.io-client sockets over each transport
// and namespace, rooms, messages in and out, broadcasts, acknowledgements awaited, volatile
// packets dropped, a slow consumer cut off, the Redis link and its messages, the event-loop lag.
// Each value is read before and after the traffic that must move it, on the conformance app.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, request, IS_REF } from '../lib/eio.mjs';
import { client, connected, once } from '../lib/sio.mjs';
import { startRedis, until } from '../lib/cluster.mjs';
import { emitAck, sleep } from './helpers.mjs';

const skip = IS_REF && '/metrics is sio\'s';
// A calm heartbeat: nothing but the test's own traffic moves the counters.
const FLAGS = ['--ping-interval', '10000', '--ping-timeout', '5000'];
const SIO = '/socket.io/';

/** Every sample of /metrics as "name{labels}" -> value; checks the format on the way. */
async function scrape(srv) {
  const res = await request(`${srv.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const samples = new Map();
  for (const line of res.body.split('\n')) {
    if (!line || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (-?[0-9.e+-]+|NaN)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    samples.set(m[1] + (m[2] || ''), Number(m[3]));
  }
  return samples;
}

/** A sample's value; fails if /metrics lacks it. */
function value(samples, key) {
  assert.ok(samples.has(key), `no sample ${key} in /metrics (has: ${[...samples.keys()].join(', ')})`);
  return samples.get(key);
}

const sessions = (transport) => `sio_eio_sessions{path="${SIO}",transport="${transport}"}`;
const sockets = (nsp) => `sio_sockets{path="${SIO}",nsp="${nsp}"}`;
const rooms = (nsp) => `sio_rooms{path="${SIO}",nsp="${nsp}"}`;

/** Waits until /metrics shows every `expected` key at its value. */
async function settles(srv, expected, label) {
  let last;
  await until(async () => {
    last = await scrape(srv);
    return Object.entries(expected).every(([k, v]) => last.get(k) === v);
  }, 3000, label).catch((e) => {
    const got = Object.fromEntries(Object.keys(expected).map((k) => [k, last?.get(k)]));
    throw new Error(`${e.message}: want ${JSON.stringify(expected)}, have ${JSON.stringify(got)}`);
  });
  return last;
}

/** A raw Engine.IO polling session joined to "/" that never polls (so nothing reaches it). */
async function idlePollingSocket(srv) {
  const url = (sid) => `${srv.url}${SIO}?EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`;
  const hs = await request(url());
  assert.equal(hs.status, 200);
  const { sid } = JSON.parse(hs.body.slice(1));
  assert.equal((await request(url(sid), { method: 'POST', body: '40' })).status, 200);
  return sid;
}

describe('/metrics follows real traffic', { skip }, () => {
  test('clients per transport and namespace, sockets and rooms', async (t) => {
    const ctx = await setup(t, FLAGS);
    let m = await scrape(ctx.srv);
    for (const k of [sessions('polling'), sessions('websocket'), sockets('/'), sockets('/custom'), rooms('/')]) {
      assert.equal(value(m, k), 0, k);
    }
    const a = await connected(client(ctx, '/', 'polling'), 'polling');
    const b = await connected(client(ctx, '/', 'websocket'), 'websocket');
    const c = await connected(client(ctx, '/custom', 'upgrade'), 'upgrade');
    m = await settles(ctx.srv, {
      [sessions('polling')]: 1, [sessions('websocket')]: 2, [sockets('/')]: 2, [sockets('/custom')]: 1,
      [rooms('/')]: 2, [rooms('/custom')]: 1,
    }, 'three clients counted');
    await emitAck(a, 'join', 'blue');
    await emitAck(b, 'join', 'blue');
    await emitAck(b, 'join', 'green');
    await settles(ctx.srv, { [rooms('/')]: 4 }, 'rooms blue and green counted');
    for (const s of [a, b, c]) s.disconnect();
    await settles(ctx.srv, {
      [sessions('polling')]: 0, [sessions('websocket')]: 0, [sockets('/')]: 0, [sockets('/custom')]: 0,
      [rooms('/')]: 0, [rooms('/custom')]: 0,
    }, 'every client gone');
  });

  test('sessions, packets and bytes in and out, broadcasts', async (t) => {
    const ctx = await setup(t, FLAGS);
    const m0 = await scrape(ctx.srv);
    const s = await connected(client(ctx, '/', 'websocket'), 'websocket');
    const text = 'x'.repeat(1000);
    for (let i = 0; i < 5; i++) assert.deepEqual(await emitAck(s, 'message-with-ack', text), [text]);
    const m1 = await scrape(ctx.srv);
    const delta = (k) => value(m1, k) - value(m0, k);
    assert.equal(delta('sio_eio_sessions_opened_total'), 1);
    // in: the CONNECT and 5 events; out: the open packet, the CONNECT reply, "auth" and 5 acks
    assert.ok(delta('sio_eio_packets_in_total') >= 6, `packets in +${delta('sio_eio_packets_in_total')}`);
    assert.ok(delta('sio_eio_packets_out_total') >= 8, `packets out +${delta('sio_eio_packets_out_total')}`);
    assert.ok(delta('sio_eio_bytes_in_total') >= 5000, `bytes in +${delta('sio_eio_bytes_in_total')}`);
    assert.ok(delta('sio_eio_bytes_out_total') >= 5000, `bytes out +${delta('sio_eio_bytes_out_total')}`);
    assert.ok(delta('sio_eio_bytes_in_total') < 8000, `bytes in +${delta('sio_eio_bytes_in_total')}`);

    const got = once(s, 'broadcast-message');
    s.emit('broadcast', 'all');
    await got;
    const m2 = await scrape(ctx.srv);
    assert.equal(value(m2, 'sio_broadcasts_total') - value(m1, 'sio_broadcasts_total'), 1);

    s.disconnect();
    const m3 = await settles(ctx.srv, { [sessions('websocket')]: 0 }, 'the session closed');
    assert.equal(value(m3, 'sio_eio_sessions_closed_total') - value(m0, 'sio_eio_sessions_closed_total'), 1);
  });

  test('acknowledgements awaited', async (t) => {
    const ctx = await setup(t, FLAGS);
    const s = await connected(client(ctx, '/', 'websocket'), 'websocket');
    // "ask": the server emits "question" with an acknowledgement; the client holds its answer
    let answer;
    s.on('question', (...args) => { answer = args.pop(); });
    const answered = once(s, 'answer', 3000);
    s.emit('ask', 5000, 'ready?');
    await settles(ctx.srv, { sio_acks_pending: 1 }, 'one acknowledgement awaited');
    answer('yes');
    assert.deepEqual(await answered, [null, 'yes']);
    await settles(ctx.srv, { sio_acks_pending: 0 }, 'the acknowledgement came');
    // unanswered: pending until its timeout
    s.off('question');
    const late = once(s, 'answer', 3000);
    s.emit('ask', 300, 'anyone?');
    await settles(ctx.srv, { sio_acks_pending: 1 }, 'one acknowledgement awaited');
    const [err] = await late;
    assert.ok(err, 'the ask timed out');
    await settles(ctx.srv, { sio_acks_pending: 0 }, 'the timed-out acknowledgement given up');
  });

  test('volatile packets dropped, slow consumers cut off', async (t) => {
    const ctx = await setup(t, [...FLAGS, '--max-buffered', '20000']);
    const idle = await idlePollingSocket(ctx.srv);
    const s = await connected(client(ctx, '/', 'websocket'), 'websocket');
    const m0 = await scrape(ctx.srv);
    // a volatile broadcast: the idle session (no GET waiting) drops it, the WebSocket gets it
    const got = once(s, 'news');
    assert.deepEqual(await emitAck(s, 'bc', { volatile: true }, 'news', 1), []);
    await got;
    const m1 = await scrape(ctx.srv);
    assert.equal(value(m1, 'sio_volatile_dropped_total') - value(m0, 'sio_volatile_dropped_total'), 1);
    assert.equal(value(m1, 'sio_slow_consumer_disconnects_total'), value(m0, 'sio_slow_consumer_disconnects_total'));
    // 8000-byte broadcasts pile up for the idle session until it passes --max-buffered
    const big = 'y'.repeat(8000);
    for (let i = 0; i < 3; i++) {
      const mine = once(s, 'broadcast-message');
      s.emit('broadcast', big);
      await mine;
    }
    const m2 = await settles(ctx.srv, { [sessions('polling')]: 0 }, 'the idle session cut off');
    assert.equal(value(m2, 'sio_slow_consumer_disconnects_total') - value(m0, 'sio_slow_consumer_disconnects_total'), 1);
    const poll = await request(`${ctx.srv.url}${SIO}?EIO=4&transport=polling&sid=${idle}`);
    assert.equal(poll.status, 400, 'the cut-off session is gone');
    assert.equal(s.connected, true, 'the reader was not cut off');
  });

  test('the Redis link and its messages', async (t) => {
    const redis = await startRedis();
    t.after(() => redis.stop());
    const one = await setup(t, [...FLAGS, '--redis', redis.url]);
    const two = await setup(t, [...FLAGS, '--redis', redis.url]);
    const link = 'sio_redis_link_up{prefix="socket.io"}';
    await settles(one.srv, { [link]: 1 }, 'the link of the first');
    await settles(two.srv, { [link]: 1 }, 'the link of the second');
    const a0 = await scrape(one.srv);
    const b0 = await scrape(two.srv);
    const s = await connected(client(one, '/', 'websocket'), 'websocket');
    const r = await connected(client(two, '/', 'websocket'), 'websocket');
    const got = once(r, 'broadcast-message', 3000);
    s.emit('broadcast', 'over redis');
    assert.deepEqual(await got, ['over redis']);
    const a1 = await scrape(one.srv);
    const b1 = await scrape(two.srv);
    assert.ok(value(a1, 'sio_redis_messages_out_total') > value(a0, 'sio_redis_messages_out_total'), 'published');
    assert.ok(value(b1, 'sio_redis_messages_in_total') > value(b0, 'sio_redis_messages_in_total'), 'received');
    await redis.kill();
    await settles(one.srv, { [link]: 0 }, 'the link down');
    assert.equal((await request(`${one.srv.url}/readyz`)).status, 503);
    await redis.start();
    await settles(one.srv, { [link]: 1 }, 'the link up again');
  });

  test('event-loop lag', async (t) => {
    const ctx = await setup(t, FLAGS);
    await sleep(1200); // the lag timer runs every second
    const lag = value(await scrape(ctx.srv), 'sio_event_loop_lag_seconds');
    assert.ok(Number.isFinite(lag) && lag >= 0 && lag < 0.5, `lag ${lag} s on an idle server`);
  });
});
