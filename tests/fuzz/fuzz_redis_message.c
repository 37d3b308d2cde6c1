/* libFuzzer target: what sio reads from Redis channels, on arbitrary bytes: rcodec_unpack
 * (the bounds check, then msgpack-c) and rcodec_to_json with the adapter's limits. Whatever
 * converts must pack back into msgpack (rcodec_pack_json, attachments included) and convert
 * again; from there the round trip is exact (the first one may renumber attachments: a map
 * with a repeated key drops the earlier value but not its attachment), numbers compared as
 * JavaScript does (8.0 packs back as the integer 8). Its first run found msgpack-c's NULL
 * pointer for empty strings. */
#include <stdint.h>
#include <stdlib.h>

#include "redis/redis_codec.h"
#include "same_json.h"

#define MAX_ATTACHMENTS 1024 /* as the adapter's */

/* JSON + attachments -> msgpack -> JSON + attachments. NULL if packing refuses (deeper than its
 * limit: an ext value adds a level); aborts if what was packed does not convert back. */
static json_t *round_trip(json_t *j, const rcodec_bins *bins, rcodec_bins *out,
                          msgpack_sbuffer *sb, msgpack_unpacked *u) {
  msgpack_packer pk;
  msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
  if (rcodec_pack_json(&pk, j, bins->v, bins->n, RCODEC_MAX_DEPTH)) return NULL;
  if (rcodec_unpack((const uint8_t *)sb->data, sb->size, u)) abort();
  json_t *back = rcodec_to_json(&u->data, out, RCODEC_MAX_DEPTH);
  if (!back) abort();
  return back;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  msgpack_unpacked u;
  if (rcodec_unpack(data, size, &u)) return 0;
  rcodec_bins bins = {.max = MAX_ATTACHMENTS}, bins2 = {.max = MAX_ATTACHMENTS},
              bins3 = {.max = MAX_ATTACHMENTS};
  json_t *j = rcodec_to_json(&u.data, &bins, RCODEC_MAX_DEPTH);
  (void)rcodec_map_get(&u.data, "type");
  if (u.data.type == MSGPACK_OBJECT_ARRAY && u.data.via.array.size)
    free(rcodec_string(&u.data.via.array.ptr[0]));
  msgpack_sbuffer sb2, sb3;
  msgpack_sbuffer_init(&sb2);
  msgpack_sbuffer_init(&sb3);
  msgpack_unpacked u2, u3;
  msgpack_unpacked_init(&u2);
  msgpack_unpacked_init(&u3);
  json_t *j2 = j ? round_trip(j, &bins, &bins2, &sb2, &u2) : NULL;
  json_t *j3 = j2 ? round_trip(j2, &bins2, &bins3, &sb3, &u3) : NULL;
  if (j2 && (bins2.n > bins.n || !j3 || bins3.n != bins2.n || !same_json(j2, j3))) abort();
  json_decref(j3);
  json_decref(j2);
  json_decref(j);
  rcodec_bins_free(&bins3);
  rcodec_bins_free(&bins2);
  rcodec_bins_free(&bins);
  msgpack_unpacked_destroy(&u3);
  msgpack_unpacked_destroy(&u2);
  msgpack_unpacked_destroy(&u);
  msgpack_sbuffer_destroy(&sb3);
  msgpack_sbuffer_destroy(&sb2);
  return 0;
}
