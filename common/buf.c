/* buf.c: a growable byte buffer (see buf.h). */
#include "common/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation: most store answers fit, so one request costs one malloc. */
#define BUF_MIN_CAP 1024

int weft_buf_reserve(struct weft_buf *buf, size_t extra, struct weft_err *err)
{
    if (extra > SIZE_MAX - 1 - buf->len)
        return weft_err_set(err, -ENOMEM, "out of memory: a buffer of %zu more bytes", extra);
    size_t need = buf->len + extra + 1;
    if (need <= buf->cap)
        return 0;
    size_t cap = buf->cap ? buf->cap : BUF_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *data = realloc(buf->data, cap);
    if (!data)
        return weft_err_set(err, -ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
    buf->data = data;
    buf->cap = cap;
    return 0;
}

int weft_buf_append(struct weft_buf *buf, const void *data, size_t len, struct weft_err *err)
{
    if (weft_buf_reserve(buf, len, err) < 0)
        return -1;
    if (len > 0)
        memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
    return 0;
}

void weft_buf_consume(struct weft_buf *buf, size_t n)
{
    if (n > buf->len)
        n = buf->len;
    if (n == 0)
        return;
    memmove(buf->data, buf->data + n, buf->len - n);
    buf->len -= n;
    buf->data[buf->len] = '\0';
}

void weft_buf_clear(struct weft_buf *buf)
{
    buf->len = 0;
    if (buf->data)
        buf->data[0] = '\0';
}

char *weft_buf_take(struct weft_buf *buf, size_t *len)
{
    char *data = buf->data;
    if (len)
        *len = buf->len;
    *buf = (struct weft_buf)WEFT_BUF_INIT;
    return data;
}

void weft_buf_free(struct weft_buf *buf)
{
    free(buf->data);
    *buf = (struct weft_buf)WEFT_BUF_INIT;
}
