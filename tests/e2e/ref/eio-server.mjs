// The Node.js reference for sio-server's conformance app: the engine.io npm package (6.6)
// attached to a plain http server at /engine.io/, echoing every message (text and binary).
// It takes the same flags as sio-server, so the end-to-end tests can run against either
// (SIO_TEST_TARGET=ref) and prove that they encode the reference behaviour.
//
//   node tests/e2e/ref/eio-server.mjs [--host ADDR] [--port N] [--app conformance]
//        [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
//        [--transports polling,websocket] [--no-upgrades]
//        [--cors-origin ORIGIN]... [--cors-credentials]
import http from 'node:http';
import { Server } from 'engine.io';

const opts = {
  host: '127.0.0.1',
  port: 3000,
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  transports: ['polling', 'websocket'],
  allowUpgrades: true,
  corsOrigins: [],
  corsCredentials: false,
};

function fail(msg) {
  process.stderr.write(`eio-server: ${msg}\n`);
  process.exit(2);
}

function uint(name, v) {
  if (v === undefined || !/^\d+$/.test(v)) fail(`invalid value for ${name}: ${v}`);
  return Number(v);
}

const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => argv[++i];
  switch (a) {
    case '--app': {
      const app = next();
      if (app !== 'conformance') fail(`unknown app: ${app}`);
      break;
    }
    case '--host': opts.host = next(); break;
    case '--port': opts.port = uint(a, next()); break;
    case '--ping-interval': opts.pingInterval = uint(a, next()); break;
    case '--ping-timeout': opts.pingTimeout = uint(a, next()); break;
    case '--max-payload': opts.maxHttpBufferSize = uint(a, next()); break;
    case '--transports': {
      const list = (next() || '').split(',').filter(Boolean);
      if (!list.length || list.some((t) => t !== 'polling' && t !== 'websocket')) {
        fail(`invalid value for --transports: ${list.join(',')}`);
      }
      opts.transports = list;
      break;
    }
    case '--no-upgrades': opts.allowUpgrades = false; break;
    case '--cors-origin': opts.corsOrigins.push(next()); break;
    case '--cors-credentials': opts.corsCredentials = true; break;
    case '--log-level': next(); break;
    default: fail(`unexpected argument: ${a}`);
  }
}

// --cors-origin maps to the `cors` option (the `cors` npm package, as engine.io uses it):
// `*` anywhere in the list allows any origin; otherwise the list is matched against the
// request's Origin header, which is echoed back when it is in the list.
let cors = false;
if (opts.corsOrigins.length) {
  cors = { origin: opts.corsOrigins.includes('*') ? '*' : opts.corsOrigins };
  if (opts.corsCredentials) cors.credentials = true;
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});

const engine = new Server({
  pingInterval: opts.pingInterval,
  pingTimeout: opts.pingTimeout,
  maxHttpBufferSize: opts.maxHttpBufferSize,
  transports: opts.transports,
  allowUpgrades: opts.allowUpgrades,
  cors,
});
engine.attach(httpServer, { path: '/engine.io/' });

engine.on('connection', (socket) => {
  socket.on('message', (data) => socket.send(data));
});

httpServer.listen(opts.port, opts.host, () => {
  process.stdout.write(`eio-server listening on http://${opts.host}:${opts.port}\n`);
});

function shutdown() {
  engine.close();
  httpServer.close(() => process.exit(0));
  httpServer.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
