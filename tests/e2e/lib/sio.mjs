// Helpers for the Socket.IO end-to-end tests: real socket.io-client sockets over each transport
// mode, closed at the end of the test that made them.
import { io } from 'socket.io-client';
import { withTimeout } from './eio.mjs';

export const MODES = {
  websocket: { transports: ['websocket'] },
  polling: { transports: ['polling'] },
  upgrade: { transports: ['polling', 'websocket'] },
};

/** The next `event` of `emitter`, as the array of its arguments. */
export function once(emitter, event, ms = 3000) {
  return withTimeout(new Promise((resolve) => emitter.once(event, (...args) => resolve(args))), ms,
    `waiting for "${event}"`);
}

/** A socket.io-client socket for namespace `nsp`, closed at the end of the test. */
export function client(ctx, nsp, mode, opts = {}) {
  const s = io(`${ctx.srv.url}${nsp}`, {
    forceNew: true, reconnection: false, timeout: 3000, ...MODES[mode], ...opts,
  });
  ctx.track(s, () => s.io.engine && s.io.engine.close());
  return s;
}

/** Waits for "connect", and for the upgrade when the mode has one. */
export async function connected(s, mode) {
  if (!s.connected) await once(s, 'connect');
  if (mode === 'upgrade' && s.io.engine.transport.name !== 'websocket') await once(s.io.engine, 'upgrade');
  return s;
}
