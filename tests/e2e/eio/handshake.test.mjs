// Engine.IO handshake: the open packet over polling and over websocket, and what the flags
// change in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  setup, request, parseOpen, pollingHandshake, wsHandshake,
  PING_INTERVAL, PING_TIMEOUT, MAX_PAYLOAD,
} from '../lib/eio.mjs';

const SID_RE = /^[A-Za-z0-9_-]{20,}$/;

function assertOpenFields(open) {
  assert.deepEqual(Object.keys(open).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
  assert.equal(typeof open.sid, 'string');
  assert.match(open.sid, SID_RE);
}

test('polling handshake answers an open packet with sid, upgrades ["websocket"], pingInterval, pingTimeout and maxPayload', async (t) => {
  const ctx = await setup(t);
  const res = await request(ctx.url('EIO=4&transport=polling'));
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; charset=UTF-8');
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.body[0], '0');
  assert.equal(res.body.includes('\x1e'), false, 'the handshake response holds only the open packet');
  const open = parseOpen(res.body);
  assertOpenFields(open);
  assert.deepEqual(open.upgrades, ['websocket']);
  assert.equal(open.pingInterval, PING_INTERVAL);
  assert.equal(open.pingTimeout, PING_TIMEOUT);
  assert.equal(open.maxPayload, MAX_PAYLOAD);
});

test('websocket handshake sends an open packet with upgrades []', async (t) => {
  const ctx = await setup(t);
  const { open } = await wsHandshake(ctx);
  assertOpenFields(open);
  assert.deepEqual(open.upgrades, []);
  assert.equal(open.pingInterval, PING_INTERVAL);
  assert.equal(open.pingTimeout, PING_TIMEOUT);
  assert.equal(open.maxPayload, MAX_PAYLOAD);
});

test('--no-upgrades advertises no upgrades over polling', async (t) => {
  const ctx = await setup(t, ['--no-upgrades']);
  const { open } = await pollingHandshake(ctx);
  assert.deepEqual(open.upgrades, []);
});

test('--transports polling advertises no upgrades', async (t) => {
  const ctx = await setup(t, ['--transports', 'polling']);
  const { open } = await pollingHandshake(ctx);
  assert.deepEqual(open.upgrades, []);
});

test('--transports websocket accepts a websocket handshake', async (t) => {
  const ctx = await setup(t, ['--transports', 'websocket']);
  const { open } = await wsHandshake(ctx);
  assert.deepEqual(open.upgrades, []);
});

test('--ping-interval, --ping-timeout and --max-payload are advertised in the open packet', async (t) => {
  const ctx = await setup(t, ['--ping-interval', '1234', '--ping-timeout', '567', '--max-payload', '4321']);
  const { open } = await pollingHandshake(ctx);
  assert.equal(open.pingInterval, 1234);
  assert.equal(open.pingTimeout, 567);
  assert.equal(open.maxPayload, 4321);
  const ws = await wsHandshake(ctx);
  assert.equal(ws.open.pingInterval, 1234);
  assert.equal(ws.open.pingTimeout, 567);
  assert.equal(ws.open.maxPayload, 4321);
});

test('session ids look unguessable: 20+ characters of [A-Za-z0-9_-], 50 handshakes all distinct', async (t) => {
  const ctx = await setup(t);
  const sids = new Set();
  for (let i = 0; i < 25; i++) {
    const { sid } = await pollingHandshake(ctx);
    assert.match(sid, SID_RE);
    sids.add(sid);
  }
  const ws = await Promise.all(Array.from({ length: 25 }, () => wsHandshake(ctx)));
  for (const { sid } of ws) {
    assert.match(sid, SID_RE);
    sids.add(sid);
  }
  assert.equal(sids.size, 50);
});
