// When the server drops the transport (no Socket.IO DISCONNECT, as after a network failure),
// socket.io-client's own auto-reconnect brings the socket back, and it works again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, withTimeout, IS_REF } from '../lib/eio.mjs';
import { MODES, once, client, connected } from '../lib/sio.mjs';

const skip = IS_REF && 'the reference server in tests/e2e/ref serves Engine.IO only';

for (const mode of Object.keys(MODES)) {
  test(`[${mode}] the client reconnects by itself after the server drops its transport`, { skip }, async (t) => {
    const ctx = await setup(t);
    const s = await connected(client(ctx, '/', mode, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 }), mode);
    ctx.track(s, () => s.disconnect()); /* stops the manager's reconnecting too */
    const firstId = s.id;
    const gone = once(s, 'disconnect');
    const back = once(s.io, 'reconnect', 5000);
    s.emit('drop-transport');
    assert.equal((await gone)[0], 'transport close');
    await back;
    await connected(s, mode);
    assert.notEqual(s.id, firstId, 'a new socket (no state recovery configured)');
    const reply = await withTimeout(new Promise((resolve) => s.emit('message-with-ack', 'again', (...a) => resolve(a))), 3000, 'the ack after reconnecting');
    assert.deepEqual(reply, ['again']);
  });
}
