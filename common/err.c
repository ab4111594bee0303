/* err.c: formatting for struct weft_err (see err.h). */
#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int err_vset(struct weft_err *err, int code, const char *fmt, va_list ap)
{
    if (!err)
        return -1;
    err->code = code < 0 ? code : -EINVAL; /* an error always has a kind */
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    return -1;
}

int weft_err_set(struct weft_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vset(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

int weft_err_wrap(struct weft_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[WEFT_ERR_MAX];
    char old[WEFT_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    if (err->code >= 0)
        err->code = -EINVAL; /* wrapping a message that was never set with a kind */
    /* Truncation is acceptable: the start of the message carries the context. */
    size_t used = strnlen(prefix, sizeof(prefix) - 1);
    memcpy(err->msg, prefix, used);
    size_t room = sizeof(err->msg) - used;
    if (room > 2) {
        memcpy(err->msg + used, ": ", 2);
        used += 2;
        size_t tail = strnlen(old, sizeof(err->msg) - used - 1);
        memcpy(err->msg + used, old, tail);
        used += tail;
    }
    err->msg[used < sizeof(err->msg) ? used : sizeof(err->msg) - 1] = '\0';
    return -1;
}
