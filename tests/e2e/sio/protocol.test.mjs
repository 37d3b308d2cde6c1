// Socket.IO end-to-end at the packet level, with raw WebSockets and raw long-polling requests:
// the exact packets of the official socket.io-protocol suite, and what happens to packets that
// break the protocol (the connection is closed; the server must not mind).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, request, wsConnect, parseOpen, sleep, IS_REF } from '../lib/eio.mjs';

const skip = IS_REF && 'the reference server in tests/e2e/ref serves Engine.IO only';
const SEP = '\x1e';

/** A raw websocket session at /socket.io/, past the Engine.IO handshake. */
async function rawWs(ctx) {
  const c = ctx.track(await wsConnect(`${ctx.srv.wsUrl}/socket.io/?EIO=4&transport=websocket`));
  parseOpen(await c.nextText());
  return c;
}

/** The next message that is not a ping (answering pings, as a client must). */
async function nextNonPing(c, ms = 2000) {
  for (;;) {
    const m = await c.next(ms);
    if (!m.binary && m.data === '2') {
      c.send('3');
      continue;
    }
    return m;
  }
}

async function rawWsJoined(ctx, nsp = '') {
  const c = await rawWs(ctx);
  c.send(nsp ? `40${nsp},` : '40');
  assert.match((await nextNonPing(c)).data, /^40/);
  await nextNonPing(c); // auth
  return c;
}

/** A raw polling session at /socket.io/: {sid, get(), post(body)}. */
async function rawPolling(ctx) {
  const url = (q) => `${ctx.srv.url}/socket.io/?EIO=4&transport=polling${q}`;
  const res = await request(url(''));
  assert.equal(res.status, 200);
  const { sid } = parseOpen(res.body);
  return {
    sid,
    get: () => request(url(`&sid=${sid}`)),
    post: (body) => request(url(`&sid=${sid}`), { method: 'POST', body }),
  };
}

test('CONNECT to "/" is answered 40{"sid"} then the auth event', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = await rawWs(ctx);
  c.send('40{"token":"123"}');
  const hello = (await nextNonPing(c)).data;
  assert.match(hello, /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  assert.equal((await nextNonPing(c)).data, '42["auth",{"token":"123"}]');
});

test('CONNECT to "/custom" is answered in that namespace', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = await rawWs(ctx);
  c.send('40/custom,{"token":"abc"}');
  assert.match((await nextNonPing(c)).data, /^40\/custom,\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  assert.equal((await nextNonPing(c)).data, '42/custom,["auth",{"token":"abc"}]');
});

test('CONNECT to an unknown namespace gets 44/random,{"message":"Invalid namespace"}', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = await rawWs(ctx);
  c.send('40/random');
  assert.equal((await nextNonPing(c)).data, '44/random,{"message":"Invalid namespace"}');
  // The connection stays usable.
  c.send('40');
  assert.match((await nextNonPing(c)).data, /^40\{"sid"/);
});

test('exact event, ack and binary packets of the official suite', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = await rawWsJoined(ctx);
  c.send('42["message",1,"2",{"3":[true]}]');
  assert.equal((await nextNonPing(c)).data, '42["message-back",1,"2",{"3":[true]}]');
  c.send('42456["message-with-ack",1,"2",{"3":[false]}]');
  assert.equal((await nextNonPing(c)).data, '43456[1,"2",{"3":[false]}]');
  c.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  c.send(Buffer.from([1, 2, 3]));
  c.send(Buffer.from([4, 5, 6]));
  assert.equal((await nextNonPing(c)).data,
    '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  assert.deepEqual((await nextNonPing(c)).data, Buffer.from([1, 2, 3]));
  assert.deepEqual((await nextNonPing(c)).data, Buffer.from([4, 5, 6]));
  c.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  c.send(Buffer.from([1, 2, 3]));
  c.send(Buffer.from([4, 5, 6]));
  assert.equal((await nextNonPing(c)).data, '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  assert.deepEqual((await nextNonPing(c)).data, Buffer.from([1, 2, 3]));
  assert.deepEqual((await nextNonPing(c)).data, Buffer.from([4, 5, 6]));
});

test('an event named by a number is dispatched like its string', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = await rawWsJoined(ctx);
  c.send('42[1,"x"]'); // no handler: ignored, the connection stays
  c.send('42["message","after"]');
  assert.equal((await nextNonPing(c)).data, '42["message-back","after"]');
});

test('DISCONNECT from "/custom" leaves "/" connected', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = await rawWsJoined(ctx);
  c.send('40/custom');
  await nextNonPing(c);
  await nextNonPing(c);
  c.send('41/custom');
  c.send('42["message","message to main namespace"]');
  assert.equal((await nextNonPing(c)).data, '42["message-back","message to main namespace"]');
});

const INVALID = [
  ['an unknown packet type', '4abc'],
  ['a packet type out of range', '47'],
  ['an event whose payload is not an array', '42{}'],
  ['an empty event array', '42[]'],
  ['an invalid ack id', '42abc["message-with-ack",1]'],
  ['a reserved event name', '42["disconnect"]'],
  ['invalid JSON', '42["message",'],
  ['a CONNECT_ERROR from the client', '44{"message":"x"}'],
  ['a binary event with no attachment count', '45["message"]'],
  ['a binary event announcing too many attachments', '4511-["message"]'],
  ['a placeholder out of range', '451-["message",{"_placeholder":true,"num":3}]'],
  ['an ACK that is not an array', '431{}'],
];

for (const [what, packet] of INVALID) {
  test(`websocket: ${what} closes the connection`, { skip }, async (t) => {
    const ctx = await setup(t);
    const c = await rawWsJoined(ctx);
    c.send(packet);
    await c.waitClosed(2000);
    ctx.srv.check();
  });
}

test('websocket: an unannounced binary message closes the connection', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = await rawWsJoined(ctx);
  c.send(Buffer.from([1, 2, 3]));
  await c.waitClosed(2000);
});

test('websocket: more attachments than announced closes the connection', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = await rawWsJoined(ctx);
  c.send('451-["message",{"_placeholder":true,"num":0}]');
  c.send(Buffer.from([1]));
  assert.equal((await nextNonPing(c)).data, '451-["message-back",{"_placeholder":true,"num":0}]');
  await nextNonPing(c);
  c.send(Buffer.from([2]));
  await c.waitClosed(2000);
});

test('websocket: a text packet while attachments are awaited closes the connection', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = await rawWsJoined(ctx);
  c.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
  c.send(Buffer.from([1]));
  c.send('42["message","x"]');
  await c.waitClosed(2000);
});

test('websocket: a connection closed halfway through the attachments leaks nothing', { skip }, async (t) => {
  const ctx = await setup(t);
  for (let i = 0; i < 5; i++) {
    const c = await rawWsJoined(ctx);
    c.send('453-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]');
    c.send(Buffer.alloc(1000, 1));
    await c.close();
  }
  await sleep(100);
  ctx.srv.check(); // and srv.stop() checks the sanitizers' leak report
});

test('polling: events and acks travel in payloads', { skip }, async (t) => {
  const ctx = await setup(t);
  const p = await rawPolling(ctx);
  assert.equal((await p.post('40')).status, 200);
  const joined = (await p.get()).body.split(SEP);
  assert.match(joined[0], /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  const rest = joined.length > 1 ? joined.slice(1) : (await p.get()).body.split(SEP);
  assert.equal(rest[0], '42["auth",{}]');
  assert.equal((await p.post(`42["message",1]${SEP}421["message-with-ack","a"]`)).status, 200);
  let got = [];
  while (got.length < 2) got = got.concat((await p.get()).body.split(SEP).filter((x) => x !== '2'));
  assert.deepEqual(got, ['42["message-back",1]', '431["a"]']);
  // Binary attachments ride as base64 ('b' prefix) both ways.
  assert.equal((await p.post(`451-["message",{"_placeholder":true,"num":0}]${SEP}bAQID`)).status, 200);
  got = [];
  while (got.length < 2) got = got.concat((await p.get()).body.split(SEP).filter((x) => x !== '2'));
  assert.deepEqual(got, ['451-["message-back",{"_placeholder":true,"num":0}]', 'bAQID']);
});

test('polling: an invalid packet closes the session', { skip }, async (t) => {
  const ctx = await setup(t);
  const p = await rawPolling(ctx);
  await p.post('40');
  // the CONNECT reply, then the welcome event (in the same payload or the next one)
  let joined = [];
  while (!joined.includes('42["auth",{}]')) joined = joined.concat((await p.get()).body.split(SEP));
  await p.post('4abc');
  // The session is closing or gone: the next poll gets the close packet or an error.
  const res = await p.get();
  assert.ok(res.status === 400 || res.body.split(SEP).includes('1'), `got ${res.status} ${res.body}`);
  const after = await p.get();
  assert.equal(after.status, 400);
});
