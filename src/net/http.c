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

int http_add_connection_close(struct lws *wsi, uint8_t **p, uint8_t *end) {
  char v[64];
  if (lws_hdr_copy(wsi, v, sizeof v, WSI_TOKEN_CONNECTION) <= 0) return 0;
  if (!strcasestr(v, "close")) return 0;
  return http_add_header(wsi, "connection", "close", p, end);
}
