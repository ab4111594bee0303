/*
 * log_json.h: one log event as a JSON object on one line, for --log-format json
 * (log shippers). Same keys as the logfmt line: ts, level, msg, then the fields,
 * which callers write as logfmt (key=value, key="quoted value"); every value is a
 * JSON string. The escaping is hand-written: common/ does not link jansson.
 * Callers: common/log.c, tests. Pure and thread-safe (no state).
 */
#ifndef WEFT_LOG_JSON_H
#define WEFT_LOG_JSON_H

#include <stddef.h>

/* Appends text to out (a string of capacity cap) as the inside of a JSON string:
 * quote and backslash escaped, control characters as \n, \t, \r, \b, \f or \u00XX,
 * every other byte (UTF-8 too) as is. Never splits an escape; stops when full.
 * Returns the length of out. */
size_t log_json_append_escaped(char *out, size_t cap, const char *text);

/* Writes {"ts":..,"level":..,"msg":..,<fields>} and a newline into out (capacity
 * cap, at least 2); a line too long is cut at a field and still closed. */
void log_json_line(char *out, size_t cap, const char *ts, const char *level, const char *msg,
                   const char *fields);

#endif
