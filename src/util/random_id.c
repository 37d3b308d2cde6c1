#include "util/random_id.h"

#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

bool random_id(char out[RANDOM_ID_LEN + 1]) {
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  uint8_t r[15];
  size_t got = 0;
  while (got < sizeof r) {
    ssize_t n = getrandom(r + got, sizeof r - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    got += (size_t)n;
  }
  for (int i = 0, o = 0; i < 15; i += 3) {
    uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];
    for (int k = 3; k >= 0; k--) out[o++] = alphabet[(v >> (6 * k)) & 63];
  }
  out[RANDOM_ID_LEN] = 0;
  return true;
}
