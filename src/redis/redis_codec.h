/* The cluster's value codec: between the msgpack that @socket.io/redis-adapter and
 * @socket.io/redis-emitter publish (notepack.io's encoding) and the JSON + binary attachments
 * model of the Socket.IO layer (jansson values whose placeholders {"_placeholder":true,"num":i}
 * stand for bins[i]). Pure functions over buffers, built on msgpack-c.
 *
 * Messages come from the network, so decoding is defensive: rcodec_check() walks the value's
 * headers first and refuses anything whose lengths do not fit in the input or whose nesting is
 * deeper than the limit, before msgpack-c allocates anything for it (its arrays are allocated
 * from the announced count); rcodec_to_json() then checks every type.
 *
 * What notepack.io produces, and what it becomes here:
 *   nil, bool, int, float            null, true/false, integer, real (NaN/infinities: null)
 *   str (UTF-8)                      string (invalid UTF-8: refused)
 *   bin                              a binary attachment (Buffer)
 *   fixext 1 type 0                  undefined: null in an array, left out of a map
 *   ext type 0                       a binary attachment (its ArrayBuffer encoding)
 *   ext type -1 (timestamp)          the ISO string JSON.stringify gives a Date
 *   other ext                        [type, attachment], as notepack.io decodes it
 *   map                              object (string or integer keys; others refused) */
#ifndef SIO_REDIS_REDIS_CODEC_H
#define SIO_REDIS_REDIS_CODEC_H

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sio.h"

#define RCODEC_MAX_DEPTH 32   /* msgpack-c's own container stack is 32 deep */

/* True if `p` holds exactly one msgpack value, every length within the input, nested at most
 * `max_depth` containers deep. */
bool rcodec_check(const uint8_t *p, size_t len, unsigned max_depth);

/* rcodec_check, then msgpack-c's unpacking. Strings and binaries of the result point into `p`.
 * Returns 0 (free `out` with msgpack_unpacked_destroy) or -1 (nothing to free). */
int rcodec_unpack(const uint8_t *p, size_t len, msgpack_unpacked *out);

/* Binary attachments found while converting; the bytes point into the message. */
typedef struct {
  sio_bytes *v;
  size_t n, cap;
  size_t max;          /* attachments accepted; 0: no limit */
} rcodec_bins;

void rcodec_bins_free(rcodec_bins *b);

/* msgpack -> JSON (see above). NULL if the value is malformed, too deep, or has more
 * attachments than bins->max. */
json_t *rcodec_to_json(const msgpack_object *o, rcodec_bins *bins, unsigned max_depth);

/* The value of `key` in a msgpack map, NULL if absent (or `map` is not a map). */
const msgpack_object *rcodec_map_get(const msgpack_object *map, const char *key);
/* The string of `o` as a new NUL-terminated copy if it is a string without NUL bytes (or an
 * integer: its decimal form, as JavaScript makes of a numeric room); NULL otherwise. */
char *rcodec_string(const msgpack_object *o);

/* JSON -> msgpack: placeholders become bin (bins[num]); objects maps, numbers int or float64.
 * Returns 0, or -1 (a placeholder out of range, too deep, or the packer failed). */
int rcodec_pack_json(msgpack_packer *pk, const json_t *v, const sio_bytes *bins, size_t nbins,
                     unsigned max_depth);
/* A NUL-terminated string. */
int rcodec_pack_str(msgpack_packer *pk, const char *s);

#endif
