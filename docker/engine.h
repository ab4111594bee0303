/*
 * engine.h: HTTP to the Docker Engine API over its unix socket (libcurl): the
 * version negotiation, plain GETs and one streaming GET read line by line.
 *
 * Owns two curl handles (requests, stream), each driven by its own multi handle
 * in short polls, so every call returns within about 100 ms of *stop turning
 * true. Not thread-safe: one thread (the follower's) uses an engine; only *stop
 * is written by others. Callers: docker/follower.c and tests.
 */
#ifndef WEFT_DOCKER_ENGINE_H
#define WEFT_DOCKER_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

struct docker_engine;

/* stop is borrowed and must outlive the engine. No I/O yet. */
int docker_engine_new(struct docker_engine **out, const char *socket_path, const atomic_bool *stop,
                      struct weft_err *err);
void docker_engine_free(struct docker_engine *e);

/* GET /version and pick the API version later paths carry (answers.h); also
 * closes a stream left open. -ECONNREFUSED (no dockerd), -EPROTO, -ECANCELED. */
int docker_engine_negotiate(struct docker_engine *e, struct weft_err *err);
/* "1.47" and the like; "" before a successful negotiation. */
const char *docker_engine_version(const struct docker_engine *e);

/* GET /v<version><path> (path starts with "/", is already URL-encoded): on 200
 * *body receives the answer, NUL-terminated (free()). -ENOENT on 404, -EPROTO on
 * other statuses or an answer over 16 MiB, -ECONNREFUSED / -EIO / -ETIMEDOUT
 * (10 s) for transport failures, -ECANCELED when *stop turned true. */
int docker_engine_get(struct docker_engine *e, const char *path, char **body, size_t *len,
                      struct weft_err *err);

/* Opens the stream GET /v<version><path> (not waiting for an answer). */
int docker_engine_stream_open(struct docker_engine *e, const char *path, struct weft_err *err);
/* One line of the stream, without its "\n" and NUL-terminated; a nonzero return
 * ends the pump with that value (the stream stays open). */
typedef int (*docker_line_fn)(void *ctx, const char *line, size_t len);
/* Waits up to wait_ms for the stream and hands over the lines complete so far.
 * 0 while it is open; -EPIPE when it ended, -EPROTO on a status other than 200 or
 * a line over 1 MiB, -ECONNREFUSED / -EIO on transport failures, -ECANCELED on
 * stop, or fn's nonzero return. After a failure the stream is closed. */
int docker_engine_stream_pump(struct docker_engine *e, long wait_ms, docker_line_fn fn, void *ctx,
                              struct weft_err *err);
/* Whether dockerd answered the open stream with 200 (its headers came). */
bool docker_engine_stream_up(const struct docker_engine *e);
void docker_engine_stream_close(struct docker_engine *e);

#endif
