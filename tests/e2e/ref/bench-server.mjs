// The Node.js reference for sio-server's bench app (src/app/app_bench.c): socket.io 4.8 with its
// default options, the same contract on namespace "/", for side-by-side benchmarks and for the
// end-to-end tests (SIO_TEST_TARGET=ref):
//   "echo" ...args, ack          ack(...args)
//   "bcast" payload              io.emit("msg", payload)
//   "join" room, ack?            socket.join(room), then ack()
//   "room-bcast" room, payload   io.to(room).emit("msg", payload)
// It serves the client bundle at /socket.io/socket.io.js (serveClient) as sio-server does.
//
//   node tests/e2e/ref/bench-server.mjs [--host ADDR] [--port N] [--path PATH]
//        [--ping-interval MS] [--ping-timeout MS] [--max-payload BYTES]
//        [--connect-timeout MS] [--transports polling,websocket] [--no-upgrades]
import http from 'node:http';
import { Server } from 'socket.io';

const opts = { host: '127.0.0.1', port: 3000 };
const ioOpts = {};

function fail(msg) {
  process.stderr.write(`bench-server: ${msg}\n`);
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
    case '--app': if (next() !== 'bench') fail('only --app bench'); break;
    case '--host': opts.host = next(); break;
    case '--port': opts.port = uint(a, next()); break;
    case '--path': ioOpts.path = next(); break;
    case '--ping-interval': ioOpts.pingInterval = uint(a, next()); break;
    case '--ping-timeout': ioOpts.pingTimeout = uint(a, next()); break;
    case '--max-payload': ioOpts.maxHttpBufferSize = uint(a, next()); break;
    case '--connect-timeout': ioOpts.connectTimeout = uint(a, next()); break;
    case '--transports': ioOpts.transports = (next() || '').split(','); break;
    case '--no-upgrades': ioOpts.allowUpgrades = false; break;
    case '--log-level': next(); break;
    default: fail(`unexpected argument: ${a}`);
  }
}

const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});
const io = new Server(httpServer, ioOpts);

io.on('connection', (socket) => {
  socket.on('echo', (...args) => {
    const ack = args.pop();
    if (typeof ack === 'function') ack(...args);
  });
  socket.on('bcast', (payload) => io.emit('msg', payload));
  socket.on('join', (room, ack) => {
    socket.join(room);
    if (typeof ack === 'function') ack();
  });
  socket.on('room-bcast', (room, payload) => io.to(room).emit('msg', payload));
});

httpServer.listen(opts.port, opts.host, () => {
  process.stdout.write(`bench-server listening on http://${opts.host}:${opts.port}\n`);
});

function shutdown() {
  io.close(() => process.exit(0)); // disconnects every client and closes httpServer
  httpServer.closeAllConnections();
  setTimeout(() => process.exit(0), 1000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
