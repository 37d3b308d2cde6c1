#include "net/http.h"

#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int http_add_header(struct lws *wsi, const char *name, const char *value, uint8_t **p, uint8_t *end) {
  char full[64];
  snprintf(full, sizeof full, "%s:", name);
  return lws_add_http_header_by_name(wsi, (const unsigned char *)full, (const unsigned char *)value,
                                     (int)strlen(value), p, end);
}

bool http_request_closes(struct lws *wsi) {
  char v[64];
  return lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_CONNECTION) > 0 && strcasestr(v, "close");
}

int http_add_connection_close(struct lws *wsi, bool closes, uint8_t **p, uint8_t *end) {
  return closes ? http_add_header(wsi, "connection", "close", p, end) : 0;
}

int http_write_response(struct lws *wsi, uint8_t *start, uint8_t **p, uint8_t *end,
                        const uint8_t *body, size_t len) {
  bool h1 = lws_get_network_wsi(wsi) == wsi;
  if (h1 && (size_t)(end - *p) > len + 2) {
    if (lws_finalize_http_header(wsi, p, end)) return -1;
    if (len) memcpy(*p, body, len);
    *p += len;
    int n = (int)(*p - start);
    return lws_write(wsi, start, (size_t)n, LWS_WRITE_HTTP_FINAL) == n ? 0 : -1;
  }
  if (lws_finalize_write_http_header(wsi, start, p, end)) return -1;
  /* Bodies keep LWS_PRE bytes of headroom in front, where lws frames them (HTTP/2). */
  int written = len ? lws_write(wsi, (uint8_t *)body, len, LWS_WRITE_HTTP_FINAL) : 0;
  return written == (int)len ? 0 : -1;
}
