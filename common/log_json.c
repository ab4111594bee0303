/*
 * log_json.c: the JSON form of a log line (log_json.h). The fields arrive as the
 * logfmt text callers formatted; they are split here into key and value: a value in
 * quotes runs to the quote that ends it (one followed by the end, or by a space and
 * the next key=), so a message holding a quote still stays in its field.
 */
#include "common/log_json.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Room kept back so the closing "}\n" always fits. */
#define CLOSE_ROOM 3

/* Appends n bytes to out (length *len) if they fit; says whether they did. */
static bool append_raw(char *out, size_t cap, size_t *len, const char *text, size_t n)
{
    if (*len + n >= cap)
        return false;
    memcpy(out + *len, text, n);
    *len += n;
    out[*len] = '\0';
    return true;
}

/* One byte of a JSON string's inside, escaped as needed, into esc; returns its length. */
static size_t escape_byte(unsigned char c, char esc[8])
{
    static const char short_escapes[][3] = {
        ['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\t'] = "\\t",
        ['\r'] = "\\r", ['\b'] = "\\b",  ['\f'] = "\\f"};
    if (c < sizeof(short_escapes) / sizeof(short_escapes[0]) && short_escapes[c][0]) {
        memcpy(esc, short_escapes[c], 3);
        return 2;
    }
    if (c < 0x20)
        return (size_t)snprintf(esc, 8, "\\u%04x", c);
    esc[0] = (char)c;
    esc[1] = '\0';
    return 1;
}

/* Appends n bytes of text, escaped, whole escapes only; says whether all fitted. */
static bool append_escaped_n(char *out, size_t cap, size_t *len, const char *text, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char esc[8];
        size_t e = escape_byte((unsigned char)text[i], esc);
        if (!append_raw(out, cap, len, esc, e))
            return false;
    }
    return true;
}

size_t log_json_append_escaped(char *out, size_t cap, const char *text)
{
    size_t len = strlen(out);
    append_escaped_n(out, cap, &len, text, strlen(text));
    return len;
}

/* Appends "key":"value" (after a comma unless first) if it fits whole, leaving
 * CLOSE_ROOM; else nothing, and says so. */
static bool append_member(char *out, size_t cap, size_t *len, const char *key, size_t key_len,
                          const char *value, size_t value_len)
{
    if (cap <= CLOSE_ROOM)
        return false;
    size_t room = cap - CLOSE_ROOM, start = *len;
    bool first = start <= 1; /* just the "{" */
    if (append_raw(out, room, len, first ? "\"" : ",\"", first ? 1 : 2) &&
        append_escaped_n(out, room, len, key, key_len) && append_raw(out, room, len, "\":\"", 3) &&
        append_escaped_n(out, room, len, value, value_len) && append_raw(out, room, len, "\"", 1))
        return true;
    *len = start;
    out[start] = '\0';
    return false;
}

/* Whether text starts with a logfmt key and its "=". */
static bool starts_with_key(const char *text)
{
    const char *p = text;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '_' || *p == '-' || *p == '.')
        p++;
    return p > text && *p == '=';
}

/* The next logfmt field of *text: its key and value (quotes taken off); advances *text.
 * Returns false at the end. */
static bool next_field(const char **text, const char **key, size_t *key_len, const char **value,
                       size_t *value_len)
{
    const char *p = *text;
    while (*p == ' ')
        p++;
    if (!*p)
        return false;
    *key = p;
    while (*p && *p != '=' && *p != ' ')
        p++;
    *key_len = (size_t)(p - *key);
    *value = p;
    *value_len = 0;
    if (*p == '=' && p[1] == '"') {
        *value = p + 2;
        const char *end = *value;
        while (*end &&
               !(end[0] == '"' && (end[1] == '\0' || (end[1] == ' ' && starts_with_key(end + 2)))))
            end++;
        *value_len = (size_t)(end - *value);
        p = *end ? end + 1 : end;
    } else if (*p == '=') {
        *value = ++p;
        while (*p && *p != ' ')
            p++;
        *value_len = (size_t)(p - *value);
    }
    *text = p;
    return true;
}

void log_json_line(char *out, size_t cap, const char *ts, const char *level, const char *msg,
                   const char *fields)
{
    size_t len = 0;
    out[0] = '\0';
    append_raw(out, cap, &len, "{", 1);
    append_member(out, cap, &len, "ts", 2, ts, strlen(ts));
    append_member(out, cap, &len, "level", 5, level, strlen(level));
    append_member(out, cap, &len, "msg", 3, msg, strlen(msg));
    const char *key, *value;
    size_t key_len, value_len;
    while (fields && next_field(&fields, &key, &key_len, &value, &value_len)) {
        if (!append_member(out, cap, &len, key, key_len, value, value_len))
            break; /* cut at a field: the line stays valid JSON */
    }
    append_raw(out, cap, &len, "}\n", 2);
}
