/*
 * http.h: the unix-socket HTTP server Docker talks to.
 *
 * Owns the socket file and the libmicrohttpd daemon; hands every POST to
 * driver_handle (or, for tests, to another handler of the same shape).
 * Callers: daemon/main.c, tests.
 */
#ifndef WEFT_HTTP_H
#define WEFT_HTTP_H

#include "common/err.h"
#include "driver/api.h"

/* Larger bodies are refused with 413. */
#define HTTP_BODY_MAX (1024 * 1024)
/* A refused body up to this size is read and dropped before the answer, so a
 * client that writes its whole body before reading (Go's net/http, Docker's
 * client) gets the answer. A declared Content-Length above it is answered at
 * once, which reaches a client that sent "Expect: 100-continue" cleanly; a
 * chunked body that passes it has its connection closed. */
#define HTTP_DRAIN_MAX (16 * 1024 * 1024)

struct http_server;

/* Creates socket_path (its parent directory too, mode 0755), mode 0660, and
 * serves it on background threads. A stale socket file left by a dead daemon
 * is replaced; a live one is refused. ctx is borrowed and must outlive the
 * server. *out is freed by http_server_stop. */
int http_server_start(const char *socket_path, struct driver_ctx *ctx, struct http_server **out,
                      struct weft_err *err);
/* What answers a POST, like driver_handle: never fails, out->body malloc'd. */
typedef void (*http_handler_fn)(void *cls, const char *path, const char *body, size_t body_len,
                                struct driver_response *out);
/* http_server_start with handler(cls, ...) in place of driver_handle(ctx, ...).
 * Tests use it to see how calls overlap. */
int http_server_start_handler(const char *socket_path, http_handler_fn handler, void *cls,
                              struct http_server **out, struct weft_err *err);
/* Waits for calls in flight, stops serving and removes the socket file. NULL is fine. */
void http_server_stop(struct http_server *server);

#endif
