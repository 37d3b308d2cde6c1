/* Unguessable identifiers (Engine.IO session ids, Socket.IO socket ids): 15 bytes from the OS
 * random source in URL-safe base64, 20 characters, as the reference's base64id. */
#ifndef SIO_UTIL_RANDOM_ID_H
#define SIO_UTIL_RANDOM_ID_H

#include <stdbool.h>

#define RANDOM_ID_LEN 20

/* Fills out[0..20) and a terminator. Returns false if the OS random source fails. */
bool random_id(char out[RANDOM_ID_LEN + 1]);

#endif
