/* The socket.io client bundle, served beside the Socket.IO endpoint as the reference server's
 * serveClient does, so that a page can load <path>socket.io.js from the server it talks to.
 *
 * The bundle is the npm package socket.io-client's dist/socket.io.min.js (scripts/client-bundle
 * puts it into build/client/). It is looked up once, at start-up:
 *   1. --client-js FILE / SIO_CLIENT_JS (config.client_js);
 *   2. <folder of the executable>/client/socket.io.min.js (build/sio-server + build/client);
 *   3. /usr/local/share/sio/client/socket.io.min.js (an installed copy).
 * It is read into memory whole (it is ~50 KB; anything over MAX_BUNDLE is refused) and served
 * from there, with its source map (<file>.map) if present. Without a bundle the server still
 * runs: one warning, and 404s at those paths (rather than letting the Engine.IO endpoint answer
 * them with "Transport unknown"). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/apps.h"
#include "net/listener.h"
#include "util/log.h"

#define MAX_BUNDLE (2u << 20)

static const char *const installed = "/usr/local/share/sio/client/socket.io.min.js";
static const char *const js_type = "application/javascript; charset=utf-8";
static const char *const map_type = "application/json; charset=utf-8";

/* Reads a whole file of at most MAX_BUNDLE bytes. NULL with errno set on failure (EFBIG when
 * too large); ENOENT means "not there", which lets the search go on. */
static char *read_file(const char *file, size_t *len) {
  FILE *f = fopen(file, "rb");
  if (!f) return NULL;
  char *buf = malloc(MAX_BUNDLE + 1);
  errno = 0;
  size_t n = buf ? fread(buf, 1, MAX_BUNDLE + 1, f) : 0;
  int err = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : n > MAX_BUNDLE ? EFBIG : 0;
  fclose(f);
  if (err) {
    free(buf);
    errno = err;
    return NULL;
  }
  *len = n;
  return buf;
}

/* <folder of the executable>/client/socket.io.min.js into `out`; false if unknown. */
static bool beside_executable(char *out, size_t cap) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return false;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return false;
  *slash = '\0';
  return snprintf(out, cap, "%s/client/socket.io.min.js", exe) < (int)cap;
}

static int not_found(void *ctx, sbuf *body, const char **type) {
  sbuf_append_str(body, "socket.io client bundle not installed (see scripts/client-bundle)\n");
  return 404;
}

/* Serves `body` at `route`, or a 404 there when there is no body. */
static int serve(sio_listener *l, const char *route, const char *type, const char *body,
                 size_t len) {
  return body ? sio_listener_serve_static(l, route, type, body, len)
              : listener_mount_handler(l, route, not_found, NULL);
}

int app_serve_client(sio_listener *l, const config *c, const char *sio_path) {
  /* "/socket.io" means "/socket.io/", as for the endpoint (and the reference). */
  char prefix[256];
  size_t plen = strlen(sio_path);
  if (snprintf(prefix, sizeof prefix, "%s%s", sio_path,
               plen && sio_path[plen - 1] == '/' ? "" : "/") >= (int)sizeof prefix)
    return -1;

  char exe_candidate[PATH_MAX];
  const char *candidates[3];
  size_t ncandidates = 0;
  /* An explicit file is the only candidate: if it is wrong, that must show, not be papered
   * over by another copy found elsewhere. */
  if (c->client_js) {
    candidates[ncandidates++] = c->client_js;
  } else {
    if (beside_executable(exe_candidate, sizeof exe_candidate))
      candidates[ncandidates++] = exe_candidate;
    candidates[ncandidates++] = installed;
  }

  const char *file = NULL;
  char *js = NULL;
  size_t js_len = 0;
  int err = 0;
  for (size_t i = 0; i < ncandidates && !js; i++) {
    file = candidates[i];
    js = read_file(file, &js_len);
    err = js ? 0 : errno;
    if (err != ENOENT) break;
  }

  char *map = NULL;
  size_t map_len = 0;
  if (js) {
    char map_file[PATH_MAX];
    if (snprintf(map_file, sizeof map_file, "%s.map", file) < (int)sizeof map_file)
      map = read_file(map_file, &map_len);
    LOG_I("app", "serving the socket.io client at %ssocket.io.js file=%s%s", prefix, file,
          map ? "" : " (no source map)");
  } else if (c->client_js || err != ENOENT) {
    LOG_W("app", "cannot read the socket.io client bundle, %ssocket.io.js will answer 404 "
                 "file=%s error=%s", prefix, file, strerror(err));
  } else {
    LOG_W("app", "no socket.io client bundle found (run scripts/client-bundle or use "
                 "--client-js), %ssocket.io.js will answer 404", prefix);
  }

  /* The reference serves socket.io.js unminified; one minified copy serves both names (its
   * sourceMappingURL, relative, finds the map either way). */
  static const struct {
    const char *name;
    bool map;
  } files[] = {{"socket.io.js", false}, {"socket.io.min.js", false}, {"socket.io.min.js.map", true}};
  int rc = 0;
  for (size_t i = 0; i < sizeof files / sizeof *files && !rc; i++) {
    char route[sizeof prefix + 32];
    if (snprintf(route, sizeof route, "%s%s", prefix, files[i].name) >= (int)sizeof route)
      rc = -1;
    else if (files[i].map)
      rc = serve(l, route, map_type, map, map_len);
    else
      rc = serve(l, route, js_type, js, js_len);
  }
  free(js);
  free(map);
  return rc ? -1 : 0;
}
