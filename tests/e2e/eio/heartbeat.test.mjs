// Heartbeats: the server pings every pingInterval and closes a session whose pong does not
// arrive within pingTimeout; the real engine.io-client answers and stays connected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Socket } from 'engine.io-client';
import {
  setup, pollingHandshake, wsHandshake, poll, post, sleep, withTimeout, PING_INTERVAL, PING_TIMEOUT,
} from '../lib/eio.mjs';

const ERR_SID = '{"code":1,"message":"Session ID unknown"}';
// Timing bounds are loose on purpose (the server may run under ASan on a busy machine): the
// point is the order of magnitude, not the millisecond.
const EARLY = 0.7; // a ping may not come much before pingInterval
const LATE = 1000; // ms of slack for anything that should have happened

test('polling: a ping arrives every pingInterval and answering pong keeps the session', async (t) => {
  const ctx = await setup(t);
  const { sid } = await pollingHandshake(ctx);
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    const r = await poll(ctx, sid);
    const waited = Date.now() - t0;
    assert.equal(r.status, 200);
    assert.equal(r.body, '2', `ping ${i}`);
    if (i > 0) {
      // after the pong the next ping is due pingInterval later
      assert.ok(waited >= PING_INTERVAL * EARLY, `ping ${i} came after ${waited} ms`);
    }
    assert.ok(waited <= PING_INTERVAL + LATE, `ping ${i} came after ${waited} ms`);
    const p = await post(ctx, sid, '3');
    assert.equal(p.status, 200);
    assert.equal(p.body, 'ok');
  }
});

test('polling: without a pong the held GET gets the close packet and the session ends', async (t) => {
  const ctx = await setup(t);
  const { sid } = await pollingHandshake(ctx);
  assert.equal((await poll(ctx, sid)).body, '2');
  const t0 = Date.now();
  const r = await poll(ctx, sid); // held until the ping timeout closes the session
  const waited = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.equal(r.body, '1');
  assert.ok(waited <= PING_TIMEOUT + LATE, `closed after ${waited} ms`);
  const after = await poll(ctx, sid);
  assert.equal(after.status, 400);
  assert.equal(after.body, ERR_SID);
});

test('polling: a session nobody polls is gone after pingInterval + pingTimeout', async (t) => {
  const ctx = await setup(t);
  const { sid } = await pollingHandshake(ctx);
  await sleep(PING_INTERVAL + PING_TIMEOUT + 300);
  const r = await poll(ctx, sid);
  assert.equal(r.status, 400);
  assert.equal(r.body, ERR_SID);
});

test('websocket: a ping arrives every pingInterval and answering pong keeps the connection', async (t) => {
  const ctx = await setup(t);
  const { client } = await wsHandshake(ctx);
  let last = Date.now();
  for (let i = 0; i < 4; i++) {
    const m = await client.nextText(PING_INTERVAL + LATE);
    const now = Date.now();
    assert.equal(m, '2', `ping ${i}`);
    assert.ok(now - last >= PING_INTERVAL * EARLY, `ping ${i} came ${now - last} ms after the previous one`);
    last = now;
    client.send('3');
  }
  assert.equal(client.closeInfo, null);
});

test('websocket: the connection is closed when no pong arrives within pingTimeout', async (t) => {
  const ctx = await setup(t);
  const t0 = Date.now();
  const { client } = await wsHandshake(ctx);
  assert.equal(await client.nextText(PING_INTERVAL + LATE), '2');
  await client.waitClosed(PING_TIMEOUT + LATE);
  const lived = Date.now() - t0;
  assert.ok(lived >= (PING_INTERVAL + PING_TIMEOUT) * EARLY, `closed after ${lived} ms`);
});

for (const transports of [['polling'], ['websocket']]) {
  test(`engine.io-client over ${transports[0]} answers pings and stays connected for several intervals`, async (t) => {
    const ctx = await setup(t);
    const socket = ctx.track(new Socket(ctx.srv.url, { path: '/engine.io/', transports }), () => socket.close());
    let pings = 0;
    let closed = null;
    socket.on('ping', () => {
      pings++;
    });
    socket.on('close', (reason) => {
      closed = reason;
    });
    await withTimeout(new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    }), 3000, 'engine.io-client open');
    await sleep(PING_INTERVAL * 5 + 100);
    assert.equal(closed, null, `closed: ${closed}`);
    assert.ok(pings >= 3, `only ${pings} pings in ${PING_INTERVAL * 5} ms`);
    assert.equal(socket.readyState, 'open');
    // still usable
    const echo = new Promise((resolve) => socket.once('message', resolve));
    socket.send('still alive');
    assert.equal(await withTimeout(echo, 2000, 'echo'), 'still alive');
  });
}
