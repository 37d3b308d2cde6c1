/* Connection state recovery across the cluster: the sessions of recoverable sockets kept in
 * Redis, so that a client recovers on whichever server it reconnects to (src/sio/recovery.c
 * keeps the replay log, which every server fills from the cluster's broadcasts). */
#ifndef SIO_REDIS_RECOVERY_H
#define SIO_REDIS_RECOVERY_H

#include <hiredis/async.h>
#include <stdbool.h>
#include <stddef.h>

#include "sio.h"

typedef struct redis_adapter redis_adapter;
typedef struct redis_recovery redis_recovery;

/* Sends a command on the adapter's publishing link (redis_adapter.c); false if it is down. */
bool redis_adapter_send(redis_adapter *r, redisCallbackFn *cb, void *priv, int argc,
                        const char **argv, const size_t *lens);

/* Keeps the sessions of `srv` (which has recovery on) under "<prefix>#recovery#<pid>". NULL
 * if memory is exhausted. */
redis_recovery *redis_recovery_attach(sio_server *srv, redis_adapter *r, const char *prefix);
/* Before the adapter's links go: nothing more is sent. */
void redis_recovery_free(redis_recovery *rr);

#endif
