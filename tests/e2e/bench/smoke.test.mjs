// A short smoke run of the load generator (tests/bench/sio_bench.c, the instrument of
// scripts/bench) against the bench app, so that the benchmark keeps working: every scenario with
// a few clients for a fraction of a second. It checks that the run succeeded and that its figures
// are consistent (everything connected, work was measured, percentiles in order, the server's
// CPU and RSS read from /proc), never how fast anything was: timings are for scripts/bench.
//
// The generator is SIO_BENCH_BIN, else tests/bench/sio-bench in the build directory of
// SIO_SERVER_BIN (build-asan/sio-server -> build-asan/tests/bench/sio-bench), else
// build/tests/bench/sio-bench. With SIO_TEST_TARGET=ref the server is tests/e2e/ref/bench-server.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setup } from '../lib/eio.mjs';
import { REPO_ROOT } from '../lib/server.mjs';

function benchBin() {
  if (process.env.SIO_BENCH_BIN) return path.resolve(REPO_ROOT, process.env.SIO_BENCH_BIN);
  if (process.env.SIO_SERVER_BIN) {
    const dir = path.dirname(path.resolve(REPO_ROOT, process.env.SIO_SERVER_BIN));
    const candidate = path.join(dir, 'tests/bench/sio-bench');
    if (existsSync(candidate)) return candidate;
  }
  return path.join(REPO_ROOT, 'build/tests/bench/sio-bench');
}

/** Runs sio-bench; resolves with its exit code, its "result" line as an object, and stderr. */
function runBench(args) {
  return new Promise((resolve, reject) => {
    execFile(benchBin(), args, { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`sio-bench did not run: ${err.message}\n${stderr}`));
        return;
      }
      const line = stdout.split('\n').find((l) => l.startsWith('result '));
      const result = {};
      for (const kv of (line || '').split(' ').slice(1)) {
        const at = kv.indexOf('=');
        result[kv.slice(0, at)] = kv.slice(at + 1);
      }
      resolve({ code: err ? err.code : 0, line, result, stderr });
    });
  });
}

const num = (r, key) => {
  assert.ok(key in r, `the result has ${key}`);
  const v = Number(r[key]);
  assert.ok(Number.isFinite(v), `${key}=${r[key]} is a number`);
  return v;
};

const CLIENTS = 12;
const SCENARIOS = {
  conn: ['--hold', '0.3'],
  bcast: [],
  room: ['--rooms', '3'],
  echo: ['--inflight', '2'],
  polling: [],
};

for (const [scenario, extra] of Object.entries(SCENARIOS)) {
  test(`sio-bench ${scenario}: a short run succeeds with consistent figures`, async (t) => {
    const ctx = await setup(t, [], { app: 'bench' });
    const { code, line, result: r, stderr } = await runBench([
      scenario, '--port', String(ctx.srv.port), '--pid', String(ctx.srv.proc.pid),
      '--clients', String(CLIENTS), '--warmup', '0.2', '--duration', '0.6', '--timeout', '40',
      ...extra,
    ]);
    assert.ok(line, `a result line (stderr: ${stderr})`);
    assert.equal(code, 0, `exit status 0 (${line}; stderr: ${stderr})`);
    assert.equal(r.scenario, scenario);
    assert.equal(num(r, 'connected'), CLIENTS);
    assert.equal(num(r, 'failed'), 0);
    assert.equal(num(r, 'errors'), 0);
    assert.ok(num(r, 'connects_per_s') > 0);
    if (scenario === 'conn') {
      assert.ok(num(r, 'rss_kb') > 0, 'the server RSS was read');
      num(r, 'rss_per_conn_bytes');
      return;
    }
    const unit = scenario === 'bcast' || scenario === 'room' ? 'deliveries' : 'acks';
    const ops = num(r, unit);
    assert.ok(ops > 0, `${unit} were measured`);
    assert.ok(num(r, `${unit}_per_s`) > 0);
    if (unit === 'deliveries') {
      // Every broadcast reaches all clients (bcast) or one room's members (room).
      const per = scenario === 'bcast' ? CLIENTS : CLIENTS / 3;
      assert.ok(num(r, 'broadcasts') > 0);
      assert.ok(ops >= per, `at least one whole broadcast delivered (${ops})`);
    }
    const p50 = num(r, 'lat_p50_us');
    const p99 = num(r, 'lat_p99_us');
    const p999 = num(r, 'lat_p999_us');
    const max = num(r, 'lat_max_us');
    assert.ok(p50 > 0 && p50 <= p99 && p99 <= p999, `percentiles in order: ${p50} ${p99} ${p999}`);
    assert.ok(p999 <= max * 1.02, `p99.9 ${p999} within the maximum ${max} (bucket width)`);
    assert.ok(num(r, 'server_cpu_s') >= 0, 'the server CPU time was read');
    assert.ok(num(r, 'cpu_us_per_op') >= 0);
    assert.ok(num(r, 'rss_kb') > 0);
  });
}

test('sio-bench refuses bad usage with status 2', async () => {
  const { code, stderr } = await runBench(['no-such-scenario']);
  assert.equal(code, 2);
  assert.match(stderr, /unknown scenario/);
  const remote = await runBench(['echo', '--host', '10.0.0.1']);
  assert.equal(remote.code, 2, 'loopback only');
});
