/* A client: the Socket.IO side of one Engine.IO session. It decodes packets, waits for the
 * binary attachments a packet announces, routes packets to the client's socket in their
 * namespace (or connects one), and closes connections that join no namespace in time.
 *
 * Protocol violations end the connection as the reference's do: a packet that does not decode,
 * an attachment nobody announced, or a text packet while attachments are awaited closes the
 * Engine.IO session after what is queued ("forced close" for the sockets); a packet that makes
 * no sense in the client's state (a second CONNECT, an event for a namespace it has not joined)
 * closes it at once with "forced server close". */
#include <stdlib.h>
#include <string.h>

#include "sio/sio_internal.h"
#include "util/log.h"

sio_client *client_ref(sio_client *c) {
  c->refs++;
  return c;
}

static void reassembly_clear(sio_client *c) {
  for (unsigned i = 0; i < c->nbins; i++) free((void *)c->bins[i].data);
  free(c->bins);
  c->bins = NULL;
  c->nbins = 0;
  if (c->reassembling) sio_packet_clear(&c->partial);
  c->reassembling = false;
}

void client_release(sio_client *c) {
  if (--c->refs) return;
  fifo_timer_disarm(&c->connect_timer);
  reassembly_clear(c);
  free(c);
}

/* The client no longer writes to its session nor hears from it. */
static void detach_session(sio_client *c) {
  fifo_timer_disarm(&c->connect_timer);
  reassembly_clear(c);
  c->open = false;
}

/* Every socket leaves with `reason`. A handler may disconnect others meanwhile: the list is
 * re-read each time, and a leaving socket is out of it at once. */
static void close_sockets(sio_client *c, const char *reason) {
  while (c->sockets) socket_close(c->sockets, reason);
}

void client_close(sio_client *c, const char *reason) {
  if (!c->open) return;
  eio_session *es = c->eio;
  client_ref(c);
  detach_session(c);
  /* The session goes on flushing, then closes: from now on it is not ours. */
  eio_session_set_user(es, NULL);
  close_sockets(c, reason);
  c->eio = NULL;
  eio_session_close(es);
  client_release(c); /* the session's reference */
  client_release(c);
}

void client_disconnect_all(sio_client *c) {
  if (!c) return;
  client_ref(c);
  for (sio_socket *s; c->open && (s = c->sockets);) {
    if (s->state == SOCK_CONNECTED) sio_disconnect(s, false);
    else socket_close(s, "server namespace disconnect");
  }
  client_close(c, "forced server close");
  client_release(c);
}

void client_socket_connected(sio_client *c) {
  c->connected++;
  fifo_timer_disarm(&c->connect_timer);
}

void client_detach_socket(sio_client *c, sio_socket *s) {
  if (!c) return;
  if (s->cprev) s->cprev->cnext = s->cnext;
  else if (c->sockets == s) c->sockets = s->cnext;
  if (s->cnext) s->cnext->cprev = s->cprev;
  s->cnext = s->cprev = NULL;
  if (s->state == SOCK_CONNECTED) c->connected--;
}

static sio_socket *socket_in(sio_client *c, const char *nsp, bool connected_only) {
  for (sio_socket *s = c->sockets; s; s = s->cnext)
    if (strcmp(s->nsp->name, nsp) == 0 && (!connected_only || s->state == SOCK_CONNECTED))
      return s;
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Engine.IO events                                                                            */

void client_on_open(eio_session *es, void *ctx) {
  sio_server *srv = ctx;
  sio_client *c = calloc(1, sizeof *c);
  if (!c) {
    eio_session_close(es);
    return;
  }
  c->srv = srv;
  c->eio = es;
  c->open = true;
  c->refs = 1; /* the session's */
  eio_session_set_user(es, c);
  fifo_timer_arm(&srv->connect_wait, &c->connect_timer);
}

void client_on_close(eio_session *es, const char *reason, void *ctx) {
  sio_client *c = eio_session_user(es);
  if (!c) return;
  eio_session_set_user(es, NULL);
  detach_session(c);
  /* c->eio stays readable during the handlers (for the handshake); the session is freed after
   * this returns. */
  close_sockets(c, reason);
  c->eio = NULL;
  client_release(c);
}

/* The connect timeout: a client that joined no namespace in time is let go. */
void client_connect_timeout(fifo_timer *q, fifo_timer_entry *e) {
  sio_client *c = lws_container_of(e, sio_client, connect_timer);
  if (c->connected) return;
  LOG_D("sio", "no namespace joined in time, closing sid=%s", eio_session_id(c->eio));
  client_close(c, "forced server close");
}

/* A protocol violation: the reference's Client.onerror(), which closes the Engine.IO socket
 * after its buffer drains. */
static void protocol_error(sio_client *c, const char *what) {
  LOG_D("sio", "invalid packet, closing sid=%s: %s", eio_session_id(c->eio), what);
  reassembly_clear(c);
  eio_session_close(c->eio);
}

static void on_connect(sio_client *c, sio_packet *p) {
  sio_server *srv = c->srv;
  /* auth = {} by default: one shared empty object, not one per socket. */
  json_t *auth = json_incref(p->data ? p->data : srv->empty_auth);
  sio_namespace *nsp = auth ? namespace_lookup(srv, p->nsp, auth) : NULL;
  if (!nsp) {
    json_decref(auth);
    json_t *err = json_pack("{ss}", "message", "Invalid namespace");
    sio_frames f;
    if (err && !frames_build(srv, SIO_PACKET_CONNECT_ERROR, p->nsp, -1, err, NULL, 0, &f)) {
      frames_send(c, &f, false);
      frames_clear(&f);
    }
    json_decref(err);
    return;
  }
  sio_socket *s = socket_new(nsp, c, auth);
  json_decref(auth);
  if (!s) {
    client_close(c, "forced server close");
    return;
  }
  sio_socket_ref(s);
  /* A recovered socket skips the middleware unless told otherwise (skipMiddlewares). */
  if (recovery_restore(s, p->data) && !srv->opts.recovery.run_middlewares) socket_connect(s);
  else if (!recovery_restore_cluster(s, p->data)) namespace_run_middleware(s);
  socket_release(s);
}

/* A complete packet (attachments included): the reference's Client.ondecoded(). */
static void dispatch(sio_client *c, sio_packet *p, const sio_bytes *bins, size_t nbins) {
  sio_socket *s = socket_in(c, p->nsp, true);
  if (!s && p->type == SIO_PACKET_CONNECT) {
    /* One socket per namespace: a second CONNECT while the first waits on its middleware
     * would let a client pile up sockets. */
    if (socket_in(c, p->nsp, false)) client_close(c, "forced server close");
    else on_connect(c, p);
  } else if (s && p->type != SIO_PACKET_CONNECT && p->type != SIO_PACKET_CONNECT_ERROR) {
    socket_on_packet(s, p, bins, nbins);
  } else {
    LOG_D("sio", "invalid state (packet type %d nsp=%s), closing", (int)p->type, p->nsp);
    client_close(c, "forced server close");
  }
}

static void on_text(sio_client *c, const uint8_t *data, size_t len) {
  if (c->reassembling) {
    protocol_error(c, "text packet while awaiting attachments");
    return;
  }
  sio_packet p;
  if (sio_packet_decode((const char *)data, len, &c->srv->limits, &p)) {
    protocol_error(c, "undecodable packet");
    return;
  }
  if (!p.attachments) {
    dispatch(c, &p, NULL, 0);
    sio_packet_clear(&p);
    return;
  }
  if (sio_packet_check_placeholders(p.data, p.attachments) ||
      !(c->bins = calloc(p.attachments, sizeof *c->bins))) {
    sio_packet_clear(&p);
    protocol_error(c, "invalid placeholders");
    return;
  }
  c->partial = p;
  c->reassembling = true;
}

static void on_binary(sio_client *c, const uint8_t *data, size_t len) {
  if (!c->reassembling) {
    protocol_error(c, "unannounced binary attachment");
    return;
  }
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) {
    protocol_error(c, "out of memory");
    return;
  }
  if (len) memcpy(copy, data, len);
  c->bins[c->nbins++] = (sio_bytes){copy, len};
  if (c->nbins < c->partial.attachments) return;
  /* Complete: the packet and its buffers leave the client before dispatch, which may end it. */
  sio_packet p = c->partial;
  sio_bytes *bins = c->bins;
  size_t n = c->nbins;
  c->reassembling = false;
  c->bins = NULL;
  c->nbins = 0;
  memset(&c->partial, 0, sizeof c->partial);
  dispatch(c, &p, bins, n);
  sio_packet_clear(&p);
  for (size_t i = 0; i < n; i++) free((void *)bins[i].data);
  free(bins);
}

void client_on_message(eio_session *es, const uint8_t *data, size_t len, bool binary,
                       void *ctx) {
  sio_client *c = eio_session_user(es);
  if (!c || !c->open) return;
  client_ref(c);
  if (binary) on_binary(c, data, len);
  else on_text(c, data, len);
  client_release(c);
}
