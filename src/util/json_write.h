/* JSON serialisation of jansson values with the exact output of JavaScript's JSON.stringify:
 * compact, UTF-8 kept as is, '/' not escaped, control characters as \uXXXX (with the short
 * forms \b \f \n \r \t), numbers in ECMAScript Number-to-String form (shortest round-trip:
 * 0.1 -> "0.1", 1.0 -> "1", 1e21 -> "1e+21", 1e-7 -> "1e-7").
 * Iterative, so a deep value cannot exhaust the stack; a value nested deeper than `max_depth`
 * is refused. */
#ifndef SIO_UTIL_JSON_WRITE_H
#define SIO_UTIL_JSON_WRITE_H

#include <jansson.h>
#include <stdbool.h>

#include "util/sbuf.h"

/* Appends the JSON text of `v` to `out`. Returns false if `v` is nested deeper than
 * `max_depth` (arrays/objects), or if `out` failed (limit or allocation). */
bool json_write(sbuf *out, const json_t *v, unsigned max_depth);

/* Appends one number in ECMAScript form (NaN and infinities as "null", as JSON.stringify). */
bool json_write_double(sbuf *out, double d);

#endif
