// HTTP long-polling: payloads both ways, binary as 'b'+base64, held GETs, and what ends a
// polling session (duplicate GET, invalid packet, close packet, binary Content-Type).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, pollingHandshake, poll, post, sleep, SEP } from '../lib/eio.mjs';

const ERR_SID = '{"code":1,"message":"Session ID unknown"}';

// A long ping interval keeps pings out of the payloads these tests compare.
const QUIET = ['--ping-interval', '10000', '--ping-timeout', '5000'];

async function assertSessionGone(ctx, sid, what) {
  const res = await poll(ctx, sid);
  assert.equal(res.status, 400, `${what}: the session is gone`);
  assert.equal(res.body, ERR_SID, `${what}: the session is gone`);
}

test('a POST answers "ok" with Content-Type text/html', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  const res = await post(ctx, sid, '4hello');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'ok');
  assert.equal(res.headers['content-type'], 'text/html');
  assert.equal(res.headers['cache-control'], 'no-store');
});

test('one text packet is echoed in the next GET as text/plain; charset=UTF-8', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  assert.equal((await post(ctx, sid, '4hello')).body, 'ok');
  const res = await poll(ctx, sid);
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-type'], 'text/plain; charset=UTF-8');
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.body, '4hello');
});

test('several packets in one POST are echoed joined by \\x1e in one GET', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  assert.equal((await post(ctx, sid, ['4test1', '4test2', '4test3'].join(SEP))).body, 'ok');
  assert.equal((await poll(ctx, sid)).body, ['4test1', '4test2', '4test3'].join(SEP));
});

test('packets queued by several POSTs come back together in one GET', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  assert.equal((await post(ctx, sid, '4a')).body, 'ok');
  assert.equal((await post(ctx, sid, `4b${SEP}4c`)).body, 'ok');
  assert.equal((await poll(ctx, sid)).body, ['4a', '4b', '4c'].join(SEP));
});

test('UTF-8 text survives the round trip', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  const text = '4héllo wörld ✓ 😀 \u0000 end';
  assert.equal((await post(ctx, sid, text)).body, 'ok');
  assert.equal((await poll(ctx, sid)).body, text);
});

test('binary packets travel as b+base64 both ways, mixed with text', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  const payload = ['4hello', 'bAQIDBA==', `b${Buffer.from([0, 255, 128, 10, 30]).toString('base64')}`, '4bye'].join(SEP);
  assert.equal((await post(ctx, sid, payload)).body, 'ok');
  assert.equal((await poll(ctx, sid)).body, payload);
});

test('a GET is held until there is something to send', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  let answered = false;
  const held = poll(ctx, sid).then((r) => {
    answered = true;
    return r;
  });
  await sleep(150);
  assert.equal(answered, false, 'the GET is held while there is nothing to send');
  assert.equal((await post(ctx, sid, '4wake up')).body, 'ok');
  const res = await held;
  assert.equal(res.status, 200);
  assert.equal(res.body, '4wake up');
});

test('a duplicate GET is refused with 400, the first GET gets the close packet and the session ends', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  const first = poll(ctx, sid);
  await sleep(50);
  const second = await poll(ctx, sid);
  // The official suite allows 400 or 500 here; the reference sends 400 with an empty body.
  assert.equal(second.status, 400);
  assert.equal(second.body, '');
  const r1 = await first;
  assert.equal(r1.status, 200);
  assert.equal(r1.body, '1');
  await assertSessionGone(ctx, sid, 'after the duplicate GET');
});

for (const [name, body] of [['"abc"', 'abc'], ['an unknown packet type "9"', '9'], ['an empty body', '']]) {
  test(`an invalid packet (${name}) in a POST closes the session`, async (t) => {
    const ctx = await setup(t, QUIET);
    const { sid } = await pollingHandshake(ctx);
    const res = await post(ctx, sid, body);
    // The reference answers the POST with 200 "ok" before the session closes (the official
    // suite's 400 expectation sits in a try/catch that swallows the mismatch).
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok');
    await assertSessionGone(ctx, sid, 'after the invalid packet');
  });
}

test('an invalid packet after a valid one in the same POST: the valid one is processed, then the session closes', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  const held = poll(ctx, sid);
  await sleep(50);
  assert.equal((await post(ctx, sid, `4ok${SEP}abc`)).body, 'ok');
  assert.equal((await held).body, '4ok');
  await assertSessionGone(ctx, sid, 'after the invalid packet');
});

test('a close packet "1" ends the session and the held GET gets a noop "6"', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  const held = poll(ctx, sid);
  await sleep(50);
  const res = await post(ctx, sid, '1');
  assert.equal(res.status, 200);
  assert.equal(res.body, 'ok');
  const r = await held;
  assert.equal(r.status, 200);
  assert.equal(r.body, '6');
  await assertSessionGone(ctx, sid, 'after the close packet');
});

test('a close packet "1" without a held GET ends the session', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  assert.equal((await post(ctx, sid, '1')).body, 'ok');
  await assertSessionGone(ctx, sid, 'after the close packet');
});

test('a POST with Content-Type application/octet-stream is refused with 400 and ends the session', async (t) => {
  const ctx = await setup(t, QUIET);
  const { sid } = await pollingHandshake(ctx);
  const res = await post(ctx, sid, '4hello', { headers: { 'content-type': 'application/octet-stream' } });
  assert.equal(res.status, 400);
  assert.equal(res.body, '');
  await assertSessionGone(ctx, sid, 'after the binary POST');
});

test('many sessions are independent', async (t) => {
  const ctx = await setup(t, QUIET);
  const sessions = await Promise.all(Array.from({ length: 20 }, () => pollingHandshake(ctx)));
  await Promise.all(sessions.map(({ sid }, i) => post(ctx, sid, `4session ${i}`)));
  const bodies = await Promise.all(sessions.map(({ sid }) => poll(ctx, sid)));
  bodies.forEach((r, i) => assert.equal(r.body, `4session ${i}`));
});
