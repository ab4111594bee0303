/*
 * log.h: one line per event on stderr, "level=info msg=\"...\" key=value".
 *
 * Anyone may log. Never log secrets. WEFT_LOG_LEVEL (debug, info, warn, error,
 * off) in the environment sets the least level written; the default is info.
 * WEFT_LOG_FORMAT (logfmt, json) or log_set_format picks the form of a line;
 * the default is logfmt, json is one object per line with the same keys.
 */
#ifndef WEFT_LOG_H
#define WEFT_LOG_H

#include <stddef.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* msg is the event; fmt (may be NULL) formats the trailing key=value pairs. */
void log_event(enum log_level level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "logfmt" or "json": 0, or -1 for another name (nothing changes). Call it from
 * main before threads start; it beats WEFT_LOG_FORMAT. */
int log_set_format(const char *name);

#define log_debug(msg, ...) log_event(LOG_LEVEL_DEBUG, msg, __VA_ARGS__)
#define log_info(msg, ...) log_event(LOG_LEVEL_INFO, msg, __VA_ARGS__)
#define log_warn(msg, ...) log_event(LOG_LEVEL_WARN, msg, __VA_ARGS__)
#define log_error(msg, ...) log_event(LOG_LEVEL_ERROR, msg, __VA_ARGS__)

/* The last LOG_RECENT_MAX warn and error lines (whatever the least level written),
 * kept for `weft status`: copies them into lines, oldest first, and returns how
 * many. Thread-safe. */
#define LOG_RECENT_MAX 16
#define LOG_RECENT_LINE_MAX 512
size_t log_recent(char lines[][LOG_RECENT_LINE_MAX], size_t max);

#endif
