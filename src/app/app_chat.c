/* The chat app, sio-server's default: the classic rooms chat, and its web page at "/"
 * (src/app/chat_page.html, embedded at build time). On namespace "/":
 *   "join-room" room, ack?            socket.join(room)
 *   "leave-room" room, ack?           socket.leave(room)
 *   "chat-message" {room,user,text}   io.to(room).emit("new-message", {user, text, time}),
 *                                     time in ms since the epoch; only from a member of the room
 * Input comes from anyone on the network, so it is checked: rooms, names and texts are
 * non-empty strings of bounded length, a socket is in at most MAX_ROOMS chat rooms, and what
 * does not pass is ignored. The acks are an addition to the classic contract, for a client
 * that wants to know that its join has landed before it expects messages (the page and the
 * tests do): ack(true) when done, ack(false) when refused. The reference's default options
 * apply (pingInterval 25000, ...); flags override them. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/apps.h"

/* Lengths in characters (code points), so that the page's maxlength (UTF-16 units, never
 * fewer than code points) keeps every message it lets through under the limit. */
#define MAX_ROOM_CHARS 64
#define MAX_USER_CHARS 32
#define MAX_TEXT_CHARS 1000
#define MAX_ROOMS 16

/* The page, generated from chat_page.html by scripts/embed.py. */
extern const unsigned char chat_page_html[];
extern const size_t chat_page_html_len;

/* The string in `v` if it is one, non-empty, at most `max` characters and free of NUL bytes
 * (room names become C strings); NULL otherwise. jansson has checked that it is UTF-8. */
static const char *valid_string(const json_t *v, size_t max) {
  const char *s = json_string_value(v);
  if (!s || !*s || strlen(s) != json_string_length(v)) return NULL;
  size_t chars = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p & 0xC0) != 0x80 && ++chars > max) return NULL;
  return s;
}

/* socket.rooms holds the socket's own id room besides the chat rooms it joined. */
static bool in_room(const sio_socket *s, const char *room, size_t *count) {
  const char *rooms[MAX_ROOMS + 2];
  size_t n = sio_socket_rooms(s, rooms, MAX_ROOMS + 2);
  if (count) *count = n;
  for (size_t i = 0; i < n && i < MAX_ROOMS + 2; i++)
    if (strcmp(rooms[i], room) == 0) return true;
  return false;
}

static void reply(sio_ack *ack, bool ok) {
  if (!ack) return;
  json_t *args = json_pack("[b]", ok);
  sio_ack_send(ack, args, NULL, 0);
  json_decref(args);
}

static void on_join_room(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *room = valid_string(json_array_get(m->args, 0), MAX_ROOM_CHARS);
  size_t count = 0; /* rooms the socket is in, its own id room included */
  reply(ack, room && (in_room(s, room, &count) || (count <= MAX_ROOMS && sio_join(s, room) == 0)));
}

static void on_leave_room(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  const char *room = valid_string(json_array_get(m->args, 0), MAX_ROOM_CHARS);
  /* Leaving one's own id room would make the socket unreachable; the reference allows it,
   * but a chat client has no business doing it. */
  if (!room || strcmp(room, sio_socket_id(s)) == 0) {
    reply(ack, false);
    return;
  }
  sio_leave(s, room);
  reply(ack, true);
}

static void on_chat_message(sio_socket *s, const sio_message *m, sio_ack *ack, void *ctx) {
  json_t *msg = json_array_get(m->args, 0);
  const char *room = valid_string(json_object_get(msg, "room"), MAX_ROOM_CHARS);
  json_t *user = json_object_get(msg, "user");
  json_t *text = json_object_get(msg, "text");
  if (!room || m->nbins || !valid_string(user, MAX_USER_CHARS) ||
      !valid_string(text, MAX_TEXT_CHARS) || strcmp(room, sio_socket_id(s)) == 0 ||
      !in_room(s, room, NULL))
    return;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  json_int_t ms = (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
  json_t *args = json_pack("[{sOsOsI}]", "user", user, "text", text, "time", ms);
  if (!args) return;
  sio_broadcast b = sio_broadcast_of(sio_socket_namespace(s));
  sio_bc_to(&b, room);
  sio_bc_emit(&b, "new-message", args, NULL, 0);
  json_decref(args);
}

/* The page names the Socket.IO path (the script's src, io()'s path option) as __SIO_PATH__,
 * replaced here with the path ending in '/', so that --path keeps the page working. */
static int serve_page(sio_listener *l, const char *sio_path) {
  static const char marker[] = "__SIO_PATH__";
  const size_t mlen = sizeof marker - 1;
  const char *page = (const char *)chat_page_html, *end = page + chat_page_html_len;
  size_t plen = strlen(sio_path);
  bool slash = plen && sio_path[plen - 1] == '/';
  size_t markers = 0;
  for (const char *at = page; (at = memmem(at, (size_t)(end - at), marker, mlen)); at += mlen)
    markers++;
  char *out = malloc(chat_page_html_len + markers * (plen + 1));
  if (!out) return -1;
  char *o = out;
  for (const char *at; (at = memmem(page, (size_t)(end - page), marker, mlen)); page = at + mlen) {
    memcpy(o, page, (size_t)(at - page));
    o += at - page;
    memcpy(o, sio_path, plen);
    o += plen;
    if (!slash) *o++ = '/';
  }
  memcpy(o, page, (size_t)(end - page));
  o += end - page;
  int rc = sio_listener_serve_static(l, "/", "text/html; charset=utf-8", out, (size_t)(o - out));
  free(out);
  return rc;
}

int app_chat_setup(sio_listener *l, const config *c) {
  sio_server_options so;
  sio_server_options_default(&so);
  app_engine_options(c, &so.engine);
  if (c->path) so.engine.path = c->path;
  if (c->connect_timeout_ms) so.connect_timeout_ms = c->connect_timeout_ms;
  app_recovery_options(c, &so);
  sio_server *io = sio_server_attach(l, &so);
  if (!io || app_attach_cluster(io, c)) return -1; /* --redis: join that cluster */
  sio_namespace *nsp = sio_of(io, "/");
  if (!nsp || sio_on(nsp, "join-room", on_join_room, NULL) ||
      sio_on(nsp, "leave-room", on_leave_room, NULL) ||
      sio_on(nsp, "chat-message", on_chat_message, NULL))
    return -1;
  return serve_page(l, so.engine.path);
}
