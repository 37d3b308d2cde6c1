/* hiredis' asynchronous client on the listener's event loop, the way hiredis' own adapters
 * glue it to libuv or libevent: the Redis socket is watched by the same loop as the clients, so
 * Redis traffic needs no thread and never blocks the loop. */
#ifndef SIO_REDIS_REDIS_LOOP_H
#define SIO_REDIS_REDIS_LOOP_H

#include <hiredis/async.h>

#include "sio.h"

/* Attaches `ac` (fresh from redisAsyncConnect) to the loop. The glue goes away with the context
 * (hiredis calls its cleanup hook). Returns 0, or -1 (then `ac` is untouched). */
int redis_loop_attach(redisAsyncContext *ac, sio_listener *l);

#endif
