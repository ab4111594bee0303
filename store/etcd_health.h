/*
 * etcd_health.h: which etcd members answer at all, for store/etcd*.c only.
 *
 * Owns one prober thread per store client (started only when --store names more
 * than one member) and the register of sockets that client's curl handles have
 * open. Every round (ETCD_PACING_PROBE_MIN_MS, 200 ms, in a cluster of up to 20
 * hosts; longer in a larger one, etcd_pacing.h) the prober opens a TCP connection to
 * every member; a member whose kernel does not complete the handshake within
 * ETCD_PROBE_TIMEOUT_MS is silent (cut off, powered down, partitioned). Its open
 * sockets are shut down at once, so a request or a watch stream waiting on it
 * fails now, not after its timeout, and goes to another member; new sockets to it
 * are refused unless it is the last resort; requests try live members first. A
 * member that is slow but alive still completes handshakes (the kernel does
 * that, not etcd), so its requests keep their full timeout. Between rounds, every
 * socket in the register finds a silent member by itself: the kernel gives up on
 * data unanswered for ETCD_SOCKET_USER_TIMEOUT_MS, and on an idle socket after one
 * unanswered keepalive (ETCD_SOCKET_KEEPALIVE_S); that costs etcd's process
 * nothing, where each handshake costs it an accept. A socket that failed so (or
 * any other way) starts a round at once, so the flags of who is silent are right
 * before the failed request or stream picks its next member.
 *
 * Thread-safe: the state is atomics, the socket register has its own lock.
 */
#ifndef WEFT_ETCD_HEALTH_H
#define WEFT_ETCD_HEALTH_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* A socket's kernel gives up on a member that leaves data unanswered this long, and
 * an idle socket sends a keepalive after this many seconds (and again as often):
 * with several members, a silent one is found within about twice that however
 * seldom the prober's rounds are. A loaded but live member's kernel still answers
 * both at once. */
#define ETCD_SOCKET_USER_TIMEOUT_MS 1000U
#define ETCD_SOCKET_KEEPALIVE_S 1L
/* A LAN handshake takes well under a millisecond and is answered by the peer's
 * kernel even when etcd itself is busy (a thread of ours that is not scheduled
 * meanwhile does not count: the round looks once more past its deadline). Only a
 * lost SYN, resent after 1 s, makes a live member miss this: one needless
 * failover, which every call survives. */
#define ETCD_PROBE_TIMEOUT_MS 300L

struct etcd_open_socket {
    int fd;
    size_t member;
};

struct etcd_health {
    char **members; /* borrowed from struct etcd */
    size_t member_count;
    atomic_bool *dead; /* per member; all false until a probe says otherwise */
    pthread_t thread;
    bool running;
    pthread_mutex_t lock; /* guards stop and probe_now (with cond), and the register */
    pthread_cond_t cond;
    bool stop;
    bool probe_now; /* a socket failed: a round at once, whatever the pace */
    struct etcd_open_socket *sockets;
    size_t socket_count, socket_cap;
    atomic_size_t cluster_hosts; /* etcd_set_cluster_hosts; paces the rounds */
};

/* Which member a curl transfer is talking to, for the socket it may open. Lives
 * on the caller's stack for one curl_easy_perform. */
struct etcd_socket_owner {
    struct etcd_health *health;
    size_t member;
    bool even_if_dead; /* a last resort: every member seems silent */
};

int etcd_health_init(struct etcd_health *health, char **members, size_t member_count,
                     struct weft_err *err);
/* Starts the prober (a no-op for a single member: there is nowhere else to go). */
int etcd_health_start(struct etcd_health *health, struct weft_err *err);
/* Stops the prober; every handle using the register must be cleaned up before. */
void etcd_health_destroy(struct etcd_health *health);

bool etcd_health_dead(struct etcd_health *health, size_t member);
/* Whether attempt i of order (a list of members) should pass its member by: it is
 * silent and a member after it in order is not. */
bool etcd_health_skip(struct etcd_health *health, const size_t *order, size_t count, size_t i);

/* Makes handle open and close its sockets through the register; with several members
 * also sends keepalives each ETCD_SOCKET_KEEPALIVE_S (a caller's own keepalive
 * options set after this win). */
void etcd_health_attach(struct etcd_health *health, CURL *handle);
/* Before each curl_easy_perform on an attached handle: names the member it talks to. */
void etcd_health_perform_on(CURL *handle, struct etcd_socket_owner *owner);

#endif
