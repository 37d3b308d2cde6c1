/* Namespaces: static ones by name, dynamic parents (io.of(fn), io.of(regex)) and the children
 * they create; their handler tables and the middleware chain.
 *
 * A child does not copy its parent's handlers: dispatch walks the parent's list, then the
 * child's own (hook_chain). So a handler added to the parent later reaches existing children
 * too, and a child costs nothing per handler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sio/sio_internal.h"
#include "util/log.h"

int hooks_add(hook_list *l, any_fn fn, void *ctx) {
  if (!fn) return -1;
  hook *v = realloc(l->v, (l->n + 1) * sizeof *v);
  if (!v) return -1;
  l->v = v;
  l->v[l->n++] = (hook){fn, ctx};
  return 0;
}

void hooks_free(hook_list *l) {
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

hook_chain namespace_chain(const sio_namespace *nsp, size_t list_offset) {
  hook_chain c = {{NULL, NULL}};
  if (nsp->parent) c.lists[0] = (const hook_list *)((const char *)nsp->parent + list_offset);
  c.lists[1] = (const hook_list *)((const char *)nsp + list_offset);
  return c;
}

static hook_chain table_chain(const sio_namespace *nsp, size_t table_offset, const char *event) {
  hook_chain c = {{NULL, NULL}};
  event_handlers *h;
  const strmap *own = (const strmap *)((const char *)nsp + table_offset);
  if (nsp->parent &&
      (h = strmap_get((const strmap *)((const char *)nsp->parent + table_offset), event)))
    c.lists[0] = &h->hooks;
  if ((h = strmap_get(own, event))) c.lists[1] = &h->hooks;
  return c;
}

hook_chain namespace_event_chain(const sio_namespace *nsp, const char *event) {
  return table_chain(nsp, offsetof(sio_namespace, events), event);
}

hook_chain namespace_server_event_chain(const sio_namespace *nsp, const char *event) {
  return table_chain(nsp, offsetof(sio_namespace, server_events), event);
}

/* ------------------------------------------------------------------------------------------ */
/* creation                                                                                    */

sio_namespace *namespace_new(sio_server *srv, const char *name, sio_namespace *parent) {
  sio_namespace *nsp = calloc(1, sizeof *nsp);
  if (!nsp) return NULL;
  nsp->srv = srv;
  nsp->parent = parent;
  strmap_init(&nsp->events);
  strmap_init(&nsp->server_events);
  strmap_init(&nsp->sockets);
  adapter_init(&nsp->adapter);
  if (name) {
    nsp->name = strdup(name);
    if (!nsp->name || !strmap_put(&srv->nsps, nsp->name, nsp)) goto fail;
  } else { /* a parent: named like the reference's, never reachable by name */
    char buf[32];
    snprintf(buf, sizeof buf, "/_%u", srv->parent_count);
    nsp->name = strdup(buf);
    if (!nsp->name) goto fail;
    nsp->is_parent = true;
    sio_namespace **tail = &srv->parents;
    while (*tail) tail = &(*tail)->next_parent;
    *tail = nsp;
    srv->parent_count++;
  }
  if (parent) {
    nsp->next_child = parent->children;
    parent->children = nsp;
    LOG_D("sio", "dynamic namespace created nsp=%s parent=%s", nsp->name, parent->name);
  }
  if (srv->cluster && !nsp->is_parent) srv->cluster->namespace_added(srv->cluster_ctx, nsp);
  return nsp;
fail:
  free(nsp->name);
  free(nsp);
  return NULL;
}

static void free_table(strmap *m) {
  size_t pos = 0;
  void *v;
  while (strmap_next(m, &pos, NULL, &v)) {
    event_handlers *h = v;
    hooks_free(&h->hooks);
    free(h);
  }
  strmap_free(m);
}

void namespace_free(sio_namespace *nsp) {
  free_table(&nsp->events);
  free_table(&nsp->server_events);
  strmap_free(&nsp->sockets);
  adapter_free(&nsp->adapter);
  recovery_namespace_free(nsp);
  hooks_free(&nsp->middleware);
  hooks_free(&nsp->on_connection);
  hooks_free(&nsp->on_any);
  hooks_free(&nsp->on_any_out);
  hooks_free(&nsp->on_disconnecting);
  hooks_free(&nsp->on_disconnect);
  if (nsp->has_regex) regfree(&nsp->regex);
  free(nsp->name);
  free(nsp);
}

static bool parent_accepts(sio_namespace *parent, const char *name, const json_t *auth) {
  if (parent->has_regex) return regexec(&parent->regex, name, 0, NULL, 0) == 0;
  return parent->match(name, auth, parent->match_ctx);
}

sio_namespace *sio_of(sio_server *srv, const char *name) {
  if (!name) return NULL;
  char *owned = NULL;
  if (name[0] != '/') { /* io.of("chat") is io.of("/chat") */
    size_t len = strlen(name);
    if (!(owned = malloc(len + 2))) return NULL;
    owned[0] = '/';
    memcpy(owned + 1, name, len + 1);
    name = owned;
  }
  sio_namespace *nsp = strmap_get(&srv->nsps, name);
  /* Like the reference, a name that a regex parent matches becomes its child. */
  for (sio_namespace *p = srv->parents; !nsp && p; p = p->next_parent)
    if (p->has_regex && parent_accepts(p, name, NULL)) nsp = namespace_new(srv, name, p);
  if (!nsp) nsp = namespace_new(srv, name, NULL);
  free(owned);
  return nsp;
}

sio_namespace *namespace_lookup(sio_server *srv, const char *name, const json_t *auth) {
  sio_namespace *nsp = strmap_get(&srv->nsps, name);
  for (sio_namespace *p = srv->parents; !nsp && p; p = p->next_parent)
    if (parent_accepts(p, name, auth)) nsp = namespace_new(srv, name, p);
  return nsp;
}

sio_namespace *sio_of_match(sio_server *srv, sio_match_fn match, void *ctx) {
  if (!match) return NULL;
  sio_namespace *nsp = namespace_new(srv, NULL, NULL);
  if (nsp) {
    nsp->match = match;
    nsp->match_ctx = ctx;
  }
  return nsp;
}

sio_namespace *sio_of_regex(sio_server *srv, const char *pattern) {
  regex_t re;
  if (!pattern || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB)) {
    LOG_E("sio", "invalid namespace pattern: %s", pattern ? pattern : "(null)");
    return NULL;
  }
  sio_namespace *nsp = namespace_new(srv, NULL, NULL);
  if (!nsp) {
    regfree(&re);
    return NULL;
  }
  nsp->regex = re;
  nsp->has_regex = true;
  return nsp;
}

const char *sio_namespace_name(const sio_namespace *nsp) { return nsp->name; }
sio_server *sio_namespace_server(const sio_namespace *nsp) { return nsp->srv; }
size_t sio_namespace_size(const sio_namespace *nsp) { return nsp->sockets.count; }

/* ------------------------------------------------------------------------------------------ */
/* handlers                                                                                    */

int sio_use(sio_namespace *nsp, sio_middleware_fn fn, void *ctx) {
  return hooks_add(&nsp->middleware, (any_fn)fn, ctx);
}
int sio_on_connection(sio_namespace *nsp, sio_socket_fn fn, void *ctx) {
  return hooks_add(&nsp->on_connection, (any_fn)fn, ctx);
}
int sio_on_any(sio_namespace *nsp, sio_any_fn fn, void *ctx) {
  return hooks_add(&nsp->on_any, (any_fn)fn, ctx);
}
int sio_on_any_outgoing(sio_namespace *nsp, sio_any_fn fn, void *ctx) {
  return hooks_add(&nsp->on_any_out, (any_fn)fn, ctx);
}
int sio_on_disconnecting(sio_namespace *nsp, sio_reason_fn fn, void *ctx) {
  return hooks_add(&nsp->on_disconnecting, (any_fn)fn, ctx);
}
int sio_on_disconnect(sio_namespace *nsp, sio_reason_fn fn, void *ctx) {
  return hooks_add(&nsp->on_disconnect, (any_fn)fn, ctx);
}

static int table_add(strmap *m, const char *event, any_fn fn, void *ctx) {
  if (!event || !fn) return -1;
  event_handlers *h = strmap_get(m, event);
  if (!h) {
    size_t len = strlen(event);
    if (!(h = calloc(1, sizeof *h + len + 1))) return -1;
    memcpy(h->name, event, len + 1);
    if (!strmap_put(m, h->name, h)) {
      free(h);
      return -1;
    }
  }
  return hooks_add(&h->hooks, fn, ctx);
}

int sio_on(sio_namespace *nsp, const char *event, sio_event_fn fn, void *ctx) {
  return nsp ? table_add(&nsp->events, event, (any_fn)fn, ctx) : -1;
}

int sio_on_server_event(sio_namespace *nsp, const char *event, sio_server_event_fn fn,
                        void *ctx) {
  return nsp ? table_add(&nsp->server_events, event, (any_fn)fn, ctx) : -1;
}

/* ------------------------------------------------------------------------------------------ */
/* middleware                                                                                  */

static const hook *middleware_at(const sio_namespace *nsp, unsigned step) {
  hook_chain c = NSP_CHAIN(nsp, middleware);
  for (unsigned l = 0; l < 2; l++) {
    if (!c.lists[l]) continue;
    if (step < c.lists[l]->n) return &c.lists[l]->v[step];
    step -= (unsigned)c.lists[l]->n;
  }
  return NULL;
}

void namespace_run_middleware(sio_socket *s) {
  if (s->state != SOCK_PENDING) return;
  if (!s->client || !s->client->open) { /* the client left while a middleware worked */
    socket_close(s, "transport close");
    return;
  }
  const hook *h = middleware_at(s->nsp, s->next.step);
  if (!h) {
    socket_connect(s);
    return;
  }
  /* The middleware holds the socket until it calls next: the client may leave meanwhile. */
  s->next.waiting = true;
  sio_socket_ref(s);
  ((sio_middleware_fn)h->fn)(s, &s->next, h->ctx);
}

static sio_socket *next_socket(sio_next *next) {
  return (sio_socket *)((char *)next - offsetof(sio_socket, next));
}

void sio_next_accept(sio_next *next) {
  if (!next || !next->waiting) return;
  sio_socket *s = next_socket(next);
  next->waiting = false;
  next->step++;
  namespace_run_middleware(s);
  socket_release(s);
}

void sio_next_reject(sio_next *next, const char *message, json_t *data) {
  if (!next || !next->waiting) return;
  sio_socket *s = next_socket(next);
  next->waiting = false;
  if (s->state == SOCK_PENDING) {
    if (s->client && s->client->open) socket_refuse(s, message ? message : "", data);
    else socket_close(s, "transport close");
  }
  socket_release(s);
}
