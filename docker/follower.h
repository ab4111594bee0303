/*
 * follower.h: the names of this host's containers, from the local Docker Engine
 * API, as Registrator reads them. Owns a thread that lists the running containers
 * when it starts (Docker replays nothing after a weft restart), then follows the
 * events stream (network connect, container rename) and inspects each container
 * concerned. For each network a container is on it hands over the endpoint and its
 * names: Docker's DNSNames when the API gives them (1.44+: name, aliases, short ID,
 * hostname), else the name, the network's Aliases and the short ID (API 1.41, Docker
 * 20.10): lowercase, deduplicated, each a valid DNS name, space-separated.
 * HTTP over the Docker socket with libcurl; the API version is negotiated (GET
 * /version), never pinned. A missing or restarting dockerd is logged once and
 * retried every second; it never touches networking. It never runs on a plugin
 * request thread: dockerd may be waiting for weft (at its start it restores
 * containers through the plugin), so only this thread calls dockerd.
 * Split: docker/engine.c (HTTP over the socket), docker/names.c and docker/answers.c
 * (the answers read, pure), docker/follower.c (this thread).
 * Fields read: /version ApiVersion, MinAPIVersion; /containers/json [].Id; inspect Id,
 * Name, NetworkSettings.Networks.*.{NetworkID, EndpointID, Aliases, DNSNames}; events
 * Type, Action, Actor.ID, Actor.Attributes.container.
 * Callers: daemon/main.c (start/stop) and tests. Thread-safe start and stop.
 */
#ifndef WEFT_DOCKER_FOLLOWER_H
#define WEFT_DOCKER_FOLLOWER_H

#include "common/err.h"

#define DOCKER_SOCKET_DEFAULT "/var/run/docker.sock"
/* The longest names text handed over (fits the peer record's names field). */
#define DOCKER_NAMES_MAX 1024
/* How far back each round's events stream starts before its listing (follower.c). */
#define DOCKER_FOLLOWER_REPLAY_S 10

/*
 * Called on the follower's thread for each (network, endpoint) of a container.
 * names: space-separated DNS names, never empty, shorter than DOCKER_NAMES_MAX.
 * The same endpoint comes again whenever its container is inspected again (each
 * listing, after a dockerd restart, a rename, another connect), so taking it must
 * be idempotent. Returns 0 (taken), -ENOENT (not one of the callee's networks:
 * ignored) or -EAGAIN (the network is the callee's but the endpoint is not known
 * yet: the follower tries again after a second, five times at most, between reads
 * of the events stream; a newer inspection of the endpoint replaces the one
 * waiting). Any other answer is logged and dropped. Must not block for long: the
 * events stream waits meanwhile.
 */
typedef int (*docker_names_fn)(void *ctx, const char *network_id, const char *endpoint_id,
                               const char *names);

struct docker_follower;
/* Starts the thread; returns once it runs (dockerd need not be up). socket_path NULL
 * means DOCKER_SOCKET_DEFAULT; on_names is required (-EINVAL). */
int docker_follower_start(struct docker_follower **out, const char *socket_path,
                          docker_names_fn on_names, void *ctx, struct weft_err *err);
/* Stops and joins the thread (interrupting a stream, a request or a retry wait:
 * within about 100 ms plus a callback in progress), frees f. f may be NULL. */
void docker_follower_stop(struct docker_follower *f);

#endif
