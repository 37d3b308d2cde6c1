// sio-server serving https and wss (--tls-cert / --tls-key) with a self-signed certificate
// made by openssl for this run: socket.io-client over https long-polling, wss and the upgrade
// between them connects and echoes (the bench app); the certificate served is the one given;
// a client that verifies certificates refuses it, and plain http gets no answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { startServer } from '../lib/server.mjs';
import { connect, emitAck, get, once, withTimeout } from './helpers.mjs';

const INSECURE = { rejectUnauthorized: false };

describe('TLS: https and wss with a self-signed certificate', () => {
  let dir;
  let cert;
  let srv;
  let url;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sio-tls-test-'));
    const certFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
      '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', keyFile, '-out', certFile], { stdio: 'pipe', timeout: 10000 });
    cert = readFileSync(certFile, 'utf8');
    srv = await startServer(['--tls-cert', certFile, '--tls-key', keyFile], { app: 'bench' });
    url = `https://127.0.0.1:${srv.port}`;
  });
  after(async () => {
    try {
      await srv?.stop();
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  test('https serves /healthz with the given certificate (verified against it)', async () => {
    const res = await get(`${url}/healthz`, { ca: cert });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'ok\n');
    const served = await withTimeout(new Promise((resolve, reject) => {
      const sock = tls.connect({ host: '127.0.0.1', port: srv.port, ca: cert, servername: 'localhost' }, () => {
        resolve(sock.getPeerX509Certificate());
        sock.destroy();
      });
      sock.on('error', reject);
    }), 4000, 'the TLS handshake');
    assert.equal(served.toString().trim(), new (await import('node:crypto')).X509Certificate(cert).toString().trim());
  });

  for (const mode of ['polling', 'websocket', 'upgrade']) {
    test(`[${mode}] socket.io-client connects over ${mode === 'polling' ? 'https' : 'wss'} and echoes`, async (t) => {
      const s = await connect(t, url, { mode, tls: INSECURE });
      assert.equal(s.io.engine.transport.name, mode === 'polling' ? 'polling' : 'websocket');
      for (let i = 0; i < 3; i++) {
        const bin = Buffer.from([i, 255, 0]);
        const [obj, b] = await emitAck(s, 'echo', { i, s: 'é✓' }, bin);
        assert.deepEqual(obj, { i, s: 'é✓' });
        assert.ok(Buffer.from(b).equals(bin));
      }
    });
  }

  test('a client that verifies certificates refuses the self-signed one', async (t) => {
    const s = await connect(t, url, { mode: 'websocket', wait: false, tls: { rejectUnauthorized: true } });
    const [err] = await once(s, 'connect_error', 5000);
    assert.match(String(err.description?.message), /self.signed certificate/i, `connect_error: ${err.message}`);
    assert.equal(s.connected, false);
  });

  test('plain http on the TLS port gets no HTTP answer', async () => {
    const res = await get(`http://127.0.0.1:${srv.port}/healthz`, { timeout: 2000 }).catch((e) => e);
    assert.ok(res instanceof Error || res.status >= 400, `plain http answered ${res.status} ${res.body}`);
    srv.check();
  });
});
