// Cluster fan-out latency (scripts/bench-cluster runs it): a real redis-server and two servers
// joined to it, all on loopback; `--clients` socket.io-client sockets on node 2 and one sender on
// node 1. The sender emits "bcast" {seq, t} at `--rate` a second (the bench app answers with
// io.emit("msg", payload): node 1 publishes it on Redis, node 2 delivers it to its clients); each
// receipt on node 2 is timed against its emit, on this process' monotonic clock. Prints the
// p50/p99/p999/max of those latencies and how many receipts came (and were expected).
//   node tests/bench/cluster-latency.mjs [--target sio|node] [--clients N] [--count N]
//        [--warmup N] [--rate PER_S] [--payload BYTES] [--bin FILE]
// target sio: build/sio-server --app bench --redis URL (two instances); target node: two
// Node.js socket.io 4.8 servers with @socket.io/redis-adapter (tests/e2e/ref/cluster-node.mjs).
// Bounded: connecting, the run (count / rate + 10 s) and stopping all have deadlines.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The npm packages live with the end-to-end tests.
const { io } = createRequire(path.join(ROOT, 'tests/e2e/package.json'))('socket.io-client');

const opts = { target: 'sio', clients: 100, count: 2000, warmup: 200, rate: 200, payload: 32,
  bin: path.join(ROOT, 'build/sio-server') };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const name = argv[i].replace(/^--/, '');
  if (!(name in opts) || i + 1 >= argv.length) fail(`unknown or incomplete argument: ${argv[i]}`);
  opts[name] = typeof opts[name] === 'number' ? Number(argv[++i]) : argv[++i];
  if (Number.isNaN(opts[name])) fail(`--${name} wants a number`);
}
if (!['sio', 'node'].includes(opts.target)) fail('--target sio or node');

function fail(msg) {
  console.error(`cluster-latency: ${msg}`);
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const procs = [];
process.on('exit', () => { for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function listening(port, proc, what) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (proc.exitCode !== null) fail(`${what} exited (${proc.exitCode}): ${proc.log}`);
    const ok = await new Promise((resolve) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) fail(`${what} did not listen on ${port}: ${proc.log}`);
    await sleep(20);
  }
}

function start(file, args, what) {
  const proc = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.log = '';
  proc.stderr.on('data', (d) => { proc.log = (proc.log + d).slice(-4000); });
  procs.push(proc);
  return proc;
}

async function startServer(redisUrl) {
  const port = await freePort();
  const proc = opts.target === 'sio'
    ? start(opts.bin, ['--app', 'bench', '--host', '127.0.0.1', '--port', String(port), '--redis', redisUrl,
      '--log-level', 'warn'], 'sio-server')
    : start(process.execPath, [path.join(ROOT, 'tests/e2e/ref/cluster-node.mjs'), '--port', String(port),
      '--redis', redisUrl], 'cluster-node');
  await listening(port, proc, opts.target);
  // Joined: sio's /readyz is 200 once its Redis link is up; the Node.js one connects first.
  if (opts.target === 'sio') {
    const deadline = Date.now() + 5000;
    while ((await fetch(`http://127.0.0.1:${port}/readyz`)).status !== 200) {
      if (Date.now() > deadline) fail('sio-server did not join Redis');
      await sleep(20);
    }
  }
  return `http://127.0.0.1:${port}`;
}

function connect(url) {
  return new Promise((resolve, reject) => {
    const s = io(url, { forceNew: true, reconnection: false, transports: ['websocket'], timeout: 10_000 });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

function percentile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN;
}

const redisPort = await freePort();
const redis = start('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '',
  '--appendonly', 'no', '--loglevel', 'warning'], 'redis-server');
await listening(redisPort, redis, 'redis-server');
const redisUrl = `redis://127.0.0.1:${redisPort}`;
const [url1, url2] = [await startServer(redisUrl), await startServer(redisUrl)];

const receivers = [];
for (let i = 0; i < opts.clients; i++) receivers.push(await connect(url2));
const sender = await connect(url1);

const total = opts.warmup + opts.count;
const latencies = [];
let received = 0;
let duplicates = 0;
const seen = receivers.map(() => new Uint8Array(total));
receivers.forEach((s, i) => s.on('msg', (m) => {
  const now = performance.now();
  if (!m || typeof m.seq !== 'number' || m.seq >= total) return;
  if (seen[i][m.seq]++) duplicates++;
  received++;
  if (m.seq >= opts.warmup) latencies.push(now - m.t);
}));

// Is the cluster complete (node 2 subscribed)? A probe until it arrives.
const probeDeadline = Date.now() + 5000;
let probed = false;
receivers[0].once('msg', () => { probed = true; });
while (!probed) {
  if (Date.now() > probeDeadline) fail('node 2 never received from node 1: is the cluster joined?');
  sender.emit('bcast', { probe: true });
  await sleep(50);
}
await sleep(200);

const pad = 'x'.repeat(Math.max(0, opts.payload - 30));
const interval = 1000 / opts.rate;
const t0 = performance.now();
for (let seq = 0; seq < total; seq++) {
  const due = t0 + seq * interval;
  const wait = due - performance.now();
  if (wait > 1) await sleep(wait);
  sender.emit('bcast', { seq, t: performance.now(), pad });
}
const expected = total * opts.clients;
const deadline = Date.now() + 10_000;
while (received < expected && Date.now() < deadline) await sleep(20);
const sendSeconds = (performance.now() - t0) / 1000;

latencies.sort((a, b) => a - b);
const ms = (v) => v.toFixed(2);
console.log(`cluster fan-out latency, ${opts.target}: emit on node 1 -> receipt on node 2 (${opts.clients} clients)` +
  `, ${opts.count} messages (+${opts.warmup} warm-up) at ${opts.rate}/s, ${opts.payload} B payload`);
console.log(`  count ${latencies.length} of ${opts.count * opts.clients}  ` +
  `p50 ${ms(percentile(latencies, 0.5))} ms  p99 ${ms(percentile(latencies, 0.99))} ms  ` +
  `p999 ${ms(percentile(latencies, 0.999))} ms  max ${ms(latencies.at(-1) ?? NaN)} ms`);
console.log(`  receipts ${received} of ${expected}, duplicates ${duplicates}, sending took ${sendSeconds.toFixed(1)} s`);

for (const s of [sender, ...receivers]) s.disconnect();
for (const p of procs) p.kill('SIGTERM');
await Promise.race([Promise.all(procs.map((p) => p.exitCode !== null || new Promise((r) => p.once('exit', r)))), sleep(3000)]);
process.exit(received === expected && duplicates === 0 ? 0 : 1);
