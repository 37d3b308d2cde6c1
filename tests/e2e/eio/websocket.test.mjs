// WebSocket transport: text and binary echo, order, invalid packets, client pings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, wsHandshake } from '../lib/eio.mjs';

const QUIET = ['--ping-interval', '10000', '--ping-timeout', '5000'];

test('websocket text messages are echoed', async (t) => {
  const ctx = await setup(t, QUIET);
  const { client } = await wsHandshake(ctx);
  client.send('4hello');
  assert.deepEqual(await client.next(), { data: '4hello', binary: false });
  const text = '4héllo wörld ✓ 😀 \u0000 end';
  client.send(text);
  assert.deepEqual(await client.next(), { data: text, binary: false });
  client.send('4');
  assert.deepEqual(await client.next(), { data: '4', binary: false });
});

test('websocket binary messages are echoed as binary frames', async (t) => {
  const ctx = await setup(t, QUIET);
  const { client } = await wsHandshake(ctx);
  client.send(Uint8Array.from([1, 2, 3, 4]));
  const m = await client.next();
  assert.equal(m.binary, true);
  assert.deepEqual([...m.data], [1, 2, 3, 4]);
  const big = Buffer.alloc(70000, 0xab); // needs the 64-bit frame length
  client.send(big);
  const m2 = await client.next();
  assert.equal(m2.binary, true);
  assert.ok(big.equals(m2.data));
});

test('a websocket text packet "b"+base64 is echoed as a binary frame', async (t) => {
  const ctx = await setup(t, QUIET);
  const { client } = await wsHandshake(ctx);
  // A text frame may carry a base64 binary packet; the echo goes out as a binary frame.
  client.send('bAQID');
  const m = await client.next();
  assert.equal(m.binary, true);
  assert.deepEqual([...m.data], [1, 2, 3]);
});

test('many websocket messages come back in order', async (t) => {
  const ctx = await setup(t, QUIET);
  const { client } = await wsHandshake(ctx);
  for (let i = 0; i < 200; i++) client.send(i % 2 ? `4message ${i}` : Buffer.from(`bin ${i}`));
  for (let i = 0; i < 200; i++) {
    const m = await client.next();
    if (i % 2) assert.deepEqual(m, { data: `4message ${i}`, binary: false });
    else assert.equal(Buffer.from(m.data).toString(), `bin ${i}`);
  }
});

test('an invalid websocket packet closes the connection', async (t) => {
  const ctx = await setup(t, QUIET);
  for (const bad of ['abc', '9', '']) {
    const { client } = await wsHandshake(ctx);
    client.send(bad);
    // The reference closes without a status code (1005).
    await client.waitClosed(2000);
    assert.deepEqual(client.queue, [], `nothing before the close after ${JSON.stringify(bad)}`);
  }
});

test('a ping from the client closes the websocket session (heartbeats go server to client in EIO 4)', async (t) => {
  const ctx = await setup(t, QUIET);
  const { client } = await wsHandshake(ctx);
  client.send('2');
  await client.waitClosed(2000);
});

test('a closed websocket session leaves the others working', async (t) => {
  const ctx = await setup(t, QUIET);
  const a = await wsHandshake(ctx);
  const b = await wsHandshake(ctx);
  a.client.send('abc');
  await a.client.waitClosed(2000);
  b.client.send('4still here');
  assert.equal(await b.client.nextText(), '4still here');
});
