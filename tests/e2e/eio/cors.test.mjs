// CORS: what --cors-origin / --cors-credentials make the server send, as the reference's
// `cors` middleware does (engine.io's `cors` option).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, request, pollingHandshake, poll, post } from '../lib/eio.mjs';

const A = 'http://a.example';
const B = 'http://b.example';
const EVIL = 'http://evil.example';
const METHODS = 'GET,HEAD,PUT,PATCH,POST,DELETE';
const QUIET = ['--ping-interval', '10000', '--ping-timeout', '5000'];

function preflight(ctx, origin, { requestHeaders, sid } = {}) {
  const headers = { 'access-control-request-method': 'POST' };
  if (origin) headers.origin = origin;
  if (requestHeaders) headers['access-control-request-headers'] = requestHeaders;
  return request(ctx.url(`EIO=4&transport=polling${sid ? `&sid=${sid}` : ''}`), { method: 'OPTIONS', headers });
}

/** Splits a Vary header into its lower-cased field names. */
function vary(res) {
  return (res.headers.vary || '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
}

test('with --cors-origin the preflight answers 204 with Allow-Origin, Allow-Methods, Allow-Headers and Vary', async (t) => {
  const ctx = await setup(t, ['--cors-origin', A, ...QUIET]);
  const res = await preflight(ctx, A, { requestHeaders: 'content-type' });
  assert.equal(res.status, 204);
  assert.equal(res.body, '');
  assert.equal(res.headers['access-control-allow-origin'], A);
  assert.equal(res.headers['access-control-allow-methods'], METHODS);
  assert.equal(res.headers['access-control-allow-headers'], 'content-type');
  assert.deepEqual(vary(res), ['origin', 'access-control-request-headers']);
  assert.equal(res.headers['access-control-allow-credentials'], undefined);

  const noHeaders = await preflight(ctx, A);
  assert.equal(noHeaders.status, 204);
  assert.equal(noHeaders.headers['access-control-allow-origin'], A);
  assert.equal(noHeaders.headers['access-control-allow-headers'], undefined);

  // a preflight for a request on an existing session is answered the same way
  const { sid } = await pollingHandshake(ctx, '');
  const onSession = await preflight(ctx, A, { sid });
  assert.equal(onSession.status, 204);
  assert.equal(onSession.headers['access-control-allow-origin'], A);
  assert.equal(onSession.headers['access-control-allow-methods'], METHODS);
});

test('with --cors-origin the handshake, POST, GET and error answers carry Allow-Origin and Vary: Origin', async (t) => {
  const ctx = await setup(t, ['--cors-origin', A, ...QUIET]);
  const headers = { origin: A };
  const hs = await request(ctx.url('EIO=4&transport=polling'), { headers });
  assert.equal(hs.status, 200);
  assert.equal(hs.headers['access-control-allow-origin'], A);
  assert.deepEqual(vary(hs), ['origin']);
  const sid = JSON.parse(hs.body.slice(1)).sid;
  const p = await post(ctx, sid, '4cors', { headers });
  assert.equal(p.body, 'ok');
  assert.equal(p.headers['access-control-allow-origin'], A);
  assert.deepEqual(vary(p), ['origin']);
  const g = await poll(ctx, sid, { headers });
  assert.equal(g.body, '4cors');
  assert.equal(g.headers['access-control-allow-origin'], A);
  assert.deepEqual(vary(g), ['origin']);
  const err = await request(ctx.url('EIO=4&transport=abc'), { headers });
  assert.equal(err.status, 400);
  assert.equal(err.headers['access-control-allow-origin'], A);
  assert.deepEqual(vary(err), ['origin']);
});

test('an origin that is not in the --cors-origin list gets no Access-Control-Allow-Origin', async (t) => {
  const ctx = await setup(t, ['--cors-origin', A, '--cors-origin', B, ...QUIET]);
  const ok = await request(ctx.url('EIO=4&transport=polling'), { headers: { origin: B } });
  assert.equal(ok.headers['access-control-allow-origin'], B);
  for (const origin of [EVIL, undefined]) {
    const hs = await request(ctx.url('EIO=4&transport=polling'), { headers: origin ? { origin } : {} });
    assert.equal(hs.status, 200);
    assert.equal(hs.headers['access-control-allow-origin'], undefined, `origin ${origin}`);
    assert.deepEqual(vary(hs), ['origin'], `origin ${origin}`);
    const pf = await preflight(ctx, origin);
    assert.equal(pf.status, 204, `origin ${origin}`);
    assert.equal(pf.headers['access-control-allow-origin'], undefined, `origin ${origin}`);
  }
});

test('--cors-origin * allows any origin with Access-Control-Allow-Origin: * and no Vary: Origin', async (t) => {
  const ctx = await setup(t, ['--cors-origin', '*', ...QUIET]);
  const hs = await request(ctx.url('EIO=4&transport=polling'), { headers: { origin: EVIL } });
  assert.equal(hs.status, 200);
  assert.equal(hs.headers['access-control-allow-origin'], '*');
  assert.equal(hs.headers.vary, undefined);
  const pf = await preflight(ctx, EVIL, { requestHeaders: 'content-type' });
  assert.equal(pf.status, 204);
  assert.equal(pf.headers['access-control-allow-origin'], '*');
  assert.equal(pf.headers['access-control-allow-methods'], METHODS);
  assert.equal(pf.headers['access-control-allow-headers'], 'content-type');
  assert.deepEqual(vary(pf), ['access-control-request-headers']);
});

test('--cors-credentials adds Access-Control-Allow-Credentials: true', async (t) => {
  const ctx = await setup(t, ['--cors-origin', A, '--cors-credentials', ...QUIET]);
  const hs = await request(ctx.url('EIO=4&transport=polling'), { headers: { origin: A } });
  assert.equal(hs.headers['access-control-allow-origin'], A);
  assert.equal(hs.headers['access-control-allow-credentials'], 'true');
  const pf = await preflight(ctx, A);
  assert.equal(pf.status, 204);
  assert.equal(pf.headers['access-control-allow-origin'], A);
  assert.equal(pf.headers['access-control-allow-credentials'], 'true');
  // (For an origin not in the list the reference still sends Allow-Credentials, without
  // Allow-Origin; a browser ignores it either way, so that is not asserted.)
});

test('without --cors-origin there is no Access-Control-Allow-Origin and a preflight is refused', async (t) => {
  const ctx = await setup(t, QUIET);
  const hs = await request(ctx.url('EIO=4&transport=polling'), { headers: { origin: A } });
  assert.equal(hs.status, 200);
  assert.equal(hs.headers['access-control-allow-origin'], undefined);
  const pf = await preflight(ctx, A);
  // no CORS middleware: OPTIONS without sid is a bad handshake method
  assert.equal(pf.status, 400);
  assert.equal(pf.body, '{"code":2,"message":"Bad handshake method"}');
  assert.equal(pf.headers['access-control-allow-origin'], undefined);
});
