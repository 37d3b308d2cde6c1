// Connection state recovery keeps bounded memory: 10,000 sockets in a room drop at once (their
// sessions are kept), 200 events are sent to the room while they are away, and the server's
// own accounting (the /metrics gauges) stays under the documented bound (docs/ARCHITECTURE.md,
// "Connection state recovery"): each session costs at most SESSION_BOUND bytes, the packets
// are stored once in the namespace's log (not once per session), and expired sessions are
// freed. The clients speak Engine.IO/Socket.IO over raw WebSockets (the `ws` package), the
// protocol being tested elsewhere: 10,000 socket.io-client instances would measure Node.
// SIO_RECOVERY_SESSIONS overrides the count. The server's RSS is reported (not asserted: the
// sanitizer build's is not representative).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { setup, request, sleep, IS_REF } from '../lib/eio.mjs';

const skip = IS_REF && 'the reference server in tests/e2e/ref serves Engine.IO only';
const N = Number(process.env.SIO_RECOVERY_SESSIONS || 10000);
const EVENTS = 200;
const SESSION_BOUND = 256; // bytes per session with its own room and one more, no data
const EXPIRY_MS = 4000;

async function gauge(ctx, name) {
  const text = (await request(`${ctx.srv.url}/metrics`)).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes('path="/socket.io/"') && (!l.includes('nsp=') || l.includes('nsp="/"')));
  assert.ok(line, `metric ${name}`);
  return Number(line.split(' ').pop());
}

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** A Socket.IO socket on "/" over a raw WebSocket, joined to `room`. Resolves once joined. */
function member(ctx, room) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${ctx.srv.wsUrl}/socket.io/?EIO=4&transport=websocket`);
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('join timed out')); }, 20000);
    ws.on('error', (e) => { clearTimeout(timer); reject(e); });
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0')) ws.send('40');
      else if (text.startsWith('40')) ws.send(`421${JSON.stringify(['join', room])}`);
      else if (text.startsWith('431')) { clearTimeout(timer); resolve(ws); }
      else if (text === '2') ws.send('3');
    });
  });
}

test(`${N} disconnected sessions with ${EVENTS} missed events each stay under the bound, and expire`, { skip, timeout: 110000 }, async (t) => {
  const ctx = await setup(t, ['--recovery', '--recovery-timeout', String(EXPIRY_MS), '--ping-interval', '20000', '--ping-timeout', '20000'], { readyTimeoutMs: 10000 });
  const pid = ctx.srv.proc.pid;
  const rssBefore = rssKb(pid);
  const sockets = [];
  const t0 = Date.now();
  for (let i = 0; i < N; i += 500) {
    const batch = [];
    for (let k = i; k < Math.min(N, i + 500); k++) batch.push(member(ctx, 'crowd'));
    sockets.push(...(await Promise.all(batch)));
  }
  const connectMs = Date.now() - t0;
  for (const ws of sockets) ws.terminate(); // the network goes: every session is kept
  const sender = await member(ctx, 'other');
  ctx.track(sender, () => sender.terminate());
  const deadline = Date.now() + 20000;
  while ((await gauge(ctx, 'sio_recovery_sessions')) < N) {
    assert.ok(Date.now() < deadline, 'every session kept');
    await sleep(100);
  }
  const logBefore = await gauge(ctx, 'sio_recovery_log_bytes'); // the welcome events, one per socket
  const payload = 'x'.repeat(100);
  for (let i = 0; i < EVENTS; i++) sender.send(`42${JSON.stringify(['bc', { to: ['crowd'] }, 'news', i, payload])}`);
  // The sender's own events come back to nobody (it is not in "crowd"); wait for the log.
  const logDeadline = Date.now() + 10000;
  let logBytes = 0;
  while ((logBytes = (await gauge(ctx, 'sio_recovery_log_bytes')) - logBefore) < EVENTS * payload.length) {
    assert.ok(Date.now() < logDeadline, 'the events are logged');
    await sleep(50);
  }
  const sessions = await gauge(ctx, 'sio_recovery_sessions');
  const sessionBytes = await gauge(ctx, 'sio_recovery_session_bytes');
  const rssKept = rssKb(pid);
  t.diagnostic(`connect+join ${N} in ${connectMs} ms; sessions ${sessions}, ${sessionBytes} B (${(sessionBytes / sessions).toFixed(1)} B each); log +${logBytes} B for ${EVENTS} events (${logBefore} B before); server RSS ${rssBefore} kB -> ${rssKept} kB`);
  assert.equal(sessions, N);
  assert.ok(sessionBytes / N <= SESSION_BOUND, `${sessionBytes / N} B per session <= ${SESSION_BOUND}`);
  // Stored once, not per session: the log is about EVENTS packets, whatever N is.
  assert.ok(logBytes < EVENTS * (payload.length + 400), `log ${logBytes} B for ${EVENTS} events`);

  // Expiry: every session is freed.
  const expiry = Date.now() + EXPIRY_MS + 5000;
  while ((await gauge(ctx, 'sio_recovery_sessions')) > 0) {
    assert.ok(Date.now() < expiry, 'the sessions expire');
    await sleep(200);
  }
  assert.equal(await gauge(ctx, 'sio_recovery_session_bytes'), 0);
  t.diagnostic(`after expiry: server RSS ${rssKb(pid)} kB`);
});
