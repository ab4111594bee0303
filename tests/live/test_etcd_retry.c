/*
 * test_etcd_retry.c: a write retried after a timeout applies once. A proxy in
 * front of a live etcd, first in the member list, forwards every request to etcd
 * but swallows the answers to transactions, so the client times out after etcd applied the write
 * and retries it on the real member (second in the list). The retry must see its
 * own write as done: etcd_create answers created, and an address allocation
 * comes back with the address the first try took, leaving exactly one key.
 * The proxy also stands for a slow but alive member: the prober must let its
 * requests run their whole timeout. Two such proxies behind a dead member stand
 * for a cluster electing a new leader: a put every member took without answering
 * is asked again in a second round.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <poll.h>

#include "etcd_fixture.h"
#include "ipam/ipam.h"
#include "store/etcd.h"
#include "store/keys.h"

#define TIMEOUT_MS 1500L /* etcd applies a write on loopback in milliseconds, well within */
#define PAIRS_MAX 32

/* Forwards what clients send to etcd, and etcd's answers back, except those to
 * transactions: it reads and drops them. */
struct swallowing_proxy {
    int listen_fd, port, upstream_port;
    pthread_t thread;
    atomic_bool stop;
    atomic_int answers_swallowed; /* reads of etcd's answers that never reached the client */
    atomic_int puts_to_swallow;   /* so many puts' answers are dropped too */
    int client[PAIRS_MAX], upstream[PAIRS_MAX];
    bool swallow[PAIRS_MAX]; /* the pair's latest request is a transaction */
};

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void pair_close(struct swallowing_proxy *p, int i)
{
    close(p->client[i]);
    if (p->upstream[i] >= 0)
        close(p->upstream[i]);
    p->client[i] = p->upstream[i] = -1;
    p->swallow[i] = false;
}

static void *proxy_main(void *arg)
{
    struct swallowing_proxy *p = arg;
    while (!atomic_load(&p->stop)) {
        struct pollfd fds[1 + 2 * PAIRS_MAX];
        int slot[1 + 2 * PAIRS_MAX];
        nfds_t n = 0;
        fds[n] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
        slot[n++] = -1;
        for (int i = 0; i < PAIRS_MAX; i++) {
            if (p->client[i] < 0)
                continue;
            fds[n] = (struct pollfd){.fd = p->client[i], .events = POLLIN};
            slot[n++] = i;
            if (p->upstream[i] >= 0) {
                fds[n] = (struct pollfd){.fd = p->upstream[i], .events = POLLIN};
                slot[n++] = PAIRS_MAX + i;
            }
        }
        if (poll(fds, n, 50) <= 0)
            continue;
        char buf[65536];
        for (nfds_t k = 0; k < n; k++) {
            if (!fds[k].revents)
                continue;
            if (slot[k] == -1) {
                int fd = accept(p->listen_fd, NULL, NULL);
                int i = 0;
                while (i < PAIRS_MAX && p->client[i] >= 0)
                    i++;
                if (fd >= 0 && i < PAIRS_MAX)
                    p->client[i] = fd;
                else if (fd >= 0)
                    close(fd);
                continue;
            }
            int i = slot[k] % PAIRS_MAX;
            if (p->client[i] < 0)
                continue;               /* closed earlier in this pass */
            if (slot[k] >= PAIRS_MAX) { /* etcd answered */
                ssize_t got = read(p->upstream[i], buf, sizeof(buf));
                if (got > 0 && p->swallow[i])
                    atomic_fetch_add(&p->answers_swallowed, 1);
                else if (got <= 0 || write(p->client[i], buf, (size_t)got) != got)
                    pair_close(p, i);
                continue;
            }
            ssize_t got = read(p->client[i], buf, sizeof(buf));
            if (got <= 0) { /* the client gave up (or a prober's handshake ended) */
                pair_close(p, i);
                continue;
            }
            if (got >= 5 && memcmp(buf, "POST ", 5) == 0) {
                p->swallow[i] = got >= 15 && memcmp(buf, "POST /v3/kv/txn", 15) == 0;
                if (got >= 15 && memcmp(buf, "POST /v3/kv/put", 15) == 0 &&
                    atomic_load(&p->puts_to_swallow) > 0) {
                    atomic_fetch_sub(&p->puts_to_swallow, 1);
                    p->swallow[i] = true;
                }
            }
            if (p->upstream[i] < 0)
                p->upstream[i] = connect_loopback(p->upstream_port);
            if (p->upstream[i] < 0 || write(p->upstream[i], buf, (size_t)got) != got)
                pair_close(p, i);
        }
    }
    for (int i = 0; i < PAIRS_MAX; i++)
        if (p->client[i] >= 0)
            pair_close(p, i);
    return NULL;
}

static int proxy_start(struct swallowing_proxy *p, int upstream_port)
{
    memset(p, 0, sizeof(*p));
    for (int i = 0; i < PAIRS_MAX; i++)
        p->client[i] = p->upstream[i] = -1;
    p->upstream_port = upstream_port;
    atomic_init(&p->stop, false);
    atomic_init(&p->answers_swallowed, 0);
    atomic_init(&p->puts_to_swallow, 0);
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(p->listen_fd, 16) < 0 ||
        getsockname(p->listen_fd, (struct sockaddr *)&addr, &len) < 0)
        return -1;
    p->port = ntohs(addr.sin_port);
    return pthread_create(&p->thread, NULL, proxy_main, p) == 0 ? 0 : -1;
}

static void proxy_stop(struct swallowing_proxy *p)
{
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    close(p->listen_fd);
}

static struct etcd_fixture fixture;
static struct swallowing_proxy proxy, second_proxy;
static struct etcd *direct;

static int setup(void **state)
{
    (void)state;
    struct weft_err err;
    if (etcd_fixture_start(&fixture) < 0 || proxy_start(&proxy, fixture.client_port) < 0 ||
        proxy_start(&second_proxy, fixture.client_port) < 0 ||
        etcd_open(&direct, fixture.endpoint, &err) < 0)
        return -1;
    /* A fresh etcd elects itself first: until it applies writes, a swallowed one would
     * not be a write applied before its retry. */
    for (int i = 0; i < 100; i++) {
        if (etcd_put(direct, "/t/retry/ready", "1", 0, &err) == 0)
            return 0;
        usleep(100 * 1000);
    }
    return -1;
}

static int teardown(void **state)
{
    (void)state;
    etcd_close(direct);
    proxy_stop(&proxy);
    proxy_stop(&second_proxy);
    etcd_fixture_stop(&fixture);
    return 0;
}

/* A client whose first member is the proxy: its first request is applied by etcd,
 * answered to nobody, and retried on etcd itself after TIMEOUT_MS. */
static struct etcd *client_via_proxy(void)
{
    char members[160];
    snprintf(members, sizeof(members), "127.0.0.1:%d,%s", proxy.port, fixture.endpoint);
    struct etcd *etcd = NULL;
    struct weft_err err;
    assert_int_equal(etcd_open(&etcd, members, &err), 0);
    etcd_set_timeout_ms(etcd, TIMEOUT_MS);
    return etcd;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void retried_create_counts_its_own_write(void **state)
{
    (void)state;
    struct etcd *etcd = client_via_proxy();
    struct weft_err err;
    int swallowed = atomic_load(&proxy.answers_swallowed);
    long began = now_ms();
    bool created = false;
    struct etcd_kv existing;
    assert_int_equal(etcd_create(etcd, "/t/retry/create", "token-1", 0, &created, &existing, &err),
                     0);
    long took = now_ms() - began;
    /* The first try reached etcd and its answer was dropped: this was a retry. */
    assert_true(atomic_load(&proxy.answers_swallowed) > swallowed);
    /* The proxy completes handshakes, so it is alive to the prober: slow, not silent,
     * and the request ran its whole timeout before moving on. */
    assert_true(took >= TIMEOUT_MS);
    assert_true(created);
    assert_null(existing.key);

    /* Someone else's value is still "taken", with its owner. */
    assert_int_equal(
        etcd_create(direct, "/t/retry/create", "token-2", 0, &created, &existing, &err), 0);
    assert_false(created);
    assert_string_equal(existing.value, "token-1");
    etcd_kv_clear(&existing);
    etcd_close(etcd);
}

static void retried_allocation_keeps_one_address(void **state)
{
    (void)state;
    const char *pool = "10.99.0.0/24";
    char prefix[WEFT_KEY_MAX], out[ADDR_STR_MAX];
    key_addr_prefix(prefix, pool);
    struct etcd *etcd = client_via_proxy();
    struct weft_err err;
    int swallowed = atomic_load(&proxy.answers_swallowed);
    assert_int_equal(ipam_request_address(etcd, pool, "192.168.77.1", "", false, out, &err), 0);
    assert_true(atomic_load(&proxy.answers_swallowed) > swallowed);

    struct etcd_kvs kvs;
    assert_int_equal(etcd_get_prefix(direct, prefix, &kvs, &err), 0);
    /* Without recognising its own write the retry took a second address and the
     * first stayed allocated to nobody. */
    assert_int_equal(kvs.count, 1);
    char ip[ADDR_STR_MAX];
    snprintf(ip, sizeof(ip), "%s", out);
    *strchr(ip, '/') = '\0';
    char want[WEFT_KEY_MAX];
    key_addr(want, pool, ip);
    assert_string_equal(kvs.items[0].key, want);
    etcd_kvs_free(&kvs);
    etcd_close(etcd);
}

/* A loopback port bound but not listening: connecting is refused, as to a member
 * just killed. Held open so that nobody else takes it meanwhile. */
static int refusing_port(int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(addr);
    if (*fd < 0 || bind(*fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        getsockname(*fd, (struct sockaddr *)&addr, &len) < 0)
        return -1;
    return ntohs(addr.sin_port);
}

/* The leader was killed (its port refuses) and both followers take the put without
 * answering, as followers that still forward to the dead leader do: the put is asked
 * again in a second round and succeeds, within the budget of a timeout per member. */
static void put_every_member_left_unanswered_is_asked_again(void **state)
{
    (void)state;
    int dead_fd, dead_port = refusing_port(&dead_fd);
    assert_true(dead_port > 0);
    char members[160];
    snprintf(members, sizeof(members), "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", dead_port,
             proxy.port, second_proxy.port);
    struct etcd *etcd = NULL;
    struct weft_err err;
    assert_int_equal(etcd_open(&etcd, members, &err), 0);
    etcd_set_timeout_ms(etcd, TIMEOUT_MS);
    int swallowed =
        atomic_load(&proxy.answers_swallowed) + atomic_load(&second_proxy.answers_swallowed);
    atomic_store(&proxy.puts_to_swallow, 1);
    atomic_store(&second_proxy.puts_to_swallow, 1);

    long began = now_ms();
    int rc = etcd_put(etcd, "/t/retry/elected", "after", 0, &err);
    long took = now_ms() - began;
    if (rc < 0)
        fprintf(stderr, "put: %s\n", err.msg);
    assert_int_equal(rc, 0);
    /* Both followers took it and answered nothing: the answer came in a second round. */
    assert_int_equal(atomic_load(&proxy.answers_swallowed) +
                         atomic_load(&second_proxy.answers_swallowed),
                     swallowed + 2);
    assert_true(took >= 2 * TIMEOUT_MS);
    assert_true(took < 3 * TIMEOUT_MS + 1000);
    struct etcd_kv kv;
    bool found = false;
    assert_int_equal(etcd_get(direct, "/t/retry/elected", &kv, &found, &err), 0);
    assert_true(found);
    assert_string_equal(kv.value, "after");
    etcd_kv_clear(&kv);
    etcd_close(etcd);
    close(dead_fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retried_create_counts_its_own_write),
        cmocka_unit_test(retried_allocation_keeps_one_address),
        cmocka_unit_test(put_every_member_left_unanswered_is_asked_again),
    };
    return etcd_fixture_run_group(tests, setup, teardown);
}
