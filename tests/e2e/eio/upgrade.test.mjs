// The polling -> websocket upgrade: probe, noop for the held GET, upgrade, and what is refused
// afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, pollingHandshake, poll, post, wsConnect, WsClient, withTimeout, sleep } from '../lib/eio.mjs';

const QUIET = ['--ping-interval', '10000', '--ping-timeout', '5000'];
const ERR_BAD = '{"code":3,"message":"Bad request"}';

async function upgrade(ctx) {
  const { sid } = await pollingHandshake(ctx);
  const ws = ctx.track(await wsConnect(ctx.wsUrl(`EIO=4&transport=websocket&sid=${sid}`)));
  ws.send('2probe');
  assert.equal(await ws.nextText(), '3probe');
  ws.send('5');
  return { sid, ws };
}

test('polling upgrades to websocket: 2probe/3probe, the held GET gets "6", then messages flow over the websocket', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  const held = poll(ctx, sid);
  await sleep(50);
  const ws = ctx.track(await wsConnect(ctx.wsUrl(`EIO=4&transport=websocket&sid=${sid}`)));
  ws.send('2probe');
  assert.equal(await ws.nextText(), '3probe');
  const r = await held;
  assert.equal(r.status, 200);
  assert.equal(r.body, '6');
  ws.send('5');
  ws.send('4hello');
  assert.deepEqual(await ws.next(), { data: '4hello', binary: false });
  ws.send(Buffer.from([9, 8, 7]));
  const m = await ws.next();
  assert.equal(m.binary, true);
  assert.deepEqual([...m.data], [9, 8, 7]);
});

test('a GET that arrives after the probe is answered with "6" at once', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  const ws = ctx.track(await wsConnect(ctx.wsUrl(`EIO=4&transport=websocket&sid=${sid}`)));
  ws.send('2probe');
  assert.equal(await ws.nextText(), '3probe');
  const r = await poll(ctx, sid, { timeout: 1000 });
  assert.equal(r.status, 200);
  assert.equal(r.body, '6');
  ws.send('5');
  ws.send('4done');
  assert.equal(await ws.nextText(), '4done');
});

test('messages sent over polling before the upgrade completes are still delivered', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  assert.equal((await post(ctx, sid, '4before')).body, 'ok');
  assert.equal((await poll(ctx, sid)).body, '4before');
  const ws = ctx.track(await wsConnect(ctx.wsUrl(`EIO=4&transport=websocket&sid=${sid}`)));
  ws.send('2probe');
  assert.equal(await ws.nextText(), '3probe');
  assert.equal((await post(ctx, sid, '4during')).body, 'ok');
  assert.equal((await poll(ctx, sid)).body, '4during');
  ws.send('5');
  ws.send('4after');
  assert.equal(await ws.nextText(), '4after');
});

test('polling requests for an upgraded session are refused with 400 Bad request', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid, ws } = await upgrade(ctx);
  await sleep(50);
  const g = await poll(ctx, sid);
  assert.equal(g.status, 400);
  assert.equal(g.headers['content-type'], 'application/json');
  assert.equal(g.body, ERR_BAD);
  const p = await post(ctx, sid, '4x');
  assert.equal(p.status, 400);
  assert.equal(p.body, ERR_BAD);
  ws.send('4hello');
  assert.equal(await ws.nextText(), '4hello');
});

test('a second websocket for an upgraded session is closed and the first keeps working', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid, ws } = await upgrade(ctx);
  await sleep(50);
  const second = ctx.track(new WsClient(ctx.wsUrl(`EIO=4&transport=websocket&sid=${sid}`)));
  // The reference accepts the upgrade request and closes the new socket at once (1005);
  // a refusal is as good.
  await withTimeout(second.closed, 2000, 'the second websocket to be closed');
  assert.deepEqual(second.queue, []);
  ws.send('4hello');
  assert.equal(await ws.nextText(), '4hello');
});
