// WebSocket framing and handshake edge cases, spoken byte by byte over raw TCP: what a browser
// or the ws library never sends but a hostile or broken peer may. The server must answer as
// RFC 6455 (and the reference, which uses the ws library) does, and go on serving everybody.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import net from 'node:net';
import {
  setup, poll, sleep, withTimeout, EIO_PATH, IS_REF, assertStillServing,
} from '../lib/eio.mjs';

const QUIET = ['--ping-interval', '10000', '--ping-timeout', '5000'];

/** A client frame: FIN + opcode, masked payload. */
function frame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true } = {}) {
  const data = Buffer.from(payload);
  const len = data.length;
  const head = [(fin ? 0x80 : 0) | opcode];
  if (len < 126) head.push((mask ? 0x80 : 0) | len);
  else if (len < 65536) head.push((mask ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else throw new Error('test frames stay small');
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = crypto.randomBytes(4);
  const masked = Buffer.from(data.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

/** Parses the server's (unmasked) frames out of `buf`: [{opcode, fin, payload}], rest. */
function parseFrames(buf) {
  const frames = [];
  let at = 0;
  while (buf.length - at >= 2) {
    let len = buf[at + 1] & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - at < 4) break;
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - at < 10) break;
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (buf.length - at < head + len) break;
    frames.push({ opcode: buf[at] & 0x0f, fin: !!(buf[at] & 0x80), payload: buf.subarray(at + head, at + head + len) });
    at += head + len;
  }
  return { frames, rest: buf.subarray(at) };
}

/** A raw WebSocket over TCP: the upgrade request is written as given (possibly in pieces). */
class RawWs {
  constructor(port) {
    this.sock = net.connect({ port, host: '127.0.0.1' });
    this.sock.on('error', () => {});
    this.buf = Buffer.alloc(0);
    this.head = null;
    this.frames = [];
    this.waiters = [];
    this.ended = new Promise((resolve) => this.sock.on('close', resolve));
    this.sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      if (this.head === null) {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        this.head = this.buf.subarray(0, end).toString('latin1');
        this.buf = this.buf.subarray(end + 4);
      }
      const { frames, rest } = parseFrames(this.buf);
      this.buf = rest;
      this.frames.push(...frames);
      this.wake();
    });
    this.sock.on('close', () => this.wake());
    this.connected = new Promise((resolve) => this.sock.on('connect', resolve));
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  async until(pred, ms, label) {
    return withTimeout((async () => {
      for (;;) {
        const v = pred();
        if (v) return v;
        if (this.sock.destroyed) throw new Error(`connection closed while waiting for ${label}`);
        await new Promise((r) => this.waiters.push(r));
      }
    })(), ms, label);
  }

  /** The response head (status line and headers), once it has arrived. */
  response(ms = 2000) {
    return this.until(() => this.head, ms, 'the response head');
  }

  /** The next frame from the server. */
  next(ms = 2000) {
    return this.until(() => this.frames.shift(), ms, 'a frame');
  }

  write(bytes) {
    this.sock.write(bytes);
  }

  close() {
    this.sock.destroy();
  }
}

function upgradeRequest(port, query, extra = {}) {
  const headers = {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...extra,
  };
  const lines = [`GET ${EIO_PATH}?${query} HTTP/1.1`];
  for (const [k, v] of Object.entries(headers)) if (v !== null) lines.push(`${k}: ${v}`);
  return { bytes: Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), key: headers['Sec-WebSocket-Key'] };
}

/** An open Engine.IO session over a raw WebSocket: resolves with the client and its sid. */
async function openSession(ctx, t) {
  const c = new RawWs(ctx.srv.port);
  t.after(() => c.close());
  await c.connected;
  const { bytes, key } = upgradeRequest(ctx.srv.port, 'EIO=4&transport=websocket');
  c.write(bytes);
  const head = await c.response();
  assert.match(head, /^HTTP\/1\.1 101 /);
  const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  assert.match(head, new RegExp(`\\r\\nsec-websocket-accept: ${accept.replace(/[+/]/g, '\\$&')}`, 'i'));
  const open = await c.next();
  assert.equal(open.opcode, 1);
  const sid = JSON.parse(open.payload.toString().slice(1)).sid;
  return { c, sid };
}

async function expectClose(c, code, label) {
  const f = await c.next(2000).catch((e) => assert.fail(`${label}: no close frame (${e.message})`));
  assert.equal(f.opcode, 8, `${label}: expected a close frame, got opcode ${f.opcode}`);
  assert.equal(f.payload.readUInt16BE(0), code, `${label}: close code`);
  await withTimeout(c.ended, 2000, `${label}: the server hanging up`);
}

async function assertSessionGone(ctx, sid) {
  const res = await poll(ctx, sid);
  assert.equal(res.status, 400);
  assert.equal(res.body, '{"code":1,"message":"Session ID unknown"}');
}

test('an upgrade request that arrives a few bytes at a time still opens a session', async (t) => {
  const ctx = await setup(t, QUIET);
  const c = new RawWs(ctx.srv.port);
  t.after(() => c.close());
  await c.connected;
  const { bytes } = upgradeRequest(ctx.srv.port, 'EIO=4&transport=websocket');
  for (let i = 0; i < bytes.length; i += 7) {
    c.write(bytes.subarray(i, i + 7));
    await sleep(5);
  }
  assert.match(await c.response(), /^HTTP\/1\.1 101 /);
  const open = await c.next();
  assert.match(open.payload.toString(), /^0\{"sid":/);
  c.write(frame(1, '4hello'));
  assert.equal((await c.next()).payload.toString(), '4hello');
});

test('a polling request that arrives a few bytes at a time is still answered', async (t) => {
  const ctx = await setup(t, QUIET);
  const sock = net.connect({ port: ctx.srv.port, host: '127.0.0.1' });
  t.after(() => sock.destroy());
  const chunks = [];
  sock.on('data', (d) => chunks.push(d));
  const closed = new Promise((r) => sock.on('close', r));
  await new Promise((r) => sock.on('connect', r));
  const req = Buffer.from(`GET ${EIO_PATH}?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  for (let i = 0; i < req.length; i += 5) {
    sock.write(req.subarray(i, i + 5));
    await sleep(5);
  }
  await withTimeout(closed, 3000, 'the response');
  const text = Buffer.concat(chunks).toString();
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.match(text, /\r\n\r\n0\{"sid":"[^"]+","upgrades":\["websocket"\]/);
});

test('a bad or missing Sec-WebSocket-Version or -Key is refused with 400, and nothing else breaks', async (t) => {
  const ctx = await setup(t, QUIET);
  const cases = [
    [{ 'Sec-WebSocket-Version': '12' }, /sec-websocket-version: 13/i],
    [{ 'Sec-WebSocket-Version': null }, null],
    [{ 'Sec-WebSocket-Key': null }, null],
    [{ 'Sec-WebSocket-Key': 'not-a-key' }, null],
  ];
  for (const [extra, header] of cases) {
    const c = new RawWs(ctx.srv.port);
    await c.connected;
    c.write(upgradeRequest(ctx.srv.port, 'EIO=4&transport=websocket', extra).bytes);
    const head = await c.response();
    assert.match(head, /^HTTP\/1\.1 400 /, JSON.stringify(extra));
    if (header) assert.match(head, header);
    await withTimeout(c.ended, 2000, 'the server hanging up');
  }
  await assertStillServing(ctx);
});

test('a ping frame is answered with a pong carrying the same bytes', async (t) => {
  const ctx = await setup(t, QUIET);
  const { c } = await openSession(ctx, t);
  c.write(frame(9, 'are you there'));
  const pong = await c.next();
  assert.equal(pong.opcode, 10);
  assert.equal(pong.payload.toString(), 'are you there');
});

test('a message in fragments, with a ping between them, arrives whole', async (t) => {
  const ctx = await setup(t, QUIET);
  const { c } = await openSession(ctx, t);
  c.write(Buffer.concat([
    frame(1, '4frag', { fin: false }),
    frame(0, 'mented ', { fin: false }),
    frame(9, 'p'),
    frame(0, 'message', { fin: true }),
  ]));
  const got = [await c.next(), await c.next()];
  assert.deepEqual(got.map((f) => f.opcode).sort(), [1, 10]);
  assert.equal(got.find((f) => f.opcode === 1).payload.toString(), '4fragmented message');
});

test('frames split across many TCP segments are put back together', async (t) => {
  const ctx = await setup(t, QUIET);
  const { c } = await openSession(ctx, t);
  const text = `4${'x'.repeat(3000)}`;
  const bytes = Buffer.concat([frame(1, text), frame(1, '4second')]);
  for (let i = 0; i < bytes.length; i += 333) {
    c.write(bytes.subarray(i, i + 333));
    await sleep(2);
  }
  assert.equal((await c.next()).payload.toString(), text);
  assert.equal((await c.next()).payload.toString(), '4second');
});

test('a close frame is answered with a close frame, then the session is gone', async (t) => {
  const ctx = await setup(t, QUIET);
  const { c, sid } = await openSession(ctx, t);
  const payload = Buffer.from([0x03, 0xe8]); // 1000
  c.write(frame(8, payload));
  await expectClose(c, 1000, 'close handshake');
  await assertSessionGone(ctx, sid);
});

test('protocol violations close with 1002, bad UTF-8 with 1007, and the session ends', async (t) => {
  const ctx = await setup(t, QUIET);
  const violations = [
    ['an unmasked frame', frame(1, '4hi', { mask: false }), 1002],
    ['an unknown opcode', frame(3, 'x'), 1002],
    ['a continuation with nothing to continue', frame(0, 'x'), 1002],
    ['a fragmented ping', frame(9, 'x', { fin: false }), 1002],
    ['a new message inside a fragmented one', Buffer.concat([frame(1, '4a', { fin: false }), frame(1, '4b')]), 1002],
    ['invalid UTF-8 in a text frame', frame(1, Buffer.from([0x34, 0xc0, 0x80])), 1007],
    ['RSV bits without an extension', Buffer.from([0xc1, 0x80, 0, 0, 0, 0]), 1002],
  ];
  for (const [label, bytes, code] of violations) {
    const { c, sid } = await openSession(ctx, t);
    c.write(bytes);
    await expectClose(c, code, label);
    await assertSessionGone(ctx, sid);
  }
  await assertStillServing(ctx);
});

test('a peer that vanishes without a close frame ends its session ("transport close")', async (t) => {
  const ctx = await setup(t, QUIET);
  const { c, sid } = await openSession(ctx, t);
  c.close();
  await sleep(200);
  await assertSessionGone(ctx, sid);
  await assertStillServing(ctx);
});

test('an upgrade request with a head over 8 KB is not taken, and the server keeps serving', async (t) => {
  // DIVERGENCE (deliberate): the reference takes heads up to 16 KB; sio bounds them at 8 KB.
  if (IS_REF) return t.skip('the reference accepts heads up to 16 KB');
  const ctx = await setup(t, QUIET);
  const c = new RawWs(ctx.srv.port);
  await c.connected;
  c.write(upgradeRequest(ctx.srv.port, 'EIO=4&transport=websocket', { 'X-Filler': 'f'.repeat(9000) }).bytes);
  await withTimeout(c.ended, 5000, 'the server refusing the request');
  assert.ok(c.head === null || !/^HTTP\/1\.1 101 /.test(c.head), 'no upgrade');
  await assertStillServing(ctx);
});

test('random bytes after the handshake, on many connections at once, never hurt the server', async (t) => {
  const ctx = await setup(t, QUIET);
  // A fixed-seed generator: a failure can be replayed.
  let seed = 0x5eed;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  const clients = [];
  for (let i = 0; i < 60; i++) {
    const { c, sid } = await openSession(ctx, t);
    clients.push({ c, sid });
  }
  for (const [i, { c }] of clients.entries()) {
    // Half start with a plausible masked header (so the parser goes deeper), half pure noise.
    const noise = Buffer.from(Array.from({ length: 64 + (rand() % 2048) }, () => rand() & 0xff));
    if (i % 2 === 0) {
      noise[0] = 0x80 | [0, 1, 2, 8, 9, 10][rand() % 6];
      noise[1] = 0x80 | (rand() % 128);
    }
    c.write(noise);
  }
  await sleep(300);
  for (const { c } of clients) c.close();
  await sleep(200);
  // Every session is over: closed for its noise, or when its client hung up.
  for (const { sid } of clients) await assertSessionGone(ctx, sid);
  await assertStillServing(ctx);
});
