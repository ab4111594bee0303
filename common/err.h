/*
 * err.h: the one error type every weft module returns through.
 *
 * A failing function returns -1 and writes a message meant for the user into
 * the caller's struct weft_err; the message travels up unchanged to the JSON
 * {"Err": ...} answer. Anyone may include this.
 */
#ifndef WEFT_ERR_H
#define WEFT_ERR_H

#include <stddef.h>

#define WEFT_ERR_MAX 512

struct weft_err {
    char msg[WEFT_ERR_MAX];
};

/* Formats the message into err (which may be NULL) and returns -1. */
int weft_errf(struct weft_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with more context ("creating vxlan: <old>"); returns -1. */
int weft_err_wrap(struct weft_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
