// The Node.js member of the mixed clusters in tests/e2e/cluster: socket.io 4.8 with
// @socket.io/redis-adapter 8.x (node-redis 4 clients), serving on "/" and "/custom" the cluster
// events of sio-server's conformance app (src/app/app_conformance.c), so that the same tests
// drive either. `spec` is {to?: [rooms], except?: [rooms], local?: bool, volatile?: bool}:
//   "join" room, ack?                  socket.join(room); ack([...socket.rooms])
//   "leave" room, ack?                 socket.leave(room); ack([...socket.rooms])
//   "to-room" room, ...args            socket.to(room).emit("room-message", ...args)
//   "broadcast" ...args                nsp.emit("broadcast-message", ...args)
//   "ask-all" ms, ...args              nsp.timeout(ms).emit("question", ...args, cb) ->
//                                      socket.emit("answers", err, responses)
//   "count", ack                       ack((await nsp.fetchSockets()).length)
//   "bc" spec, event, ...args, ack?    operator.emit(event, ...args); ack()
//   "fetch" spec, ack                  ack([{id, rooms (sorted), remote}] sorted by id)
//   "sockets-join" / "sockets-leave" spec, room, ack?
//   "disconnect-sockets" spec, close, ack?
//   "server-emit" event, ...args, ack?
//   "server-emit-ack" ms, event, ...args, ack   ack(err message or null, responses)
//                                      (the adapter's requestsTimeout applies: --requests-timeout)
//   "remote-emit" id, event, ...args, ack      fetched socket `id`.emit(event, ...args); ack(found)
//   "bcast" payload                    nsp.emit("msg", payload) (the bench app's contract, for
//                                      scripts/bench-cluster)
// From other servers: "hello" ...args -> nsp.local.emit("server-hello", ...args);
// "whoami", cb -> cb("node:<port>").
//
//   node tests/e2e/ref/cluster-node.mjs --port N --redis URL [--host ADDR] [--redis-prefix P]
//        [--requests-timeout MS]
import http from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';

const opts = { host: '127.0.0.1', port: 3000, redis: null, prefix: 'socket.io', requestsTimeout: 5000 };

function fail(msg) {
  process.stderr.write(`cluster-node: ${msg}\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const next = () => argv[++i];
  switch (a) {
    case '--host': opts.host = next(); break;
    case '--port': opts.port = Number(next()); break;
    case '--redis': opts.redis = next(); break;
    case '--redis-prefix': opts.prefix = next(); break;
    case '--requests-timeout': opts.requestsTimeout = Number(next()); break;
    case '--app': next(); break; // accepted for symmetry with sio-server
    case '--log-level': next(); break;
    default: fail(`unexpected argument: ${a}`);
  }
}
if (!opts.redis) fail('--redis URL is required');

const name = `node:${opts.port}`;
const pub = createClient({ url: opts.redis });
const sub = pub.duplicate();
for (const c of [pub, sub]) c.on('error', () => { /* node-redis reconnects by itself */ });
await Promise.all([pub.connect(), sub.connect()]);

const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found\n');
});
const io = new Server(httpServer, {
  adapter: createAdapter(pub, sub, { key: opts.prefix, requestsTimeout: opts.requestsTimeout }),
});

function operator(nsp, spec = {}) {
  let op = spec.local ? nsp.local : nsp;
  if (spec.to && spec.to.length) op = op.to(spec.to);
  if (spec.except && spec.except.length) op = op.except(spec.except);
  if (spec.volatile) op = op.volatile;
  return op;
}

const ackOf = (args) => (typeof args[args.length - 1] === 'function' ? args.pop() : () => {});

function serve(nsp) {
  nsp.on('hello', (...args) => nsp.local.emit('server-hello', ...args));
  nsp.on('whoami', (cb) => cb(name));
  nsp.on('connection', (socket) => {
    socket.emit('auth', socket.handshake.auth);
    socket.on('join', (room, ...rest) => {
      socket.join(room);
      ackOf(rest)([...socket.rooms]);
    });
    socket.on('leave', (room, ...rest) => {
      socket.leave(room);
      ackOf(rest)([...socket.rooms]);
    });
    socket.on('to-room', (room, ...args) => socket.to(room).emit('room-message', ...args));
    socket.on('broadcast', (...args) => nsp.emit('broadcast-message', ...args));
    socket.on('bcast', (payload) => nsp.emit('msg', payload === undefined ? null : payload));
    socket.on('ask-all', (ms, ...args) => {
      nsp.timeout(ms).emit('question', ...args, (err, responses) => {
        socket.emit('answers', err ? err.message : null, responses);
      });
    });
    socket.on('count', async (ack) => ack((await nsp.fetchSockets()).length));
    socket.on('bc', (spec, event, ...args) => {
      const ack = ackOf(args);
      operator(nsp, spec).emit(event, ...args);
      ack();
    });
    socket.on('fetch', async (spec, ack) => {
      const sockets = await operator(nsp, spec).fetchSockets();
      const list = sockets.map((s) => ({ id: s.id, rooms: [...s.rooms].sort(), remote: !nsp.sockets.has(s.id) }));
      list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      ack(list);
    });
    socket.on('sockets-join', (spec, room, ...rest) => {
      operator(nsp, spec).socketsJoin(room);
      ackOf(rest)();
    });
    socket.on('sockets-leave', (spec, room, ...rest) => {
      operator(nsp, spec).socketsLeave(room);
      ackOf(rest)();
    });
    socket.on('disconnect-sockets', (spec, close, ...rest) => {
      ackOf(rest)();
      operator(nsp, spec).disconnectSockets(close);
    });
    socket.on('server-emit', (event, ...args) => {
      const ack = ackOf(args);
      nsp.serverSideEmit(event, ...args);
      ack();
    });
    socket.on('server-emit-ack', (ms, event, ...args) => {
      const ack = ackOf(args);
      nsp.serverSideEmit(event, ...args, (err, responses) => ack(err ? err.message : null, responses));
    });
    socket.on('remote-emit', async (id, event, ...args) => {
      const ack = ackOf(args);
      const target = (await nsp.fetchSockets()).find((s) => s.id === id);
      if (target) target.emit(event, ...args);
      ack(!!target);
    });
  });
}
serve(io.of('/'));
serve(io.of('/custom'));

httpServer.listen(opts.port, opts.host, () => {
  process.stdout.write(`cluster-node listening on http://${opts.host}:${opts.port}\n`);
});

async function shutdown() {
  setTimeout(() => process.exit(0), 1500).unref();
  io.close();
  httpServer.closeAllConnections();
  await Promise.allSettled([pub.disconnect(), sub.disconnect()]);
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
