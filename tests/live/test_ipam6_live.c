/*
 * test_ipam6_live.c: IPv6 pools (issue 12) against a real (loopback) etcd: random
 * probes in a /64, a /120 filled to the last address and then answered "full"
 * quickly, the shared gateway, --ip6, release, assert, reaping, and 8 hosts
 * allocating concurrently in a /64, in a /120 and in a --ip-range; --ip-range
 * and --aux-address in IPv6 pools. Each "host" has its own store
 * client, as separate daemons would; several threads share one, as one daemon's
 * concurrent Docker calls do.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/addr6.h"
#include "etcd_fixture.h"
#include "ipam/ipam.h"
#include "store/keys.h"

static struct etcd_fixture fixture;
static struct etcd *host_a, *host_b;

static int setup(void **state)
{
    (void)state;
    struct weft_err err;
    if (etcd_fixture_start(&fixture) < 0)
        return -1;
    if (etcd_open(&host_a, fixture.endpoint, &err) < 0 ||
        etcd_open(&host_b, fixture.endpoint, &err) < 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    etcd_close(host_a);
    etcd_close(host_b);
    etcd_fixture_stop(&fixture);
    return 0;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* "addr/len" -> "addr". */
static void plain(const char *answer, char out[ADDR_STR_MAX])
{
    snprintf(out, ADDR_STR_MAX, "%.*s", (int)strcspn(answer, "/"), answer);
}

static void pools_are_canonical(void **state)
{
    (void)state;
    char id[IPAM_POOL_ID_MAX];
    struct weft_err err = {0};
    assert_int_equal(ipam_request_pool("FD81:0:0:0::/64", "", id, &err), 0);
    assert_string_equal(id, "fd81::/64");
    assert_int_equal(ipam_request_pool("fd81::/63", "", id, &err), -1);
    assert_non_null(strstr(err.msg, "from /64 to /120"));
    assert_int_equal(ipam_request_pool("fd81::1/64", "", id, &err), -1);
    assert_non_null(strstr(err.msg, "did you mean fd81::/64"));
    assert_int_equal(ipam_request_pool("ff05::/64", "", id, &err), -1);
    assert_non_null(strstr(err.msg, "not unicast IPv6"));
    /* An address request on a pool ID weft never handed out. */
    char addr[ADDR_STR_MAX];
    assert_int_equal(
        ipam_request_address(host_a, "fd81::/48", "192.168.0.1", NULL, false, addr, &err), -1);
    assert_int_equal(err.code, -ENOENT);
}

static void slash64_gateway_exact_and_release(void **state)
{
    (void)state;
    const char *pool = "fd81:1::/64";
    char gw_a[ADDR_STR_MAX], gw_b[ADDR_STR_MAX], addr[ADDR_STR_MAX], ip[ADDR_STR_MAX];
    struct weft_err err = {0};
    /* Every host's Docker asks for the gateway: all get the same, first host address. */
    assert_int_equal(ipam_request_address(host_a, pool, "192.168.0.1", NULL, true, gw_a, &err), 0);
    assert_int_equal(ipam_request_address(host_b, pool, "192.168.0.2", NULL, true, gw_b, &err), 0);
    assert_string_equal(gw_a, "fd81:1::1/64");
    assert_string_equal(gw_b, gw_a);
    /* Random addresses in the /64: inside it, never the gateway, all distinct. */
    char seen[20][ADDR_STR_MAX];
    for (int i = 0; i < 20; i++) {
        assert_int_equal(ipam_request_address(i % 2 ? host_a : host_b, pool, "192.168.0.1", NULL,
                                              false, seen[i], &err),
                         0);
        plain(seen[i], ip);
        struct ipv6_subnet s;
        struct ipv6_addr a;
        assert_int_equal(ipv6_subnet_parse(pool, &s, &err), 0);
        assert_int_equal(ipv6_parse(ip, &a, &err), 0);
        assert_true(ipv6_subnet_contains(&s, &a));
        assert_non_null(strstr(seen[i], "/64"));
        assert_string_not_equal(seen[i], gw_a);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    int count;
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, 20);
    /* --ip6: taken in any spelling, refused to a second host, and the gateway is no endpoint's. */
    assert_int_equal(
        ipam_request_address(host_a, pool, "192.168.0.1", "FD81:1:0::BEEF", false, addr, &err), 0);
    assert_string_equal(addr, "fd81:1::beef/64");
    assert_int_equal(
        ipam_request_address(host_b, pool, "192.168.0.2", "fd81:1::beef", false, addr, &err), -1);
    assert_int_equal(err.code, -EEXIST);
    assert_non_null(strstr(err.msg, "already in use by an endpoint on host 192.168.0.1"));
    assert_int_equal(
        ipam_request_address(host_b, pool, "192.168.0.2", "fd81:1::1", false, addr, &err), -1);
    assert_non_null(strstr(err.msg, "is the gateway of fd81:1::/64"));
    assert_int_equal(
        ipam_request_address(host_b, pool, "192.168.0.2", "fd81:2::1", false, addr, &err), -1);
    assert_int_equal(err.code, -ERANGE);
    assert_int_equal(
        ipam_request_address(host_b, pool, "192.168.0.2", "fd81:1::", false, addr, &err), -1);
    assert_non_null(strstr(err.msg, "not a host address of fd81:1::/64"));
    /* Release frees it for the next host; twice is fine; the gateway is kept. */
    assert_int_equal(ipam_release_address(host_b, pool, "192.168.0.1", "fd81:1:0:0::beef", &err),
                     0);
    assert_int_equal(ipam_release_address(host_b, pool, "192.168.0.1", "fd81:1::beef", &err), 0);
    assert_int_equal(
        ipam_request_address(host_b, pool, "192.168.0.2", "fd81:1::beef", false, addr, &err), 0);
    assert_int_equal(ipam_release_address(host_a, pool, "192.168.0.1", "fd81:1::1", &err), 0);
    assert_int_equal(ipam_request_address(host_b, pool, "192.168.0.3", NULL, true, gw_b, &err), 0);
    assert_string_equal(gw_b, "fd81:1::1/64");
    assert_int_equal(ipam_release_address(host_b, pool, "192.168.0.1", "fd81:9::1", &err), -1);
    assert_int_equal(err.code, -ERANGE);
    for (int i = 0; i < 20; i++) {
        plain(seen[i], ip);
        assert_int_equal(ipam_release_address(host_a, pool, "192.168.0.1", ip, &err), 0);
    }
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, 1); /* fd81:1::beef */
    /* Assert: this host's address is kept, another's is a conflict naming it. */
    assert_int_equal(ipam_assert_address(host_b, pool, "192.168.0.2", "fd81:1::beef", &err), 0);
    assert_int_equal(ipam_assert_address(host_a, pool, "192.168.0.1", "fd81:1::beef", &err), -1);
    assert_non_null(strstr(err.msg, "is allocated to host 192.168.0.2"));
    assert_int_equal(ipam_assert_address(host_a, pool, "192.168.0.1", "fd81:1::77", &err), 0);
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, 2);
}

/* A /120 to its last address: 255 hosts, the gateway (asked for explicitly, as with
 * --gateway) and 254 endpoints; then "full", quickly, and a release makes room. */
static void slash120_fills_and_says_full_quickly(void **state)
{
    (void)state;
    const char *pool = "fd81:2::100/120";
    char addr[ADDR_STR_MAX], ip[ADDR_STR_MAX];
    struct weft_err err = {0};
    assert_int_equal(
        ipam_request_address(host_a, pool, "192.168.0.1", "fd81:2::1fe", true, addr, &err), 0);
    assert_string_equal(addr, "fd81:2::1fe/120");
    static char seen[254][ADDR_STR_MAX];
    for (int i = 0; i < 254; i++) {
        if (ipam_request_address(i % 2 ? host_a : host_b, pool, "192.168.0.1", NULL, false,
                                 seen[i], &err) < 0)
            fail_msg("allocation %d of 254: %s", i, err.msg);
        for (int j = 0; j < i; j++)
            if (strcmp(seen[i], seen[j]) == 0)
                fail_msg("%s handed out twice", seen[i]);
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(
            ipam_request_address(host_b, pool, "192.168.0.2", NULL, false, addr, &err), -1);
        assert_int_equal(err.code, -ENOSPC);
        assert_non_null(strstr(err.msg, "pool fd81:2::100/120 has no free address (255 in use)"));
    }
    double full = seconds_since(&start) / 10;
    print_message("a full /120 answers in %.1f ms\n", full * 1000);
    assert_true(full < 0.5);
    plain(seen[100], ip);
    assert_int_equal(ipam_release_address(host_b, pool, "192.168.0.1", ip, &err), 0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_int_equal(ipam_request_address(host_a, pool, "192.168.0.1", NULL, false, addr, &err), 0);
    assert_string_equal(addr, seen[100]); /* the one free address, found from the listing */
    print_message("the last free address of a /120 found in %.1f ms\n",
                  seconds_since(&start) * 1000);
    int count;
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, 254);
}

/* Whether answer ("addr/len") lies in [low, high] of subnet's host offsets. */
static bool answer_within(const char *answer, const char *subnet, uint64_t low, uint64_t high)
{
    char ip[ADDR_STR_MAX];
    struct ipv6_subnet s;
    struct ipv6_addr a;
    plain(answer, ip);
    if (ipv6_subnet_parse(subnet, &s, NULL) < 0 || ipv6_parse(ip, &a, NULL) < 0 ||
        !ipv6_subnet_contains(&s, &a))
        return false;
    uint64_t offset = ipv6_subnet_offset(&s, &a);
    return offset >= low && offset <= high;
}

/* --ip-range in an IPv6 pool: fixed by the first host, dynamic addresses only from
 * the range (a /120 of a /64: listed when probes miss), the gateway its first
 * address, --ip6 anywhere in the subnet, and --aux-address reserved on every host. */
static void ranged_pool_allocates_inside_the_range(void **state)
{
    (void)state;
    char id[IPAM_POOL_ID_MAX], other[IPAM_POOL_ID_MAX], none[IPAM_POOL_ID_MAX];
    char addr[ADDR_STR_MAX], gw_a[ADDR_STR_MAX], gw_b[ADDR_STR_MAX], ip[ADDR_STR_MAX];
    struct weft_err err = {0};
    assert_int_equal(ipam_request_pool("fd73::/64", "fd73::100/120", id, &err), 0);
    assert_string_equal(id, "fd73::/64@fd73::100/120");
    /* Fixed cluster-wide: the same range again is fine, another or none is refused. */
    assert_int_equal(ipam_fix_pool(host_a, id, &err), 0);
    assert_int_equal(ipam_fix_pool(host_b, id, &err), 0);
    assert_int_equal(ipam_request_pool("fd73::/64", "fd73::200/120", other, &err), 0);
    assert_int_equal(ipam_fix_pool(host_b, other, &err), -1);
    assert_int_equal(err.code, -EEXIST);
    assert_non_null(strstr(err.msg, "subnet fd73::/64 is in use with --ip-range fd73::100/120; "
                                    "this host asked for fd73::200/120"));
    assert_int_equal(ipam_request_pool("fd73::/64", "", none, &err), 0);
    assert_int_equal(ipam_fix_pool(host_b, none, &err), -1);
    assert_non_null(strstr(err.msg, "this host asked for none"));
    /* --aux-address, as Docker reserves it on each host creating the network. */
    assert_int_equal(ipam_reserve_aux(host_a, id, "192.168.0.1", "fd73::5", addr, &err), 0);
    assert_string_equal(addr, "fd73::5/64");
    assert_int_equal(ipam_reserve_aux(host_b, id, "192.168.0.2", "FD73:0::5", addr, &err), 0);
    assert_string_equal(addr, "fd73::5/64");
    assert_int_equal(ipam_reserve_aux(host_b, id, "192.168.0.2", "fd74::5", addr, &err), -1);
    assert_int_equal(err.code, -ERANGE);
    assert_non_null(strstr(err.msg, "--aux-address"));
    /* The gateway: the range's first address, shared. */
    assert_int_equal(ipam_request_address(host_a, id, "192.168.0.1", NULL, true, gw_a, &err), 0);
    assert_int_equal(ipam_request_address(host_b, id, "192.168.0.2", NULL, true, gw_b, &err), 0);
    assert_string_equal(gw_a, "fd73::100/64");
    assert_string_equal(gw_b, gw_a);
    char seen[50][ADDR_STR_MAX];
    for (int i = 0; i < 50; i++) {
        if (ipam_request_address(i % 2 ? host_a : host_b, id, "192.168.0.1", NULL, false, seen[i],
                                 &err) < 0)
            fail_msg("allocation %d: %s", i, err.msg);
        if (!answer_within(seen[i], "fd73::/64", 0x101, 0x1ff))
            fail_msg("%s is outside --ip-range fd73::100/120 (or the gateway)", seen[i]);
        for (int j = 0; j < i; j++)
            if (strcmp(seen[i], seen[j]) == 0)
                fail_msg("%s handed out twice", seen[i]);
    }
    /* --ip6 may take any free address of the subnet, but no aux address. */
    assert_int_equal(ipam_request_address(host_b, id, "192.168.0.2", "fd73::beef", false, addr,
                                          &err), 0);
    assert_string_equal(addr, "fd73::beef/64");
    assert_int_equal(
        ipam_request_address(host_b, id, "192.168.0.2", "fd73::5", false, addr, &err), -1);
    assert_int_equal(err.code, -EEXIST);
    assert_non_null(strstr(err.msg, "address fd73::5 of fd73::/64 is reserved by --aux-address"));
    assert_int_equal(ipam_reserve_aux(host_b, id, "192.168.0.2", "fd73::beef", addr, &err), -1);
    assert_non_null(strstr(err.msg, "already in use by an endpoint on host 192.168.0.2"));
    assert_int_equal(ipam_reserve_aux(host_b, id, "192.168.0.2", "fd73::100", addr, &err), -1);
    assert_non_null(strstr(err.msg, "is the gateway of fd73::/64"));
    assert_int_equal(ipam_assert_address(host_a, id, "192.168.0.1", "fd73::5", &err), -1);
    assert_non_null(strstr(err.msg, "an --aux-address of fd73::/64"));
    /* Aux and gateway are no endpoint's: neither counted nor released by a host. */
    int count;
    assert_int_equal(ipam_count_addresses(host_a, id, &count, &err), 0);
    assert_int_equal(count, 51);
    assert_int_equal(ipam_release_address(host_a, id, "192.168.0.1", "fd73::5", &err), 0);
    assert_int_equal(
        ipam_request_address(host_a, id, "192.168.0.1", "fd73::5", false, addr, &err), -1);
    assert_non_null(strstr(err.msg, "reserved by --aux-address"));
    plain(seen[0], ip);
    assert_int_equal(ipam_release_address(host_a, id, "192.168.0.1", ip, &err), 0);
    assert_int_equal(ipam_count_addresses(host_a, "fd73::/64", &count, &err), 0);
    assert_int_equal(count, 50);
}

/* A large range (a /96 of a /64) is probed at random inside it, never scanned. */
static void large_range_is_probed_inside(void **state)
{
    (void)state;
    char id[IPAM_POOL_ID_MAX], addr[ADDR_STR_MAX];
    struct weft_err err = {0};
    assert_int_equal(ipam_request_pool("fd76::/64", "fd76::7:0:0/96", id, &err), 0);
    assert_int_equal(ipam_fix_pool(host_a, id, &err), 0);
    assert_int_equal(ipam_request_address(host_a, id, "192.168.0.1", NULL, true, addr, &err), 0);
    assert_string_equal(addr, "fd76::7:0:0/64");
    uint64_t low = UINT64_C(7) << 32, high = low + UINT32_MAX;
    for (int i = 0; i < 20; i++) {
        assert_int_equal(
            ipam_request_address(host_b, id, "192.168.0.2", NULL, false, addr, &err), 0);
        if (!answer_within(addr, "fd76::/64", low + 1, high))
            fail_msg("%s is outside --ip-range fd76::7:0:0/96", addr);
    }
}

/* A full range answers "full" quickly, naming the range, though the subnet has room. */
static void full_range_is_refused_quickly(void **state)
{
    (void)state;
    char id[IPAM_POOL_ID_MAX], addr[ADDR_STR_MAX], ip[ADDR_STR_MAX];
    struct weft_err err = {0};
    assert_int_equal(ipam_request_pool("fd74::/64", "fd74::10/124", id, &err), 0);
    assert_int_equal(ipam_fix_pool(host_a, id, &err), 0);
    assert_int_equal(ipam_request_address(host_a, id, "192.168.0.1", NULL, true, addr, &err), 0);
    assert_string_equal(addr, "fd74::10/64");
    char seen[15][ADDR_STR_MAX];
    for (int i = 0; i < 15; i++) {
        if (ipam_request_address(i % 2 ? host_a : host_b, id, "192.168.0.1", NULL, false, seen[i],
                                 &err) < 0)
            fail_msg("allocation %d of 15: %s", i, err.msg);
        assert_true(answer_within(seen[i], "fd74::/64", 0x11, 0x1f));
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(ipam_request_address(host_b, id, "192.168.0.2", NULL, false, addr, &err),
                         -1);
        assert_int_equal(err.code, -ENOSPC);
        assert_non_null(strstr(err.msg, "--ip-range fd74::10/124 of pool fd74::/64 has no free "
                                        "address (16 in use)"));
    }
    double full = seconds_since(&start) / 10;
    print_message("a full /124 range answers in %.1f ms\n", full * 1000);
    assert_true(full < 0.5);
    /* --ip6 outside the range still works; a release inside makes room. */
    assert_int_equal(
        ipam_request_address(host_b, id, "192.168.0.2", "fd74::9", false, addr, &err), 0);
    plain(seen[7], ip);
    assert_int_equal(ipam_release_address(host_a, id, "192.168.0.1", ip, &err), 0);
    assert_int_equal(ipam_request_address(host_b, id, "192.168.0.2", NULL, false, addr, &err), 0);
    assert_string_equal(addr, seen[7]);
}

/* The reaper walks every pool's keys: a dead host's IPv6 addresses go too. */
static void reaper_frees_a_dead_hosts_ipv6_addresses(void **state)
{
    (void)state;
    const char *pool = "2001:db8:77::/64";
    char addr[ADDR_STR_MAX], key[WEFT_KEY_MAX];
    struct weft_err err = {0};
    key_host_alive(key, "192.168.7.1");
    assert_int_equal(etcd_put(host_a, key, "{}", 0, &err), 0);
    assert_int_equal(ipam_request_address(host_a, pool, "192.168.7.1", NULL, true, addr, &err), 0);
    assert_int_equal(ipam_request_address(host_a, pool, "192.168.7.1", NULL, false, addr, &err), 0);
    assert_int_equal(ipam_request_address(host_a, pool, "192.168.7.2", NULL, false, addr, &err), 0);
    struct ipam_reaper *reaper = ipam_reaper_new(0);
    assert_non_null(reaper);
    assert_int_equal(ipam_reap(host_b, reaper, NULL, &err), 0);
    ipam_reaper_free(reaper);
    int count;
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, 1); /* the live host's; the gateway is never reaped */
    char ip[ADDR_STR_MAX];
    plain(addr, ip);
    bool found = true;
    struct etcd_kv kv;
    key_addr(key, pool, ip);
    assert_int_equal(etcd_get(host_a, key, &kv, &found, &err), 0);
    assert_false(found);
}

#define HOSTS 8
#define REQUESTS 100 /* per host */
#define THREADS 10   /* per host, sharing its client: 80 requests in flight */

struct host_run {
    const char *pool;
    char host[32];
    struct etcd *etcd;
    char addrs[REQUESTS][ADDR_STR_MAX];
    int full, next;
    int other_failures;
    char last_error[WEFT_ERR_MAX];
    pthread_mutex_t lock;
};

static void *allocate_share(void *arg)
{
    struct host_run *run = arg;
    for (;;) {
        pthread_mutex_lock(&run->lock);
        int i = run->next < REQUESTS ? run->next++ : -1;
        pthread_mutex_unlock(&run->lock);
        if (i < 0)
            return NULL;
        struct weft_err err = {0};
        if (ipam_request_address(run->etcd, run->pool, run->host, NULL, false, run->addrs[i],
                                 &err) == 0)
            continue;
        run->addrs[i][0] = '\0';
        pthread_mutex_lock(&run->lock);
        if (err.code == -ENOSPC) {
            run->full++;
        } else {
            run->other_failures++; /* its message, not a "full" one, is what a failure shows */
            memcpy(run->last_error, err.msg, sizeof(err.msg));
        }
        pthread_mutex_unlock(&run->lock);
    }
}

static int compare_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* 8 hosts x 100 requests at once in pool; returns how many were answered "full"
 * after checking that every address handed out is distinct and counted. */
static int allocate_concurrently(const char *pool, int *allocated)
{
    static struct host_run runs[HOSTS];
    pthread_t threads[HOSTS][THREADS];
    struct weft_err err;
    for (int h = 0; h < HOSTS; h++) {
        memset(&runs[h], 0, sizeof(runs[h]));
        runs[h].pool = pool;
        pthread_mutex_init(&runs[h].lock, NULL);
        snprintf(runs[h].host, sizeof(runs[h].host), "192.168.1.%d", h + 1);
        assert_int_equal(etcd_open(&runs[h].etcd, fixture.endpoint, &err), 0);
        /* About contention, not latency: 80 requests in flight on a loaded machine took
         * one past the 2 s default ("Timeout was reached" in a make test). */
        etcd_set_timeout_ms(runs[h].etcd, 10000);
    }
    for (int h = 0; h < HOSTS; h++)
        for (int t = 0; t < THREADS; t++)
            pthread_create(&threads[h][t], NULL, allocate_share, &runs[h]);
    for (int h = 0; h < HOSTS; h++)
        for (int t = 0; t < THREADS; t++)
            pthread_join(threads[h][t], NULL);
    static char all[HOSTS * REQUESTS][ADDR_STR_MAX];
    int n = 0, full = 0, failed_host = -1;
    for (int h = 0; h < HOSTS; h++) { /* every client closed before a failure ends the test */
        etcd_close(runs[h].etcd);
        pthread_mutex_destroy(&runs[h].lock);
        if (runs[h].other_failures && failed_host < 0)
            failed_host = h;
    }
    if (failed_host >= 0)
        fail_msg("host %d: %d failures, last: %s", failed_host, runs[failed_host].other_failures,
                 runs[failed_host].last_error);
    for (int h = 0; h < HOSTS; h++) {
        full += runs[h].full;
        for (int i = 0; i < REQUESTS; i++)
            if (runs[h].addrs[i][0])
                memcpy(all[n++], runs[h].addrs[i], ADDR_STR_MAX);
    }
    qsort(all, (size_t)n, ADDR_STR_MAX, compare_text);
    for (int i = 1; i < n; i++)
        if (strcmp(all[i], all[i - 1]) == 0)
            fail_msg("address %s handed out twice", all[i]);
    int count;
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, n);
    *allocated = n;
    return full;
}

static void concurrent_hosts_in_a_slash64(void **state)
{
    (void)state;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int allocated;
    assert_int_equal(allocate_concurrently("fd81:64::/64", &allocated), 0);
    assert_int_equal(allocated, HOSTS * REQUESTS);
    print_message("800 concurrent requests in a /64: %.2f s\n", seconds_since(&start));
}

/* 800 requests for the 254 endpoint addresses of a /120 (its gateway reserved
 * first, as Docker does): exactly 254 distinct answers, every other one "full". */
static void concurrent_hosts_in_a_slash120(void **state)
{
    (void)state;
    const char *pool = "fd81:120::/120";
    char gw[ADDR_STR_MAX];
    struct weft_err err = {0};
    assert_int_equal(ipam_request_address(host_a, pool, "192.168.1.1", NULL, true, gw, &err), 0);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int allocated;
    int full = allocate_concurrently(pool, &allocated);
    print_message("800 concurrent requests in a /120: %d allocated, %d full, %.2f s\n", allocated,
                  full, seconds_since(&start));
    assert_int_equal(allocated, 254);
    assert_int_equal(full, HOSTS * REQUESTS - 254);
}

/* 800 requests at once in a ranged pool (a /112 of a /64): all answered, distinct,
 * and every allocation of the subnet inside the range. */
static void concurrent_hosts_in_a_range(void **state)
{
    (void)state;
    char id[IPAM_POOL_ID_MAX], prefix[WEFT_KEY_MAX];
    struct weft_err err = {0};
    assert_int_equal(ipam_request_pool("fd75::/64", "fd75::7:0/112", id, &err), 0);
    int allocated;
    assert_int_equal(allocate_concurrently(id, &allocated), 0);
    assert_int_equal(allocated, HOSTS * REQUESTS);
    key_addr_prefix(prefix, "fd75::/64");
    struct etcd_kvs kvs;
    assert_int_equal(etcd_get_prefix(host_a, prefix, &kvs, &err), 0);
    assert_int_equal(kvs.count, HOSTS * REQUESTS);
    for (size_t i = 0; i < kvs.count; i++) {
        char ip[WEFT_KEY_PART_MAX], answer[ADDR_STR_MAX];
        assert_int_equal(key_parse_addr(kvs.items[i].key, "fd75::/64", ip), 0);
        snprintf(answer, sizeof(answer), "%.39s/64", ip);
        if (!answer_within(answer, "fd75::/64", 0x70000, 0x7ffff))
            fail_msg("%s is outside --ip-range fd75::7:0/112", ip);
    }
    etcd_kvs_free(&kvs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pools_are_canonical),
        /* first: every host of the later tests has no alive key, so it would reap them all */
        cmocka_unit_test(reaper_frees_a_dead_hosts_ipv6_addresses),
        cmocka_unit_test(slash64_gateway_exact_and_release),
        cmocka_unit_test(slash120_fills_and_says_full_quickly),
        cmocka_unit_test(concurrent_hosts_in_a_slash64),
        cmocka_unit_test(concurrent_hosts_in_a_slash120),
        cmocka_unit_test(ranged_pool_allocates_inside_the_range),
        cmocka_unit_test(large_range_is_probed_inside),
        cmocka_unit_test(full_range_is_refused_quickly),
        cmocka_unit_test(concurrent_hosts_in_a_range),
    };
    return etcd_fixture_run_group(tests, setup, teardown);
}
