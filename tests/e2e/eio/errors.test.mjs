// Engine.IO error answers: the exact status, Content-Type and JSON body the reference sends for
// each kind of bad request, over HTTP and for refused websocket upgrades.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, request, pollingHandshake, wsHandshake, poll, post, WsClient, withTimeout,
} from '../lib/eio.mjs';

const ERR = {
  transport: '{"code":0,"message":"Transport unknown"}',
  sid: '{"code":1,"message":"Session ID unknown"}',
  method: '{"code":2,"message":"Bad handshake method"}',
  bad: '{"code":3,"message":"Bad request"}',
  protocol: '{"code":5,"message":"Unsupported protocol version"}',
};

function assertError(res, body, what) {
  assert.equal(res.status, 400, `${what}: status`);
  assert.equal(res.headers['content-type'], 'application/json', `${what}: content-type`);
  assert.equal(res.body, body, `${what}: body`);
}

/** Opens a websocket that should be refused; resolves with the refusal {status, headers, body}. */
async function wsRefusal(url) {
  const c = new WsClient(url);
  try {
    await withTimeout(c.opened, 3000, 'websocket upgrade');
  } catch (e) {
    if (e.rejection) return e.rejection;
    throw e;
  } finally {
    await c.close();
  }
  throw new Error('the websocket upgrade was accepted');
}

/**
 * Opens a websocket that must not become a session: it is either refused, or accepted and then
 * closed without any Engine.IO packet. Resolves with a description of what happened.
 */
async function wsNoSession(url) {
  const c = new WsClient(url);
  try {
    await withTimeout(c.opened, 3000, 'websocket upgrade');
  } catch (e) {
    if (e.rejection) return { refused: e.rejection };
    if (c.closeInfo) return { closed: c.closeInfo, messages: [] };
    throw e;
  }
  const closed = await c.waitClosed(2000).finally(() => c.close());
  return { closed, messages: c.queue };
}

test('a request without transport answers 400 Transport unknown', async (t) => {
  const ctx = await setup(t);
  assertError(await request(ctx.url('EIO=4')), ERR.transport, 'no transport');
});

test('an unknown transport answers 400 Transport unknown', async (t) => {
  const ctx = await setup(t);
  assertError(await request(ctx.url('EIO=4&transport=abc')), ERR.transport, 'transport=abc');
  assertError(await request(ctx.url('EIO=4&transport=')), ERR.transport, 'transport=');
  assertError(await request(ctx.url('EIO=4&transport=webtransport')), ERR.transport, 'transport=webtransport');
});

test('polling disabled by --transports websocket answers 400 Transport unknown', async (t) => {
  const ctx = await setup(t, ['--transports', 'websocket']);
  assertError(await request(ctx.url('EIO=4&transport=polling')), ERR.transport, 'polling');
});

test('a websocket upgrade with websocket disabled by --transports polling is refused with 400 Transport unknown', async (t) => {
  const ctx = await setup(t, ['--transports', 'polling']);
  const r = await wsRefusal(ctx.wsUrl('EIO=4&transport=websocket'));
  assert.equal(r.status, 400);
  // The reference registers no upgrade handler then, so Node answers the upgrade request as a
  // plain request: application/json {"code":0,...}. The text/html message of other refused
  // upgrades is as good for a client; either carries "Transport unknown".
  assert.match(r.body, /Transport unknown/);
});

test('an unknown sid answers 400 Session ID unknown to GET and POST', async (t) => {
  const ctx = await setup(t);
  assertError(await poll(ctx, 'nosuchsid'), ERR.sid, 'GET');
  assertError(await post(ctx, 'nosuchsid', '4hello'), ERR.sid, 'POST');
  assertError(await poll(ctx, 'AAAAAAAAAAAAAAAAAAAA'), ERR.sid, 'GET, sid-like');
});

test('POST, PUT and OPTIONS without sid answer 400 Bad handshake method', async (t) => {
  const ctx = await setup(t);
  for (const method of ['POST', 'PUT', 'OPTIONS']) {
    const res = await request(ctx.url('EIO=4&transport=polling'), { method, body: method === 'OPTIONS' ? undefined : '4x' });
    assertError(res, ERR.method, method);
  }
});

test('a plain GET with transport=websocket answers 400 Bad request', async (t) => {
  const ctx = await setup(t);
  assertError(await request(ctx.url('EIO=4&transport=websocket')), ERR.bad, 'GET transport=websocket');
});

test('EIO=3, a missing EIO and an invalid EIO answer 400 Unsupported protocol version', async (t) => {
  const ctx = await setup(t);
  // The reference treats anything but EIO=4 as protocol 3, which it does not allow.
  for (const q of ['EIO=3&transport=polling', 'transport=polling', 'EIO=abc&transport=polling', 'EIO=5&transport=polling', 'EIO=&transport=polling']) {
    assertError(await request(ctx.url(q)), ERR.protocol, q);
  }
});

test('a request with EIO=3 on an existing session answers 400 Bad request', async (t) => {
  const ctx = await setup(t);
  const { sid } = await pollingHandshake(ctx);
  assertError(await request(ctx.url(`EIO=3&transport=polling&sid=${sid}`)), ERR.bad, 'EIO=3 with sid');
});

test('polling requests on a websocket session answer 400 Bad request and the websocket keeps working', async (t) => {
  const ctx = await setup(t);
  const { client, sid } = await wsHandshake(ctx);
  assertError(await poll(ctx, sid), ERR.bad, 'GET');
  assertError(await post(ctx, sid, '4hello'), ERR.bad, 'POST');
  client.send('4still here');
  assert.equal(await client.nextText(), '4still here');
});

test('an unsupported method on a session answers 500 and the session goes on', async (t) => {
  const ctx = await setup(t, ['--ping-interval', '5000']);
  const { sid } = await pollingHandshake(ctx);
  const res = await request(ctx.url(`EIO=4&transport=polling&sid=${sid}`), { method: 'PUT', body: '4x' });
  assert.equal(res.status, 500);
  assert.equal(res.body, '');
  assert.equal((await post(ctx, sid, '4after')).body, 'ok');
  assert.equal((await poll(ctx, sid)).body, '4after');
});

test('a websocket upgrade with an unknown transport is refused with 400 and the message as text/html', async (t) => {
  const ctx = await setup(t);
  for (const q of ['EIO=4', 'EIO=4&transport=abc']) {
    const r = await wsRefusal(ctx.wsUrl(q));
    assert.equal(r.status, 400, q);
    assert.equal(r.headers['content-type'], 'text/html', q);
    assert.equal(r.body, 'Transport unknown', q);
  }
});

test('a websocket upgrade with an unknown sid is refused with 400 Session ID unknown as text/html', async (t) => {
  const ctx = await setup(t);
  const r = await wsRefusal(ctx.wsUrl('EIO=4&transport=websocket&sid=nosuchsid'));
  assert.equal(r.status, 400);
  assert.equal(r.headers['content-type'], 'text/html');
  assert.equal(r.body, 'Session ID unknown');
});

test('a websocket without EIO=4 never becomes a session', async (t) => {
  const ctx = await setup(t);
  // The reference completes the upgrade (101) and then writes a raw "400 Unsupported protocol
  // version" onto the socket, which the client sees as an abnormal close (1006). Refusing the
  // upgrade outright is the sane version of that: both end with no session.
  for (const q of ['transport=websocket', 'EIO=3&transport=websocket', 'EIO=abc&transport=websocket']) {
    const r = await wsNoSession(ctx.wsUrl(q));
    if (r.refused) assert.equal(r.refused.status, 400, q);
    else assert.deepEqual(r.messages, [], `${q}: no packet before the close`);
  }
});

test('a websocket upgrade with transport=polling never becomes a session', async (t) => {
  const ctx = await setup(t);
  // The reference accepts the upgrade and closes it at once (close code 1005).
  const r = await wsNoSession(ctx.wsUrl('EIO=4&transport=polling'));
  if (r.refused) assert.equal(r.refused.status, 400);
  else assert.deepEqual(r.messages, []);
});
