/*
 * test_etcd_health.c: a member that goes silent while a request waits on it is
 * left within about a second, not after the request timeout. The first member is
 * a listener that accepts connections and never answers (a hung etcd, alive to
 * TCP); a request sent to it waits. Then the member goes silent: it stops
 * accepting and its accept queue is filled, so the kernel drops new handshakes,
 * as for a host cut off. The prober must notice and end the waiting request, which
 * then succeeds on the real etcd (second member) long before its 5 s timeout.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etcd_fixture.h"
#include "store/etcd.h"

#define TIMEOUT_MS 5000L
/* Probe interval + probe timeout (0.5 s), and room for a loaded machine. */
#define NOTICED_WITHIN_MS 2000L
#define HELD_MAX 64

struct hung_member {
    int listen_fd, port;
    pthread_t thread;
    atomic_bool stop, silent;
    int held[HELD_MAX]; /* accepted connections, never answered */
    int fillers[8];     /* our own connections that fill the accept queue */
};

static void *hung_main(void *arg)
{
    struct hung_member *h = arg;
    while (!atomic_load(&h->stop)) {
        struct pollfd fds[1 + HELD_MAX];
        nfds_t n = 0;
        if (!atomic_load(&h->silent))
            fds[n++] = (struct pollfd){.fd = h->listen_fd, .events = POLLIN};
        for (int i = 0; i < HELD_MAX; i++)
            if (h->held[i] >= 0)
                fds[n++] = (struct pollfd){.fd = h->held[i], .events = POLLIN};
        if (poll(fds, n, 20) <= 0)
            continue;
        for (nfds_t k = 0; k < n; k++) {
            if (!fds[k].revents)
                continue;
            if (fds[k].fd == h->listen_fd) {
                int fd = accept(h->listen_fd, NULL, NULL);
                int i = 0;
                while (i < HELD_MAX && h->held[i] >= 0)
                    i++;
                if (fd >= 0 && i < HELD_MAX)
                    h->held[i] = fd;
                else if (fd >= 0)
                    close(fd);
                continue;
            }
            char buf[4096];
            if (read(fds[k].fd, buf, sizeof(buf)) > 0)
                continue; /* a request: heard, never answered */
            for (int i = 0; i < HELD_MAX; i++)
                if (h->held[i] == fds[k].fd) {
                    close(h->held[i]);
                    h->held[i] = -1;
                }
        }
    }
    return NULL;
}

static int hung_start(struct hung_member *h)
{
    memset(h, 0, sizeof(*h));
    for (int i = 0; i < HELD_MAX; i++)
        h->held[i] = -1;
    for (int i = 0; i < 8; i++)
        h->fillers[i] = -1;
    atomic_init(&h->stop, false);
    atomic_init(&h->silent, false);
    h->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    if (h->listen_fd < 0 || bind(h->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(h->listen_fd, 16) < 0 || getsockname(h->listen_fd, (struct sockaddr *)&addr, &len) < 0)
        return -1;
    h->port = ntohs(addr.sin_port);
    return pthread_create(&h->thread, NULL, hung_main, h) == 0 ? 0 : -1;
}

/* Stops accepting and fills the accept queue until a handshake no longer completes
 * within 100 ms: from then on the kernel drops SYNs to this port. */
static int hung_go_silent(struct hung_member *h)
{
    atomic_store(&h->silent, true);
    usleep(50 * 1000); /* the thread's poll no longer watches the listener */
    if (listen(h->listen_fd, 0) < 0)
        return -1;
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)h->port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < 8; i++) {
        h->fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (connect(h->fillers[i], (struct sockaddr *)&addr, sizeof(addr)) == 0)
            continue;
        struct pollfd pfd = {.fd = h->fillers[i], .events = POLLOUT};
        if (poll(&pfd, 1, 100) == 0)
            return 0; /* this handshake went unanswered */
    }
    return -1;
}

static void hung_stop(struct hung_member *h)
{
    atomic_store(&h->stop, true);
    pthread_join(h->thread, NULL);
    for (int i = 0; i < HELD_MAX; i++)
        if (h->held[i] >= 0)
            close(h->held[i]);
    for (int i = 0; i < 8; i++)
        if (h->fillers[i] >= 0)
            close(h->fillers[i]);
    close(h->listen_fd);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

struct put_call {
    struct etcd *etcd;
    atomic_bool done;
    long done_at;
    int rc;
    struct weft_err err;
};

static void *put_main(void *arg)
{
    struct put_call *call = arg;
    call->rc = etcd_put(call->etcd, "/t/health/key", "v", 0, &call->err);
    call->done_at = now_ms();
    atomic_store(&call->done, true);
    return NULL;
}

static void request_on_a_member_gone_silent_moves_on(void **state)
{
    (void)state;
    struct etcd_fixture fixture;
    struct hung_member hung;
    assert_int_equal(etcd_fixture_start(&fixture), 0);
    assert_int_equal(hung_start(&hung), 0);
    char members[160];
    snprintf(members, sizeof(members), "127.0.0.1:%d,%s", hung.port, fixture.endpoint);
    struct etcd *etcd;
    struct weft_err err;
    assert_int_equal(etcd_open(&etcd, members, &err), 0);
    etcd_set_timeout_ms(etcd, TIMEOUT_MS);

    struct put_call call = {.etcd = etcd};
    atomic_init(&call.done, false);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, put_main, &call), 0);
    usleep(1000 * 1000); /* the request waits on the hung member, which still handshakes */
    assert_false(atomic_load(&call.done));
    long cut = now_ms();
    assert_int_equal(hung_go_silent(&hung), 0);
    pthread_join(thread, NULL);
    long took = call.done_at - cut;
    printf("request ended %ld ms after the member went silent\n", took);
    assert_int_equal(call.rc, 0);
    assert_true(took < NOTICED_WITHIN_MS);

    bool found = false;
    struct etcd_kv kv;
    assert_int_equal(etcd_get(etcd, "/t/health/key", &kv, &found, &err), 0);
    assert_true(found);
    etcd_kv_clear(&kv);
    etcd_close(etcd);
    hung_stop(&hung);
    etcd_fixture_stop(&fixture);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_on_a_member_gone_silent_moves_on),
    };
    return etcd_fixture_run_group(tests, NULL, NULL);
}
