/*
 * metrics_text.h: the Prometheus text exposition format (version 0.0.4).
 *
 * Owns the format only: HELP and TYPE lines, label escaping, histograms as
 * cumulative _bucket series ending in le="+Inf", then _sum and _count. Reads
 * families (metrics.h) while other threads count into them. Callers: the
 * daemon's /metrics (daemon/metrics_http.c), common/metrics_process.c, tests.
 */
#ifndef WEFT_METRICS_TEXT_H
#define WEFT_METRICS_TEXT_H

#include "common/buf.h"
#include "common/err.h"
#include "common/metrics.h"

/* The Content-Type of what these functions write. */
#define METRICS_TEXT_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends the family's HELP, TYPE and every series to out. -1 (-ENOMEM) with err. */
int metrics_text_family(struct weft_buf *out, const struct metrics_family *f, struct weft_err *err);

/* Appends one unlabelled sample with its HELP and TYPE ("counter", "gauge"). */
int metrics_text_value(struct weft_buf *out, const char *name, const char *help, const char *type,
                       double value, struct weft_err *err);

#endif
