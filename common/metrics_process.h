/*
 * metrics_process.h: the usual process_* metrics of a Prometheus client, read
 * from /proc/self at each scrape (CPU time, resident and virtual memory, open
 * and allowed file descriptors, start time). Owns nothing; Linux only.
 * Callers: daemon/metrics_http.c, tests.
 */
#ifndef WEFT_METRICS_PROCESS_H
#define WEFT_METRICS_PROCESS_H

#include "common/buf.h"
#include "common/err.h"

/* Appends the process metrics to out. A value /proc cannot give is left out; -1
 * only when out cannot grow (-ENOMEM). */
int metrics_process_write(struct weft_buf *out, struct weft_err *err);

#endif
