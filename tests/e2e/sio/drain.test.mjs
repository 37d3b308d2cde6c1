// Graceful shutdown: on SIGTERM sio stops accepting, lets every session flush and close with
// "server shutting down" (the client sees its transport close, so it reconnects), and exits 0
// within the drain time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { setup, withTimeout, IS_REF } from '../lib/eio.mjs';
import { once, client, connected } from '../lib/sio.mjs';

const skip = IS_REF && 'graceful drain is a sio feature';

test('SIGTERM: clients on every transport see their transport close, the server exits 0', { skip }, async (t) => {
  const ctx = await setup(t, ['--drain-timeout', '2000']);
  const sockets = [];
  for (const mode of ['websocket', 'polling', 'upgrade']) {
    sockets.push(await connected(client(ctx, '/', mode), mode));
  }
  const reasons = sockets.map((s) => once(s, 'disconnect', 3000));
  const started = Date.now();
  // stop(): SIGTERM, then it fails unless the server exits 0 with no sanitizer report
  const stopping = ctx.srv.stop();
  // A long-polling client whose next poll finds the port closed sees "transport error" instead;
  // either way socket.io-client reconnects (never "io server disconnect", which would not).
  for (const r of await Promise.all(reasons)) assert.match(r[0], /^transport (close|error)$/);
  assert.equal((await reasons[0])[0], 'transport close', 'websocket: the transport closed');
  await withTimeout(stopping, 3000, 'the server exiting');
  assert.ok(Date.now() - started < 2500, 'the drain ended once the sessions were gone');
});

test('while draining, new connections are refused', { skip }, async (t) => {
  const ctx = await setup(t, ['--drain-timeout', '1500']);
  // a polling session that nobody polls keeps the drain going until its time is up
  const res = await fetch(`${ctx.srv.url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(res.status, 200);
  await res.text();
  const stopping = ctx.srv.stop();
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(ctx.srv.alive, 'still draining');
  const refused = await new Promise((resolve) => {
    const sock = net.connect({ port: ctx.srv.port, host: '127.0.0.1' });
    sock.on('error', () => resolve(true));
    sock.on('close', () => resolve(true));
    sock.on('connect', () => sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    sock.on('data', () => resolve(false));
    sock.setTimeout(1000, () => { sock.destroy(); resolve(true); });
  });
  assert.ok(refused, 'a new connection got no answer');
  await stopping;
});
