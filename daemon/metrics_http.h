/*
 * metrics_http.h: `weft daemon --metrics ADDR:PORT`, Prometheus' scrape endpoint.
 *
 * Owns a TCP listening socket and its libmicrohttpd daemon, which answers GET
 * /metrics with common/weft_metrics.h's families and the process metrics, and
 * nothing else. It has no authentication: whoever reaches the address reads the
 * metrics (no secrets, but the call rates and host's health), so bind it to
 * loopback or a management network. Callers: daemon/main.c, tests.
 */
#ifndef WEFT_METRICS_HTTP_H
#define WEFT_METRICS_HTTP_H

#include "common/err.h"

struct metrics_http;

/* Listens on address ("HOST:PORT", an IPv6 host in brackets: "[::1]:9776") and serves
 * on a background thread. *out is freed by metrics_http_stop. */
int metrics_http_start(const char *address, struct metrics_http **out, struct weft_err *err);

/* Stops serving and closes the socket. NULL is fine. */
void metrics_http_stop(struct metrics_http *server);

#endif
