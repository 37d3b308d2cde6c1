// Helpers for the Engine.IO end-to-end tests: a per-test server with cleanup, raw HTTP
// requests (fetch), raw WebSockets (the `ws` package) with a message queue, and timeouts.
import assert from 'node:assert/strict';
import net from 'node:net';
import WebSocket from 'ws';
import { startServer } from './server.mjs';

export { IS_REF, TARGET } from './server.mjs';

export const PING_INTERVAL = 300; // the conformance app's defaults (as the official suite's)
export const PING_TIMEOUT = 200;
export const MAX_PAYLOAD = 1_000_000;
export const EIO_PATH = '/engine.io/';
export const SEP = '\x1e';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Rejects with `label` if `promise` takes longer than `ms`. */
export function withTimeout(promise, ms, label = 'operation') {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Starts a server for test `t` and registers its cleanup: tracked clients are closed (newest
 * first), then the server is stopped, which fails the test on a sanitizer report or an
 * unclean exit.
 */
export async function setup(t, args = [], opts = {}) {
  const srv = await startServer(args, opts);
  const closers = [];
  t.after(async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch {
        /* a client that is already gone */
      }
    }
    try {
      await srv.stop();
    } catch (e) {
      // node:test drops an after-hook error when the test itself has failed already (say, a
      // request that failed because the server crashed): print it so the report is seen.
      console.error(`\n[server of test "${t.name}"] ${e.message}\n`);
      throw e;
    }
  });
  return {
    srv,
    url: (query = '') => `${srv.url}${EIO_PATH}${query ? `?${query}` : ''}`,
    wsUrl: (query = '') => `${srv.wsUrl}${EIO_PATH}${query ? `?${query}` : ''}`,
    /** Registers something to close at the end of the test; returns it. */
    track(thing, close = () => thing.close()) {
      closers.push(close);
      return thing;
    },
  };
}

/**
 * One HTTP request; resolves with {status, headers (a plain object, lower-case names), body}.
 * `timeout` bounds the whole exchange.
 */
export async function request(url, { method = 'GET', body, headers = {}, timeout = 3000 } = {}) {
  let res;
  let text;
  try {
    res = await fetch(url, { method, body, headers, signal: AbortSignal.timeout(timeout) });
    text = await res.text();
  } catch (e) {
    const what = e.name === 'TimeoutError' ? `no answer within ${timeout} ms` : `${e.message}${e.cause ? ` (${e.cause.code || e.cause.message})` : ''}`;
    const err = new Error(`${method} ${url.length > 200 ? `${url.slice(0, 200)}...` : url}: ${what}`);
    err.cause = e;
    throw err;
  }
  const h = {};
  res.headers.forEach((v, k) => {
    h[k] = v;
  });
  return { status: res.status, headers: h, body: text };
}

/** Parses an open packet ("0{...}"). */
export function parseOpen(text) {
  if (typeof text !== 'string' || text[0] !== '0') throw new Error(`not an open packet: ${JSON.stringify(text)}`);
  return JSON.parse(text.slice(1));
}

/** Opens a polling session; resolves with {sid, open, res}. */
export async function pollingHandshake(ctx, extraQuery = '') {
  const res = await request(ctx.url(`EIO=4&transport=polling${extraQuery ? `&${extraQuery}` : ''}`));
  if (res.status !== 200) throw new Error(`handshake failed: ${res.status} ${res.body}`);
  const open = parseOpen(res.body);
  return { sid: open.sid, open, res };
}

/** GET on a polling session. */
export function poll(ctx, sid, opts = {}) {
  return request(ctx.url(`EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`), opts);
}

/** POST on a polling session. */
export function post(ctx, sid, body, opts = {}) {
  return request(ctx.url(`EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`), {
    ...opts,
    method: 'POST',
    body,
  });
}

/**
 * A raw WebSocket with a queue of received messages.
 *   const c = await wsConnect(url)      // resolves once open; rejects on refusal
 *   const m = await c.next()            // {data: string | Buffer, binary: boolean}
 *   const {code} = await c.closed       // resolves when the connection is closed
 */
export class WsClient {
  constructor(url, options = {}) {
    this.url = url;
    this.ws = new WebSocket(url, { handshakeTimeout: 3000, ...options });
    this.queue = [];
    this.waiters = [];
    this.closeInfo = null;
    this.errors = [];
    this.rejection = null; // {status, headers, body} when the server refused the upgrade
    this.ws.on('message', (data, isBinary) => {
      const msg = { data: isBinary ? Buffer.from(data) : data.toString('utf8'), binary: isBinary };
      const w = this.waiters.shift();
      if (w) w.resolve(msg);
      else this.queue.push(msg);
    });
    this.ws.on('error', (e) => this.errors.push(e));
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) {
          w.reject(new Error(`websocket closed (code ${code}) while waiting for a message`));
        }
        resolve(this.closeInfo);
      });
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('unexpected-response', (req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => {
          this.rejection = { status: res.statusCode, headers: res.headers, body };
          const err = new Error(`websocket refused: HTTP ${res.statusCode} ${body}`);
          err.rejection = this.rejection;
          reject(err);
          req.destroy();
        });
        res.on('error', () => {});
      });
      this.closed.then(() => reject(new Error('websocket closed before opening')));
    });
    this.opened.catch(() => {});
  }

  /** The next message, waiting at most `ms`. */
  next(ms = 2000) {
    const msg = this.queue.shift();
    if (msg) return Promise.resolve(msg);
    if (this.closeInfo) {
      return Promise.reject(new Error(`websocket closed (code ${this.closeInfo.code}) while waiting for a message`));
    }
    let waiter;
    const p = new Promise((resolve, reject) => {
      waiter = { resolve, reject };
      this.waiters.push(waiter);
    });
    return withTimeout(p, ms, 'waiting for a websocket message').catch((e) => {
      this.waiters = this.waiters.filter((w) => w !== waiter); // the one that timed out
      throw e;
    });
  }

  /** The next text message, asserting it is text. */
  async nextText(ms = 2000) {
    const m = await this.next(ms);
    if (m.binary) throw new Error(`expected a text message, got binary ${m.data.toString('hex')}`);
    return m.data;
  }

  send(data) {
    this.ws.send(data);
  }

  /** Resolves with {code, reason} when closed, or rejects after `ms`. */
  waitClosed(ms = 2000) {
    return withTimeout(this.closed, ms, 'waiting for the websocket to close');
  }

  close() {
    if (this.closeInfo) return Promise.resolve();
    this.ws.terminate();
    return this.closed;
  }
}

/** Opens a raw WebSocket and waits for it to be open. */
export async function wsConnect(url, options = {}) {
  const c = new WsClient(url, options);
  await withTimeout(c.opened, 3000, 'opening the websocket');
  return c;
}

/** Opens a websocket-only session: resolves with {client, sid, open}. */
export async function wsHandshake(ctx, extraQuery = '') {
  const c = ctx.track(await wsConnect(ctx.wsUrl(`EIO=4&transport=websocket${extraQuery ? `&${extraQuery}` : ''}`)));
  const open = parseOpen(await c.nextText());
  return { client: c, sid: open.sid, open };
}

/**
 * Sends raw bytes over a fresh TCP connection and collects whatever comes back until the server
 * closes the connection or `ms` passes. Resolves with {data (Buffer), closedByServer}.
 */
export function rawTcp(port, bytes, ms = 1000) {
  return new Promise((resolve) => {
    const chunks = [];
    const sock = net.connect({ port, host: '127.0.0.1' });
    let settled = false;
    const done = (closedByServer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(chunks), closedByServer });
    };
    const timer = setTimeout(() => done(false), ms);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => done(true));
    sock.on('close', () => done(true));
    sock.on('error', () => done(true));
  });
}

/** Fails unless the server still serves a fresh client over both transports. */
export async function assertStillServing(ctx) {
  const { sid } = await pollingHandshake(ctx);
  assert.equal((await post(ctx, sid, '4still serving')).body, 'ok');
  assert.equal((await poll(ctx, sid)).body, '4still serving');
  const { client } = await wsHandshake(ctx);
  client.send('4ws still serving');
  assert.equal(await client.nextText(), '4ws still serving');
}
