/*
 * buf.h: a growable byte buffer (append, reserve, take, free).
 *
 * Owns its bytes until weft_buf_take hands them over. After any successful
 * append the bytes are followed by a NUL that len does not count, so text can
 * be read in place. Growing never aborts: it fails with -ENOMEM and leaves the
 * buffer as it was. Anyone may include this; one buffer belongs to one thread
 * at a time. Users: store/ (curl answers, watch streams), daemon/http.c (request bodies).
 */
#ifndef WEFT_BUF_H
#define WEFT_BUF_H

#include <stddef.h>

#include "common/err.h"

struct weft_buf {
    char *data; /* NULL until the first byte or reserve */
    size_t len; /* bytes held, not counting the NUL after them */
    size_t cap; /* bytes allocated */
};

#define WEFT_BUF_INIT {NULL, 0, 0}

/* Makes room for extra more bytes (and the NUL after them). err may be NULL. */
int weft_buf_reserve(struct weft_buf *buf, size_t extra, struct weft_err *err);
/* Appends len bytes of data. err may be NULL. */
int weft_buf_append(struct weft_buf *buf, const void *data, size_t len, struct weft_err *err);
/* Drops the first n bytes (n <= len), keeping the rest and the memory. */
void weft_buf_consume(struct weft_buf *buf, size_t n);
/* Forgets the bytes but keeps the memory for reuse. */
void weft_buf_clear(struct weft_buf *buf);
/* Hands the bytes over (NUL-terminated, to free(); NULL if none were ever
 * stored) and leaves buf empty. *len (may be NULL) receives their count. */
char *weft_buf_take(struct weft_buf *buf, size_t *len);
/* Frees the bytes and leaves buf empty and reusable. */
void weft_buf_free(struct weft_buf *buf);

#endif
