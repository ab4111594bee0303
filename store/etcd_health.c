/*
 * etcd_health.c: the member prober and the socket register (see etcd_health.h).
 *
 * Why a prober of its own: a member that stops answering (its port dropped, its
 * host gone) sends no reset, so every path that talks to it only learns from its
 * own timeout: a request after 2 s, a watch stream (quiet by nature) much later.
 * One TCP handshake per member and round tells all paths at once, as etcd's own
 * clients learn it from gRPC keepalives. Each costs etcd's process an accept, so
 * the rounds stretch with the cluster's hosts (etcd_pacing.h), and the sockets'
 * own kernel keepalives cover the time between.
 */
#include "store/etcd_health.h"
#include "store/etcd_member.h"
#include "store/etcd_pacing.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

int etcd_health_init(struct etcd_health *health, char **members, size_t member_count,
                     struct weft_err *err)
{
    memset(health, 0, sizeof(*health));
    health->members = members;
    health->member_count = member_count;
    health->dead = calloc(member_count ? member_count : 1, sizeof(*health->dead));
    if (!health->dead)
        return weft_err_set(err, -ENOMEM, "out of memory");
    for (size_t i = 0; i < member_count; i++)
        atomic_init(&health->dead[i], false);
    atomic_init(&health->cluster_hosts, 0);
    pthread_mutex_init(&health->lock, NULL);
    clock_cond_init_monotonic(&health->cond);
    return 0;
}

bool etcd_health_dead(struct etcd_health *health, size_t member)
{
    return member < health->member_count && atomic_load(&health->dead[member]);
}

bool etcd_health_skip(struct etcd_health *health, const size_t *order, size_t count, size_t i)
{
    if (!etcd_health_dead(health, order[i]))
        return false;
    for (size_t j = i + 1; j < count; j++)
        if (!etcd_health_dead(health, order[j]))
            return true;
    return false;
}

/* ---- the socket register ---- */

static curl_socket_t socket_open(void *clientp, curlsocktype purpose, struct curl_sockaddr *address)
{
    (void)purpose;
    struct etcd_socket_owner *owner = clientp;
    int fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd < 0 || !owner)
        return fd < 0 ? CURL_SOCKET_BAD : fd;
    struct etcd_health *health = owner->health;
    pthread_mutex_lock(&health->lock);
    /* Found silent since the caller chose it: the prober's sweep (under this lock,
     * after the flag is set) may have missed this socket, so refuse it here. */
    if (!owner->even_if_dead && etcd_health_dead(health, owner->member)) {
        pthread_mutex_unlock(&health->lock);
        close(fd);
        return CURL_SOCKET_BAD;
    }
    if (health->socket_count == health->socket_cap) {
        size_t cap = health->socket_cap ? health->socket_cap * 2 : 16;
        struct etcd_open_socket *sockets = realloc(health->sockets, cap * sizeof(*sockets));
        if (!sockets) {
            pthread_mutex_unlock(&health->lock);
            close(fd);
            return CURL_SOCKET_BAD;
        }
        health->sockets = sockets;
        health->socket_cap = cap;
    }
    health->sockets[health->socket_count++] = (struct etcd_open_socket){fd, owner->member};
    if (health->member_count > 1) {
        /* Silent-member detection of its own between the prober's rounds (etcd_health.h). */
        unsigned user_timeout = ETCD_SOCKET_USER_TIMEOUT_MS;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
    }
    pthread_mutex_unlock(&health->lock);
    return fd;
}

/* Whether fd ended in failure: reset, timed out (its kernel gave up on a silent
 * member), or never connected. A socket curl closes of its own accord is still
 * established, or half-closed by etcd. */
static bool socket_failed(int fd)
{
    struct tcp_info info;
    socklen_t size = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &size) < 0)
        return false;
    return info.tcpi_state == TCP_CLOSE || info.tcpi_state == TCP_SYN_SENT;
}

/* Closing under the lock: the prober never shuts down a number already reused. */
static int socket_close(void *clientp, curl_socket_t fd)
{
    struct etcd_health *health = clientp;
    pthread_mutex_lock(&health->lock);
    if (health->member_count > 1 && socket_failed(fd)) {
        health->probe_now = true; /* see etcd_health.h */
        pthread_cond_broadcast(&health->cond);
    }
    for (size_t i = 0; i < health->socket_count; i++)
        if (health->sockets[i].fd == fd) {
            health->sockets[i] = health->sockets[--health->socket_count];
            break;
        }
    int rc = close(fd);
    pthread_mutex_unlock(&health->lock);
    return rc;
}

void etcd_health_attach(struct etcd_health *health, CURL *handle)
{
    if (health->member_count > 1) {
        /* Silent-member detection of its own between the prober's rounds (etcd_health.h),
         * with the user timeout socket_open sets. */
        curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(handle, CURLOPT_TCP_KEEPIDLE, ETCD_SOCKET_KEEPALIVE_S);
        curl_easy_setopt(handle, CURLOPT_TCP_KEEPINTVL, ETCD_SOCKET_KEEPALIVE_S);
    }
    curl_easy_setopt(handle, CURLOPT_OPENSOCKETFUNCTION, socket_open);
    curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, NULL);
    curl_easy_setopt(handle, CURLOPT_CLOSESOCKETFUNCTION, socket_close);
    curl_easy_setopt(handle, CURLOPT_CLOSESOCKETDATA, health);
}

void etcd_health_perform_on(CURL *handle, struct etcd_socket_owner *owner)
{
    curl_easy_setopt(handle, CURLOPT_OPENSOCKETDATA, owner);
}

/* Ends every transfer on member's sockets now: each fails at once and its caller
 * moves on to another member. The sockets stay open until curl closes them. */
static void shut_sockets_of(struct etcd_health *health, size_t member)
{
    pthread_mutex_lock(&health->lock);
    for (size_t i = 0; i < health->socket_count; i++)
        if (health->sockets[i].member == member)
            shutdown(health->sockets[i].fd, SHUT_RDWR);
    pthread_mutex_unlock(&health->lock);
}

/* ---- the prober ---- */

/* Starts a non-blocking connect to member; -1 when it cannot even start (no such
 * name, no route): that member is not reachable either. */
static int probe_start(const char *member)
{
    struct etcd_member_addr addr;
    if (etcd_member_parse(member, &addr, NULL) < 0) /* checked at open */
        return -1;
    /* getaddrinfo wants an IPv6 address without its brackets. */
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV | (addr.ipv6 ? AI_NUMERICHOST : 0)};
    struct addrinfo *ai = NULL;
    if (getaddrinfo(addr.host, addr.port, &hints, &ai) != 0 || !ai)
        return -1;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

/* Closes a probe with a reset rather than a FIN: no TIME_WAIT left per probe. */
static void probe_close(int fd)
{
    struct linger abort_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
    close(fd);
}

/* One round: a handshake with every member at once. alive[i] says who completed it. */
static void probe_round(struct etcd_health *health, bool *alive)
{
    size_t n = health->member_count;
    struct pollfd fds[n];
    for (size_t i = 0; i < n; i++) {
        alive[i] = false;
        fds[i] = (struct pollfd){.fd = probe_start(health->members[i]), .events = POLLOUT};
    }
    long deadline = clock_monotonic_ms() + ETCD_PROBE_TIMEOUT_MS;
    size_t pending = 0;
    for (size_t i = 0; i < n; i++)
        pending += fds[i].fd >= 0;
    bool last = false;
    while (pending > 0 && !last) {
        /* Past the deadline, one more look without waiting: a handshake that completed
         * while this thread was not running (a loaded host) counts. */
        long left = deadline - clock_monotonic_ms();
        last = left <= 0;
        if (poll(fds, n, last ? 0 : (int)left) < 0 && errno != EINTR)
            break;
        for (size_t i = 0; i < n; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            int so_error = 0;
            socklen_t size = sizeof(so_error);
            getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &so_error, &size);
            alive[i] = so_error == 0; /* a refusal: the host answers but etcd is not there */
            probe_close(fds[i].fd);
            fds[i].fd = -1; /* poll skips negative descriptors */
            pending--;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (fds[i].fd >= 0)
            probe_close(fds[i].fd);
}

static void *prober_main(void *arg)
{
    struct etcd_health *health = arg;
    bool alive[health->member_count];
    pthread_mutex_lock(&health->lock);
    while (!health->stop) {
        pthread_mutex_unlock(&health->lock);
        long began = clock_monotonic_ms();
        probe_round(health, alive);
        for (size_t i = 0; i < health->member_count; i++) {
            bool was_dead = atomic_exchange(&health->dead[i], !alive[i]);
            if (!alive[i] && !was_dead) {
                log_warn("store member not answering, moving away from it", "member=%s",
                         health->members[i]);
                shut_sockets_of(health, i);
            } else if (alive[i] && was_dead) {
                log_info("store member answers again", "member=%s", health->members[i]);
            }
        }
        long round_ms = etcd_pacing_member_probe_ms(atomic_load(&health->cluster_hosts));
        long wait = began + round_ms - clock_monotonic_ms();
        struct timespec until = clock_deadline(CLOCK_MONOTONIC, wait > 0 ? wait : 0);
        pthread_mutex_lock(&health->lock);
        while (!health->stop && !health->probe_now &&
               pthread_cond_timedwait(&health->cond, &health->lock, &until) == 0)
            ;
        health->probe_now = false;
    }
    pthread_mutex_unlock(&health->lock);
    return NULL;
}

int etcd_health_start(struct etcd_health *health, struct weft_err *err)
{
    if (health->member_count < 2)
        return 0;
    int rc = pthread_create(&health->thread, NULL, prober_main, health);
    if (rc != 0)
        return weft_err_set(err, -rc, "starting the store member prober: %s", strerror(rc));
    health->running = true;
    return 0;
}

void etcd_health_destroy(struct etcd_health *health)
{
    if (health->running) {
        pthread_mutex_lock(&health->lock);
        health->stop = true;
        pthread_cond_broadcast(&health->cond);
        pthread_mutex_unlock(&health->lock);
        pthread_join(health->thread, NULL);
        health->running = false;
    }
    if (!health->dead)
        return; /* never initialised */
    pthread_cond_destroy(&health->cond);
    pthread_mutex_destroy(&health->lock);
    free(health->sockets);
    free(health->dead);
    health->dead = NULL;
}
