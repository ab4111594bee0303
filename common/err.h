/*
 * err.h: the one error type every weft module returns through.
 *
 * A failing function returns -1 and fills the caller's struct weft_err with a
 * kind and a message: code is a negative errno (-ETIMEDOUT, -EEXIST, -ENOENT,
 * -ENOMEM, ...) that callers test to decide what to do, msg is meant for the
 * user and travels up unchanged to the JSON {"Err": ...} answer. Both are set
 * by the same call. Anyone may include this; a struct weft_err belongs to one
 * thread at a time.
 */
#ifndef WEFT_ERR_H
#define WEFT_ERR_H

#include <errno.h> /* the codes */
#include <stddef.h>

#define WEFT_ERR_MAX 512

struct weft_err {
    char msg[WEFT_ERR_MAX];
    int code;               /* negative errno; 0 while no error was set */
};

/* Sets the kind (a negative errno; 0 or a positive value is taken as -EINVAL) and
 * formats the message into err (which may be NULL). Returns -1. */
int weft_err_set(struct weft_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with more context ("creating vxlan: <old>") and
 * keeps its code; returns -1. */
int weft_err_wrap(struct weft_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
