/*
 * test_ipam_live.c: cluster-wide allocation against a real (loopback) etcd.
 * Each "host" has its own store client, as separate daemons would.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "etcd_fixture.h"
#include "driver/api.h"
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

static void pool_requests(void **state)
{
    (void)state;
    char id[IPAM_POOL_ID_MAX];
    struct weft_err err = {0};
    assert_int_equal(ipam_request_pool("10.77.0.0/24", NULL, id, &err), 0);
    assert_string_equal(id, "10.77.0.0/24");
    assert_int_equal(ipam_request_pool("", "", id, &err), -1);
    assert_non_null(strstr(err.msg, "--subnet"));
    assert_int_equal(err.code, -EINVAL);
    assert_int_equal(ipam_request_pool("10.77.0.9/24", "", id, &err), -1);
    assert_non_null(strstr(err.msg, "did you mean 10.77.0.0/24"));
    assert_int_equal(err.code, -EINVAL);
}

static void gateway_is_shared_and_never_an_endpoint(void **state)
{
    (void)state;
    char gw_a[ADDR_STR_MAX], gw_b[ADDR_STR_MAX], addr[ADDR_STR_MAX];
    struct weft_err err = {0};
    assert_int_equal(
        ipam_request_address(host_a, "10.1.0.0/29", "192.168.0.1", NULL, true, gw_a, &err), 0);
    assert_int_equal(
        ipam_request_address(host_b, "10.1.0.0/29", "192.168.0.2", NULL, true, gw_b, &err), 0);
    assert_string_equal(gw_a, "10.1.0.1/29");
    assert_string_equal(gw_b, gw_a);
    /* A /29 has 6 host addresses: the gateway and 5 endpoints. */
    char seen[5][ADDR_STR_MAX];
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ipam_request_address(i % 2 ? host_a : host_b, "10.1.0.0/29",
                                              i % 2 ? "192.168.0.1" : "192.168.0.2", NULL, false,
                                              seen[i], &err),
                         0);
        assert_string_not_equal(seen[i], gw_a);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(seen[i], seen[j]);
    }
    assert_int_equal(
        ipam_request_address(host_a, "10.1.0.0/29", "192.168.0.1", NULL, false, addr, &err), -1);
    assert_non_null(strstr(err.msg, "no free address"));
    assert_int_equal(err.code, -ENOSPC);
    int count;
    assert_int_equal(ipam_count_addresses(host_a, "10.1.0.0/29", &count, &err), 0);
    assert_int_equal(count, 5);
    /* Releasing frees one address, which is then handed out again. */
    char plain[ADDR_STR_MAX];
    snprintf(plain, sizeof(plain), "%s", seen[2]);
    *strchr(plain, '/') = '\0';
    assert_int_equal(ipam_release_address(host_b, "10.1.0.0/29", "192.168.0.2", plain, &err), 0);
    assert_int_equal(
        ipam_request_address(host_a, "10.1.0.0/29", "192.168.0.1", NULL, false, addr, &err), 0);
    assert_string_equal(addr, seen[2]);
    /* Releasing the gateway keeps it (other hosts still use it); releasing twice is fine. */
    assert_int_equal(ipam_release_address(host_a, "10.1.0.0/29", "192.168.0.1", "10.1.0.1", &err),
                     0);
    assert_int_equal(ipam_count_addresses(host_a, "10.1.0.0/29", &count, &err), 0);
    assert_int_equal(count, 5);
    assert_int_equal(
        ipam_request_address(host_b, "10.1.0.0/29", "192.168.0.2", NULL, true, gw_b, &err), 0);
    assert_string_equal(gw_b, "10.1.0.1/29");
    /* Another host's release keeps it (Docker, after a power cycle, releasing an address
     * its host had given up and another host took since); its holder's frees it, and
     * releasing twice is fine. */
    assert_int_equal(ipam_release_address(host_b, "10.1.0.0/29", "192.168.0.2", plain, &err), 0);
    assert_int_equal(ipam_count_addresses(host_a, "10.1.0.0/29", &count, &err), 0);
    assert_int_equal(count, 5);
    assert_int_equal(ipam_release_address(host_a, "10.1.0.0/29", "192.168.0.1", plain, &err), 0);
    assert_int_equal(ipam_count_addresses(host_a, "10.1.0.0/29", &count, &err), 0);
    assert_int_equal(count, 4);
    assert_int_equal(ipam_release_address(host_a, "10.1.0.0/29", "192.168.0.1", plain, &err), 0);
    assert_int_equal(ipam_release_address(host_b, "10.1.0.0/29", "192.168.0.2", "10.2.0.1", &err),
                     -1);
    assert_non_null(strstr(err.msg, "not in pool"));
    assert_int_equal(err.code, -ERANGE);
}

static void wanted_addresses(void **state)
{
    (void)state;
    char addr[ADDR_STR_MAX];
    struct weft_err err = {0};
    assert_int_equal(
        ipam_request_address(host_a, "10.3.0.0/24", "192.168.0.1", "10.3.0.50", false, addr, &err),
        0);
    assert_string_equal(addr, "10.3.0.50/24");
    assert_int_equal(
        ipam_request_address(host_b, "10.3.0.0/24", "192.168.0.2", "10.3.0.50", false, addr, &err),
        -1);
    assert_non_null(strstr(err.msg, "on host 192.168.0.1"));
    assert_int_equal(err.code, -EEXIST); /* address in use: a conflict */
    assert_int_equal(
        ipam_request_address(host_b, "10.3.0.0/24", "192.168.0.2", "10.4.0.50", false, addr, &err),
        -1);
    assert_non_null(strstr(err.msg, "not a host address of 10.3.0.0/24"));
    assert_int_equal(err.code, -ERANGE);
    assert_int_equal(
        ipam_request_address(host_b, "10.3.0.0/24", "192.168.0.2", "10.3.0.255", false, addr, &err),
        -1);
    /* A --gateway the user chose, then an endpoint asking for it. */
    assert_int_equal(
        ipam_request_address(host_a, "10.3.0.0/24", "192.168.0.1", "10.3.0.254", true, addr, &err),
        0);
    assert_string_equal(addr, "10.3.0.254/24");
    assert_int_equal(
        ipam_request_address(host_b, "10.3.0.0/24", "192.168.0.2", "10.3.0.254", false, addr, &err),
        -1);
    assert_non_null(strstr(err.msg, "gateway"));
    assert_int_equal(err.code, -EEXIST);
    /* The gateway cannot be an address an endpoint already holds. */
    assert_int_equal(
        ipam_request_address(host_b, "10.3.0.0/24", "192.168.0.2", "10.3.0.50", true, addr, &err),
        -1);
    assert_non_null(strstr(err.msg, "already used by an endpoint"));
    assert_int_equal(err.code, -EEXIST);
    assert_int_equal(
        ipam_request_address(host_b, "nonsense", "192.168.0.2", NULL, false, addr, &err), -1);
    assert_non_null(strstr(err.msg, "unknown pool"));
    assert_int_equal(err.code, -ENOENT);
}

static void full_pool_and_release_edges(void **state)
{
    (void)state;
    char addr[ADDR_STR_MAX], first[ADDR_STR_MAX], second[ADDR_STR_MAX];
    struct weft_err err = {0};
    /* A /30 without a gateway: two endpoints, then the exact "full" message. */
    assert_int_equal(
        ipam_request_address(host_a, "10.6.0.0/30", "192.168.0.1", NULL, false, first, &err), 0);
    assert_int_equal(
        ipam_request_address(host_b, "10.6.0.0/30", "192.168.0.2", NULL, false, second, &err), 0);
    assert_string_not_equal(first, second);
    assert_int_equal(
        ipam_request_address(host_a, "10.6.0.0/30", "192.168.0.1", NULL, false, addr, &err), -1);
    assert_string_equal(err.msg, "pool 10.6.0.0/30 has no free address (2 in use)");
    /* Unparsable or out-of-pool releases are refused; the pool is unchanged. */
    const char *bad[] = {"10.6.0.x", "", "10.6.0.1/30", "10.6.1.1", "fe80::1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(ipam_release_address(host_a, "10.6.0.0/30", "192.168.0.1", bad[i], &err),
                         -1);
    assert_int_equal(ipam_release_address(host_a, "10.6.0.0/31", "192.168.0.1", "10.6.0.1", &err),
                     -1);
    assert_non_null(strstr(err.msg, "unknown pool"));
    assert_int_equal(err.code, -ENOENT);
    int count;
    assert_int_equal(ipam_count_addresses(host_a, "10.6.0.0/30", &count, &err), 0);
    assert_int_equal(count, 2);
    /* The network and broadcast addresses are never handed out, even on request. */
    assert_int_equal(
        ipam_request_address(host_a, "10.6.0.0/30", "192.168.0.1", "10.6.0.0", false, addr, &err),
        -1);
    assert_non_null(strstr(err.msg, "not a host address"));
    assert_int_equal(
        ipam_request_address(host_a, "10.6.0.0/30", "192.168.0.1", "10.6.0.3", true, addr, &err),
        -1);
    /* Releasing one frees exactly that one, which is then handed out again. */
    *strchr(first, '/') = '\0';
    assert_int_equal(ipam_release_address(host_b, "10.6.0.0/30", "192.168.0.1", first, &err), 0);
    assert_int_equal(ipam_count_addresses(host_a, "10.6.0.0/30", &count, &err), 0);
    assert_int_equal(count, 1);
    assert_int_equal(
        ipam_request_address(host_b, "10.6.0.0/30", "192.168.0.2", NULL, false, addr, &err), 0);
    *strchr(addr, '/') = '\0';
    assert_string_equal(addr, first);
    /* A /30 with its default gateway: one endpoint fills it, and that is counted as 2 in use. */
    assert_int_equal(
        ipam_request_address(host_a, "10.7.0.0/30", "192.168.0.1", NULL, true, addr, &err), 0);
    assert_string_equal(addr, "10.7.0.1/30");
    assert_int_equal(
        ipam_request_address(host_b, "10.7.0.0/30", "192.168.0.2", "10.7.0.1", false, addr, &err),
        -1);
    assert_non_null(strstr(err.msg, "gateway"));
    assert_int_equal(
        ipam_request_address(host_b, "10.7.0.0/30", "192.168.0.2", NULL, false, addr, &err), 0);
    assert_string_equal(addr, "10.7.0.2/30");
    assert_int_equal(
        ipam_request_address(host_a, "10.7.0.0/30", "192.168.0.1", NULL, false, addr, &err), -1);
    assert_string_equal(err.msg, "pool 10.7.0.0/30 has no free address (2 in use)");
    assert_int_equal(ipam_count_addresses(host_a, "10.7.0.0/30", &count, &err), 0);
    assert_int_equal(count, 1);
}

/* A stand-in for the fabric (ipam.h: struct ipam_claims): "refused" is claimed
 * by another host (found only at claim time), "foreign" is known to be claimed
 * beforehand, "broken" fails to claim. */
struct stub_fabric {
    const char *refused, *foreign, *broken;
    int claims;
};

static bool stub_claimed_elsewhere(void *ctx, const char *pool_id, uint32_t ip)
{
    (void)pool_id;
    struct stub_fabric *f = ctx;
    char text[ADDR_STR_MAX];
    ipv4_format(ip, text);
    return f->foreign && strcmp(text, f->foreign) == 0;
}

static int stub_claim(void *ctx, const char *pool_id, const char *ip, struct weft_err *err)
{
    struct stub_fabric *f = ctx;
    f->claims++;
    if (f->refused && strcmp(ip, f->refused) == 0)
        return weft_err_set(err, -EADDRINUSE, "address %s of %s is claimed by host 192.168.0.9", ip,
                            pool_id);
    if (f->broken && strcmp(ip, f->broken) == 0)
        return weft_err_set(err, -ETIMEDOUT, "the store's watch did not read back the claim");
    return 0;
}

/* IPAM never hands out an address the fabric says another host claimed first: an
 * automatic request skips it (freeing the allocation it made), an exact request is
 * refused with the fabric's reason, a failed claim fails the request, and none of
 * them leaves an allocation behind. A /29 has six host addresses. */
static void fabric_claims_are_respected(void **state)
{
    (void)state;
    const char *pool = "10.10.0.0/29";
    struct stub_fabric fabric = {.refused = "10.10.0.3", .foreign = "10.10.0.5"};
    struct ipam_claims claims = {stub_claimed_elsewhere, stub_claim, &fabric};
    char addr[ADDR_STR_MAX];
    struct weft_err err = {0};
    int count;
    assert_int_equal(ipam_request_address_claimed(host_a, pool, "192.168.0.1", "10.10.0.3", false,
                                                  &claims, addr, &err),
                     -1);
    assert_int_equal(err.code, -EEXIST);
    assert_non_null(strstr(err.msg, "claimed by host 192.168.0.9"));
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, 0);
    /* Four addresses are neither refused nor foreign: four requests get them. */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ipam_request_address_claimed(host_a, pool, "192.168.0.1", NULL, false,
                                                      &claims, addr, &err),
                         0);
        *strchr(addr, '/') = '\0';
        assert_string_not_equal(addr, fabric.refused);
        assert_string_not_equal(addr, fabric.foreign);
    }
    assert_int_equal(
        ipam_request_address_claimed(host_a, pool, "192.168.0.1", NULL, false, &claims, addr, &err),
        -1);
    assert_int_equal(err.code, -ENOSPC);
    assert_non_null(strstr(err.msg, "claimed in the fabric"));
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, 4);
    /* A claim that fails for another reason fails the request and frees the address. */
    fabric.refused = NULL;
    fabric.broken = "10.10.0.3";
    assert_int_equal(ipam_request_address_claimed(host_a, pool, "192.168.0.1", "10.10.0.3", false,
                                                  &claims, addr, &err),
                     -1);
    assert_int_equal(err.code, -ETIMEDOUT);
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, 4);
    /* The gateway is no endpoint's: never claimed. */
    int before = fabric.claims;
    assert_int_equal(ipam_request_address_claimed(host_a, "10.11.0.0/29", "192.168.0.1", NULL, true,
                                                  &claims, addr, &err),
                     0);
    assert_int_equal(fabric.claims, before);
}

#define HOSTS 8
#define REQUESTS 100

struct host_run {
    char host[32];
    char addrs[REQUESTS][ADDR_STR_MAX];
    int failures;
    char last_error[WEFT_ERR_MAX];
};

static void *allocate_many(void *arg)
{
    struct host_run *run = arg;
    struct etcd *etcd;
    struct weft_err err;
    if (etcd_open(&etcd, fixture.endpoint, &err) < 0) {
        run->failures = REQUESTS;
        return NULL;
    }
    for (int i = 0; i < REQUESTS; i++) {
        if (ipam_request_address(etcd, "10.8.0.0/22", run->host, NULL, false, run->addrs[i], &err) <
            0) {
            run->failures++;
            memcpy(run->last_error, err.msg, sizeof(err.msg));
            run->addrs[i][0] = '\0';
        }
    }
    etcd_close(etcd);
    return NULL;
}

static int compare_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void concurrent_hosts_never_share_an_address(void **state)
{
    (void)state;
    static struct host_run runs[HOSTS];
    pthread_t threads[HOSTS];
    for (int h = 0; h < HOSTS; h++) {
        memset(&runs[h], 0, sizeof(runs[h]));
        snprintf(runs[h].host, sizeof(runs[h].host), "192.168.1.%d", h + 1);
        pthread_create(&threads[h], NULL, allocate_many, &runs[h]);
    }
    for (int h = 0; h < HOSTS; h++)
        pthread_join(threads[h], NULL);
    static char all[HOSTS * REQUESTS][ADDR_STR_MAX];
    int n = 0;
    for (int h = 0; h < HOSTS; h++) {
        if (runs[h].failures)
            fail_msg("host %d: %d failures, last: %s", h, runs[h].failures, runs[h].last_error);
        for (int i = 0; i < REQUESTS; i++)
            memcpy(all[n++], runs[h].addrs[i], ADDR_STR_MAX);
    }
    qsort(all, (size_t)n, ADDR_STR_MAX, compare_text);
    for (int i = 1; i < n; i++)
        if (strcmp(all[i], all[i - 1]) == 0)
            fail_msg("address %s handed out twice", all[i]);
    assert_int_equal(n, HOSTS * REQUESTS);
    int count;
    struct weft_err err;
    assert_int_equal(ipam_count_addresses(host_a, "10.8.0.0/22", &count, &err), 0);
    assert_int_equal(count, HOSTS * REQUESTS);
    for (int h = 0; h < HOSTS; h++)
        for (int i = 0; i < REQUESTS; i++) {
            *strchr(runs[h].addrs[i], '/') = '\0';
            assert_int_equal(
                ipam_release_address(host_b, "10.8.0.0/22", runs[h].host, runs[h].addrs[i], &err),
                0);
        }
    assert_int_equal(ipam_count_addresses(host_a, "10.8.0.0/22", &count, &err), 0);
    assert_int_equal(count, 0);
}

/* 40 hosts, each with an alive key and other records around it (the reaper finds
 * alive keys in a sorted listing by binary search), and one address each; hosts
 * whose alive key is missing lose their addresses, the others keep theirs. */
static void reaper_frees_only_the_dead_among_many(void **state)
{
    (void)state;
    struct weft_err err = {0};
    const char *pool = "10.12.0.0/16";
    char addrs[40][ADDR_STR_MAX], host[32], key[WEFT_KEY_MAX];
    for (int i = 0; i < 40; i++) {
        snprintf(host, sizeof(host), "192.168.9.%d", 10 + i);
        assert_int_equal(ipam_request_address(host_a, pool, host, NULL, false, addrs[i], &err), 0);
        key_host_endpoint(key, host, "e");
        assert_int_equal(etcd_put(host_a, key, "{}", 0, &err), 0);
        if (i % 3 == 0)
            continue; /* dead: no alive key */
        key_host_alive(key, host);
        assert_int_equal(etcd_put(host_a, key, "{}", 0, &err), 0);
    }
    struct ipam_reaper *reaper = ipam_reaper_new(0);
    assert_non_null(reaper);
    int reclaimed = -1;
    assert_int_equal(ipam_reap(host_b, reaper, &reclaimed, &err), 0);
    /* i = 0, 3, ..., 39; earlier tests' hosts have no alive key either. */
    assert_true(reclaimed >= 14);
    for (int i = 0; i < 40; i++) {
        char ip[ADDR_STR_MAX];
        snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(addrs[i], "/"), addrs[i]);
        struct etcd_kv kv;
        bool found = false;
        key_addr(key, pool, ip);
        assert_int_equal(etcd_get(host_a, key, &kv, &found, &err), 0);
        if (found)
            etcd_kv_clear(&kv);
        assert_int_equal(found, i % 3 != 0);
    }
    ipam_reaper_free(reaper);
}

static void store_down_is_a_clear_error(void **state)
{
    (void)state;
    struct etcd *dead;
    struct weft_err err = {0};
    char addr[ADDR_STR_MAX];
    assert_int_equal(etcd_open(&dead, "127.0.0.1:1", &err), 0);
    assert_int_equal(
        ipam_request_address(dead, "10.9.0.0/24", "192.168.0.1", NULL, false, addr, &err), -1);
    assert_non_null(strstr(err.msg, "unreachable"));
    /* The store's kind travels up through ipam unchanged. */
    assert_true(etcd_err_unreachable(&err));
    etcd_close(dead);
}

/* Strips "/len" from an answer, in place. */
static char *plain_ip(char *answer)
{
    char *slash = strchr(answer, '/');
    if (slash)
        *slash = '\0';
    return answer;
}

#define RANGED "10.76.0.0/24@10.76.0.128/25"

/* --ip-range: the first host fixes it; dynamic addresses come from it only, on
 * every host; --ip may take any host address of the subnet; a second host with
 * another range, or none, is refused naming the range in use. */
static void ip_range_is_cluster_wide(void **state)
{
    (void)state;
    struct weft_err err = {0};
    char addr[ADDR_STR_MAX];
    assert_int_equal(ipam_fix_pool(host_a, RANGED, &err), 0);
    assert_int_equal(ipam_fix_pool(host_b, RANGED, &err), 0); /* the same range: fine */
    assert_int_equal(ipam_fix_pool(host_b, "10.76.0.0/24@10.76.0.0/25", &err), -1);
    assert_int_equal(err.code, -EEXIST);
    assert_non_null(strstr(err.msg, "subnet 10.76.0.0/24 is in use with --ip-range 10.76.0.128/25"));
    assert_non_null(strstr(err.msg, "this host asked for 10.76.0.0/25"));
    assert_int_equal(ipam_fix_pool(host_b, "10.76.0.0/24", &err), -1);
    assert_non_null(strstr(err.msg, "--ip-range 10.76.0.128/25; this host asked for none"));
    /* and the other way round: none fixed, a range asked */
    assert_int_equal(ipam_fix_pool(host_a, "10.75.0.0/24", &err), 0);
    assert_int_equal(ipam_fix_pool(host_b, "10.75.0.0/24@10.75.0.64/26", &err), -1);
    assert_non_null(strstr(err.msg, "--ip-range none (the whole subnet)"));

    /* The gateway defaults to the range's first address, as Docker's own IPAM does. */
    assert_int_equal(ipam_request_address(host_a, RANGED, "192.168.0.1", NULL, true, addr, &err), 0);
    assert_string_equal(addr, "10.76.0.128/24");
    for (int i = 0; i < 60; i++) {
        assert_int_equal(ipam_request_address(i % 2 ? host_a : host_b, RANGED,
                                              i % 2 ? "192.168.0.1" : "192.168.0.2", NULL, false,
                                              addr, &err),
                         0);
        uint32_t ip;
        assert_int_equal(ipv4_parse(plain_ip(addr), &ip, &err), 0);
        if (ip < 0x0a4c0081 || ip > 0x0a4c00fe)
            fail_msg("dynamic address %s is outside --ip-range 10.76.0.128/25", addr);
    }
    /* --ip outside the range but inside the subnet */
    assert_int_equal(
        ipam_request_address(host_b, RANGED, "192.168.0.2", "10.76.0.20", false, addr, &err), 0);
    assert_string_equal(addr, "10.76.0.20/24");
    int count;
    assert_int_equal(ipam_count_addresses(host_a, RANGED, &count, &err), 0);
    assert_int_equal(count, 61); /* not the gateway, not the pool record */

    /* A range fills up although its subnet has room. */
    const char *small = "10.74.0.0/24@10.74.0.4/30";
    assert_int_equal(ipam_fix_pool(host_a, small, &err), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(
            ipam_request_address(host_a, small, "192.168.0.1", NULL, false, addr, &err), 0);
    assert_int_equal(ipam_request_address(host_b, small, "192.168.0.2", NULL, false, addr, &err),
                     -1);
    assert_int_equal(err.code, -ENOSPC);
}

/* --aux-address: reserved by the first host, answered to the second, never handed
 * out, refused to --ip, kept on release, not counted as an endpoint. */
static void aux_addresses_are_shared_and_never_handed_out(void **state)
{
    (void)state;
    struct weft_err err = {0};
    char addr[ADDR_STR_MAX], aux_a[ADDR_STR_MAX], aux_b[ADDR_STR_MAX];
    const char *pool = "10.73.0.0/28"; /* 14 hosts: gateway .1, aux .5, 12 endpoints */
    assert_int_equal(ipam_request_address(host_a, pool, "192.168.0.1", NULL, true, addr, &err), 0);
    assert_int_equal(ipam_reserve_aux(host_a, pool, "192.168.0.1", "10.73.0.5", aux_a, &err), 0);
    assert_int_equal(ipam_reserve_aux(host_b, pool, "192.168.0.2", "10.73.0.5", aux_b, &err), 0);
    assert_string_equal(aux_a, "10.73.0.5/28");
    assert_string_equal(aux_b, aux_a);
    for (int i = 0; i < 12; i++) {
        assert_int_equal(ipam_request_address(i % 2 ? host_a : host_b, pool,
                                              i % 2 ? "192.168.0.1" : "192.168.0.2", NULL, false,
                                              addr, &err),
                         0);
        assert_string_not_equal(addr, "10.73.0.5/28");
    }
    assert_int_equal(ipam_request_address(host_a, pool, "192.168.0.1", NULL, false, addr, &err),
                     -1);
    assert_int_equal(err.code, -ENOSPC);
    /* a container's --ip on it, or a gateway, or an aux on the gateway: refused */
    assert_int_equal(ipam_release_address(host_b, pool, "192.168.0.2", "10.73.0.5", &err),
                     0); /* kept */
    assert_int_equal(
        ipam_request_address(host_b, pool, "192.168.0.2", "10.73.0.5", false, addr, &err), -1);
    assert_non_null(strstr(err.msg, "reserved by --aux-address"));
    assert_int_equal(ipam_reserve_aux(host_b, pool, "192.168.0.2", "10.73.0.1", addr, &err), -1);
    assert_non_null(strstr(err.msg, "--aux-address 10.73.0.1 is the gateway of 10.73.0.0/28"));
    assert_int_equal(ipam_reserve_aux(host_b, pool, "192.168.0.2", "10.73.0.15", addr, &err), -1);
    assert_non_null(strstr(err.msg, "not a host address"));
    int count;
    assert_int_equal(ipam_count_addresses(host_a, pool, &count, &err), 0);
    assert_int_equal(count, 12);
}

/* Through the handlers: an exact RequestAddress between RequestPool and
 * CreateNetwork is an aux address (driver/creating_pools.h); after ReleasePool
 * (or CreateNetwork) the same request is a container's --ip and is refused. */
static void aux_requests_are_told_from_ip_by_the_moment(void **state)
{
    (void)state;
    struct driver_ctx ctx = {.fabric = NULL, .etcd = host_a, .host = "192.168.0.1"};
    struct driver_ctx ctx_b = {.fabric = NULL, .etcd = host_b, .host = "192.168.0.2"};
    const char *pool = "{\"Pool\":\"10.72.0.0/24\",\"SubPool\":\"10.72.0.128/25\"}";
    const char *aux = "{\"PoolID\":\"10.72.0.0/24@10.72.0.128/25\",\"Address\":\"10.72.0.130\","
                      "\"Options\":null}";
    const char *release = "{\"PoolID\":\"10.72.0.0/24@10.72.0.128/25\"}";
    struct driver_response resp;
    struct driver_ctx *hosts[2] = {&ctx, &ctx_b};
    for (int i = 0; i < 2; i++) {
        driver_handle(hosts[i], "/IpamDriver.RequestPool", pool, strlen(pool), &resp);
        assert_int_equal(resp.status, 200);
        assert_non_null(strstr(resp.body, "\"PoolID\":\"10.72.0.0/24@10.72.0.128/25\""));
        free(resp.body);
        driver_handle(hosts[i], "/IpamDriver.RequestAddress", aux, strlen(aux), &resp);
        if (resp.status != 200)
            fail_msg("host %d: aux request answered %s", i, resp.body);
        assert_non_null(strstr(resp.body, "10.72.0.130/24"));
        free(resp.body);
        driver_handle(hosts[i], "/IpamDriver.ReleasePool", release, strlen(release), &resp);
        free(resp.body);
    }
    driver_handle(&ctx_b, "/IpamDriver.RequestAddress", aux, strlen(aux), &resp);
    assert_int_equal(resp.status, 500);
    assert_non_null(strstr(resp.body, "reserved by --aux-address"));
    free(resp.body);
    /* another range on the same subnet, through the handler: refused, naming it */
    const char *other = "{\"Pool\":\"10.72.0.0/24\",\"SubPool\":\"10.72.0.0/25\"}";
    driver_handle(&ctx_b, "/IpamDriver.RequestPool", other, strlen(other), &resp);
    assert_int_equal(resp.status, 500);
    assert_non_null(strstr(resp.body, "in use with --ip-range 10.72.0.128/25"));
    free(resp.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pool_requests),
        cmocka_unit_test(gateway_is_shared_and_never_an_endpoint),
        cmocka_unit_test(wanted_addresses),
        cmocka_unit_test(ip_range_is_cluster_wide),
        cmocka_unit_test(aux_addresses_are_shared_and_never_handed_out),
        cmocka_unit_test(aux_requests_are_told_from_ip_by_the_moment),
        cmocka_unit_test(full_pool_and_release_edges),
        cmocka_unit_test(fabric_claims_are_respected),
        cmocka_unit_test(concurrent_hosts_never_share_an_address),
        cmocka_unit_test(reaper_frees_only_the_dead_among_many),
        cmocka_unit_test(store_down_is_a_clear_error),
    };
    return etcd_fixture_run_group(tests, setup, teardown);
}
