/* Structured, levelled logs on stderr, one line per event:
 *   2026-11-23T07:55:00.123Z info  eio  session opened sid=abc transport=polling
 * The message part is free text followed by key=value pairs, so lines stay greppable. */
#ifndef SIO_UTIL_LOG_H
#define SIO_UTIL_LOG_H

#include <stdbool.h>

typedef enum { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG } log_level;

void log_set_level(log_level level);
log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug". Returns false if the name is unknown. */
bool log_level_parse(const char *name, log_level *out);

void log_write(log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_enabled(lvl) ((lvl) <= log_get_level())
#define LOG_E(mod, ...) log_write(LOG_ERROR, mod, __VA_ARGS__)
#define LOG_W(mod, ...) do { if (log_enabled(LOG_WARN)) log_write(LOG_WARN, mod, __VA_ARGS__); } while (0)
#define LOG_I(mod, ...) do { if (log_enabled(LOG_INFO)) log_write(LOG_INFO, mod, __VA_ARGS__); } while (0)
#define LOG_D(mod, ...) do { if (log_enabled(LOG_DEBUG)) log_write(LOG_DEBUG, mod, __VA_ARGS__); } while (0)

#endif
