// Socket.IO end-to-end: joining namespaces and leaving them, with the real socket.io-client over
// websocket only, polling only, and polling upgraded to websocket. The conformance app serves
// "/" and "/custom" (each connection is sent ["auth", <CONNECT payload>]), "/guarded" behind a
// middleware, and dynamic namespaces matching ^/dyn-[0-9]+$.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, withTimeout, sleep, wsConnect, IS_REF } from '../lib/eio.mjs';
import { MODES, once, client, connected } from '../lib/sio.mjs';

const skip = IS_REF && 'the reference server in tests/e2e/ref serves Engine.IO only';

for (const mode of Object.keys(MODES)) {
  test(`[${mode}] connects to "/" and is sent its auth payload ({} when none)`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = client(ctx, '/', mode);
    const [auth] = await once(s, 'auth');
    assert.deepEqual(auth, {});
    await connected(s, mode);
    assert.equal(typeof s.id, 'string');
    assert.match(s.id, /^[A-Za-z0-9_-]{20}$/);
    assert.notEqual(s.id, s.io.engine.id, 'the socket id is not the Engine.IO id');
  });

  test(`[${mode}] connects to "/custom" with an auth payload, echoed back`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = client(ctx, '/custom', mode, { auth: { token: 'abc', n: [1, 2.5, null] } });
    const [auth] = await once(s, 'auth');
    assert.deepEqual(auth, { token: 'abc', n: [1, 2.5, null] });
    await connected(s, mode);
  });

  test(`[${mode}] socket.handshake: headers, query, address, url, time, auth`, { skip }, async (t) => {
    const ctx = await setup(t);
    const before = Date.now();
    const s = client(ctx, '/', mode, {
      query: { room: 'a b', n: '1' },
      extraHeaders: { authorization: 'Bearer abc', origin: 'http://example.test', 'x-custom': 'c1' },
      auth: { token: 't' },
    });
    await connected(s, mode);
    const [hs] = await withTimeout(new Promise((resolve) => s.emit('handshake', (...a) => resolve(a))), 3000, 'handshake');
    assert.equal(hs.headers.authorization, 'Bearer abc');
    assert.equal(hs.headers.origin, 'http://example.test');
    // Over plain-TCP WebSocket sio reads every header itself; a session opened over
    // long-polling has those libwebsockets knows by name (include/sio.h).
    if (mode === 'websocket') assert.equal(hs.headers['x-custom'], 'c1');
    assert.equal(hs.xdomain, true, 'an Origin header was sent');
    assert.equal(hs.secure, false);
    assert.match(hs.address, /^(::ffff:)?127\.0\.0\.1$/);
    assert.equal(hs.query.room, 'a b');
    assert.equal(hs.query.n, '1');
    assert.equal(hs.query.EIO, '4');
    assert.match(hs.url, /^\/socket\.io\/\?.*room=a(%20|\+)b/);
    assert.deepEqual(hs.auth, { token: 't' });
    assert.ok(hs.issued >= before - 1000 && hs.issued <= Date.now() + 1000, `issued ${hs.issued}`);
    assert.ok(!Number.isNaN(Date.parse(hs.time)), `time "${hs.time}" is a date`);
  });

  test(`[${mode}] an unknown namespace is refused with "Invalid namespace"`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = client(ctx, '/random', mode);
    const [err] = await once(s, 'connect_error');
    assert.equal(err.message, 'Invalid namespace');
    assert.equal(s.connected, false);
  });

  test(`[${mode}] "/" and "/custom" share one connection`, { skip }, async (t) => {
    const ctx = await setup(t);
    const main = await connected(client(ctx, '/', mode), mode);
    const custom = main.io.socket('/custom');
    ctx.track(custom, () => custom.disconnect());
    const [auth] = await once(custom, 'auth');
    assert.deepEqual(auth, {});
    assert.equal(custom.io.engine, main.io.engine);
    assert.notEqual(custom.id, main.id);
    // Leaving "/custom" keeps "/" working on the same connection.
    custom.disconnect();
    const back = once(main, 'message-back');
    main.emit('message', 'still here');
    assert.deepEqual(await back, ['still here']);
  });

  test(`[${mode}] middleware refuses with message and data, accepts the right token`, { skip }, async (t) => {
    const ctx = await setup(t);
    const bad = client(ctx, '/guarded', mode, { auth: { token: 'nope' } });
    const [err] = await once(bad, 'connect_error');
    assert.equal(err.message, 'unauthorized');
    assert.deepEqual(err.data, { reason: 'bad token' });
    const good = client(ctx, '/guarded', mode, { auth: { token: 'secret' } });
    const [auth] = await once(good, 'auth');
    assert.deepEqual(auth, { token: 'secret' });
  });

  test(`[${mode}] dynamic namespaces matching ^/dyn-[0-9]+$ are created on demand`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = client(ctx, '/dyn-42', mode);
    const [auth] = await once(s, 'auth');
    assert.deepEqual(auth, {});
    const back = once(s, 'message-back');
    s.emit('message', 'dyn');
    assert.deepEqual(await back, ['dyn']);
    const other = client(ctx, '/dyn-x', mode);
    const [err] = await once(other, 'connect_error');
    assert.equal(err.message, 'Invalid namespace');
  });

  test(`[${mode}] the client leaving is seen by the server`, { skip }, async (t) => {
    const ctx = await setup(t);
    const a = await connected(client(ctx, '/', mode), mode);
    const b = await connected(client(ctx, '/', mode), mode);
    assert.deepEqual(await a.timeout(2000).emitWithAck('count'), 2);
    b.disconnect();
    // The server hears the DISCONNECT packet (or the close) shortly after.
    for (let i = 0; i < 50; i++) {
      if ((await a.timeout(2000).emitWithAck('count')) === 1) return;
      await sleep(20);
    }
    assert.fail('the server still counts the socket that left');
  });

  test(`[${mode}] socket.disconnect() on the server: "io server disconnect", the connection stays`, { skip }, async (t) => {
    const ctx = await setup(t);
    const main = await connected(client(ctx, '/', mode), mode);
    const custom = main.io.socket('/custom');
    ctx.track(custom, () => custom.disconnect());
    await once(custom, 'auth');
    const gone = once(custom, 'disconnect');
    custom.emit('disconnect-me', false);
    assert.deepEqual((await gone)[0], 'io server disconnect');
    // "/" is still connected over the same Engine.IO session.
    const back = once(main, 'message-back');
    main.emit('message', 1);
    assert.deepEqual(await back, [1]);
  });

  test(`[${mode}] socket.disconnect(true) on the server closes the whole connection`, { skip }, async (t) => {
    const ctx = await setup(t);
    const main = await connected(client(ctx, '/', mode), mode);
    const custom = main.io.socket('/custom');
    ctx.track(custom, () => custom.disconnect());
    await once(custom, 'auth');
    const mainGone = once(main, 'disconnect');
    const customGone = once(custom, 'disconnect');
    const engineClosed = once(main.io.engine, 'close');
    main.emit('disconnect-me', true);
    assert.equal((await mainGone)[0], 'io server disconnect');
    assert.equal((await customGone)[0], 'io server disconnect');
    await engineClosed;
  });
}

test('a connection that joins no namespace is closed after connectTimeout', { skip }, async (t) => {
  // Heartbeats slower than the connect timeout, so that only the latter can close it.
  const ctx = await setup(t, ['--connect-timeout', '400', '--ping-interval', '5000', '--ping-timeout', '5000']);
  const c = ctx.track(await wsConnect(`${ctx.srv.wsUrl}/socket.io/?EIO=4&transport=websocket`));
  assert.equal((await c.nextText())[0], '0');
  const started = Date.now();
  await c.waitClosed(3000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 300, `closed after ${elapsed} ms, before the connect timeout`);
});

test('a connection that joined a namespace outlives connectTimeout', { skip }, async (t) => {
  const ctx = await setup(t, ['--connect-timeout', '300', '--ping-interval', '5000', '--ping-timeout', '5000']);
  const c = ctx.track(await wsConnect(`${ctx.srv.wsUrl}/socket.io/?EIO=4&transport=websocket`));
  await c.nextText();
  c.send('40');
  assert.match(await c.nextText(), /^40\{"sid":"[A-Za-z0-9_-]{20}"\}$/);
  assert.equal(await c.nextText(), '42["auth",{}]');
  // Leaving the namespace afterwards does not bring the timeout back either.
  c.send('41');
  await sleep(600);
  assert.equal(c.closeInfo, null);
  c.send('40');
  assert.match(await c.nextText(), /^40\{"sid":/);
});

test('a packet for a namespace the client has not joined closes the connection', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = ctx.track(await wsConnect(`${ctx.srv.wsUrl}/socket.io/?EIO=4&transport=websocket`));
  await c.nextText();
  c.send('40');
  await c.nextText();
  await c.nextText();
  c.send('42/custom,["message","x"]');
  await c.waitClosed(2000);
});

test('connecting twice to the same namespace closes the connection', { skip }, async (t) => {
  const ctx = await setup(t);
  const c = ctx.track(await wsConnect(`${ctx.srv.wsUrl}/socket.io/?EIO=4&transport=websocket`));
  await c.nextText();
  c.send('40');
  await c.nextText();
  await c.nextText();
  c.send('40');
  await c.waitClosed(2000);
});

test('the server shuts down cleanly with connected sockets', { skip }, async (t) => {
  const ctx = await setup(t);
  const a = await connected(client(ctx, '/', 'websocket'), 'websocket');
  const b = await connected(client(ctx, '/custom', 'polling'), 'polling');
  await a.timeout(2000).emitWithAck('join', 'room');
  const aGone = once(a, 'disconnect');
  const bGone = once(b, 'disconnect');
  await ctx.srv.stop();
  await Promise.all([aGone, bGone]);
});
