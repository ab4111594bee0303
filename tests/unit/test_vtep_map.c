/* test_vtep_map.c: an overlay's VTEP map sends a known unicast MAC to its
 * peer's host and group or unknown MACs to every member, follows moves and
 * deletions, truncates at the caller's max, and lets readers on several threads
 * look up while a writer changes everything under them (ASan sees any read of
 * a freed copy). The map's logic runs again with IPv6 VTEPs (an IPv6 underlay),
 * where two VTEPs that differ only in their first bytes are two hosts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>

#include "datapath/vtep_map.h"

/* VTEP number n: the IPv4 address n, or fd00:77::/96 with n as its last 32 bits. */
static bool ipv6_run;
static struct ip_addr vtep_of(uint32_t n)
{
    if (!ipv6_run)
        return ip_addr_from_ipv4(htonl(n));
    uint8_t bytes[16] = {0xfd, 0x00, 0x00, 0x77};
    uint32_t net = htonl(n);
    memcpy(bytes + 12, &net, 4);
    return ip_addr_from_ipv6(bytes);
}
static uint32_t number_of(const struct ip_addr *vtep)
{
    assert_int_equal(vtep->family, ipv6_run ? AF_INET6 : AF_INET);
    return ntohl(ip_addr_last32(vtep));
}
#define VTEP(n) ((const struct ip_addr[]){vtep_of(n)})
#define N1 0x0a000001u
#define N3 0x0a000003u
#define V1 VTEP(N1)
#define V2 VTEP(0x0a000002u)
#define V3 VTEP(N3)

static const uint8_t mac_a[6] = {0x02, 0x42, 0x0a, 0x00, 0x00, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0x42, 0x0a, 0x00, 0x00, 0x0b};
static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t multicast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};

static struct vtep_map *new_map(void)
{
    struct vtep_map *map = NULL;
    struct weft_err err = {0};
    assert_int_equal(vtep_map_new(&map, &err), 0);
    assert_non_null(map);
    return map;
}

static void add_members(struct vtep_map *map, const struct ip_addr *vteps, size_t n)
{
    struct weft_err err = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vtep_map_add_member(map, &vteps[i], &err), 0);
}

/* The lookup's answer, as a sorted-insensitive bit set of V1..V3 (bit v). */
static unsigned lookup_set(struct vtep_map *map, const uint8_t mac[6], size_t *n_out)
{
    struct ip_addr vteps[8];
    size_t n = vtep_map_lookup(map, mac, vteps, 8);
    unsigned set = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t v = number_of(&vteps[i]);
        assert_true(v >= N1 && v <= N3);
        set |= 1u << (v - N1);
    }
    if (n_out)
        *n_out = n;
    return set;
}

static void empty_map_sends_nowhere(void **state)
{
    (void)state;
    struct vtep_map *map = new_map();
    struct ip_addr vteps[4];
    assert_int_equal(vtep_map_lookup(map, mac_a, vteps, 4), 0);
    assert_int_equal(vtep_map_lookup(map, broadcast, vteps, 4), 0);
    vtep_map_del_peer(map, mac_a); /* unknown: fine */
    vtep_map_del_member(map, V1);
    vtep_map_free(map);
    vtep_map_free(NULL);
}

static void unicast_known_goes_to_its_peer_unknown_floods(void **state)
{
    (void)state;
    struct vtep_map *map = new_map();
    struct weft_err err = {0};
    const struct ip_addr members[] = {*V1, *V2, *V3};
    add_members(map, members, 3);
    assert_int_equal(vtep_map_set_peer(map, mac_a, V2, &err), 0);
    size_t n;
    assert_int_equal(lookup_set(map, mac_a, &n), 1u << 1);
    assert_int_equal(n, 1);
    assert_int_equal(lookup_set(map, mac_b, &n), 7); /* unknown unicast: every member */
    assert_int_equal(n, 3);
    vtep_map_free(map);
}

static void broadcast_and_multicast_go_to_every_member(void **state)
{
    (void)state;
    struct vtep_map *map = new_map();
    struct weft_err err = {0};
    const struct ip_addr members[] = {*V1, *V3};
    add_members(map, members, 2);
    add_members(map, members, 1); /* V1 again: a no-op */
    /* A peer entry for a group address never turns it into unicast. */
    assert_int_equal(vtep_map_set_peer(map, broadcast, V2, &err), 0);
    size_t n;
    assert_int_equal(lookup_set(map, broadcast, &n), 5);
    assert_int_equal(n, 2);
    assert_int_equal(lookup_set(map, multicast, &n), 5);
    assert_int_equal(n, 2);
    vtep_map_free(map);
}

static void a_peer_moves_and_is_deleted(void **state)
{
    (void)state;
    struct vtep_map *map = new_map();
    struct weft_err err = {0};
    const struct ip_addr members[] = {*V1, *V2, *V3};
    add_members(map, members, 3);
    assert_int_equal(vtep_map_set_peer(map, mac_a, V1, &err), 0);
    assert_int_equal(vtep_map_set_peer(map, mac_b, V3, &err), 0);
    assert_int_equal(lookup_set(map, mac_a, NULL), 1u << 0);
    assert_int_equal(vtep_map_set_peer(map, mac_a, V2, &err), 0); /* moved */
    assert_int_equal(vtep_map_set_peer(map, mac_a, V2, &err), 0); /* again: same */
    assert_int_equal(lookup_set(map, mac_a, NULL), 1u << 1);
    assert_int_equal(lookup_set(map, mac_b, NULL), 1u << 2);
    vtep_map_del_peer(map, mac_a);
    assert_int_equal(lookup_set(map, mac_a, NULL), 7); /* unknown again: flooded */
    assert_int_equal(lookup_set(map, mac_b, NULL), 1u << 2);
    vtep_map_del_member(map, V2);
    vtep_map_del_member(map, V2); /* gone: fine */
    assert_int_equal(lookup_set(map, mac_a, NULL), 5);
    vtep_map_del_peer(map, mac_b);
    vtep_map_del_member(map, V1);
    vtep_map_del_member(map, V3);
    struct ip_addr vteps[4];
    assert_int_equal(vtep_map_lookup(map, mac_b, vteps, 4), 0);
    vtep_map_free(map);
}

static void max_truncates_the_answer(void **state)
{
    (void)state;
    struct vtep_map *map = new_map();
    struct weft_err err = {0};
    struct ip_addr members[40], vteps[41];
    for (uint32_t i = 0; i < 40; i++)
        members[i] = vtep_of(0x0b000000u + i);
    add_members(map, members, 40);
    assert_int_equal(vtep_map_set_peer(map, mac_a, V1, &err), 0);
    memset(vteps, 0xee, sizeof(vteps));
    assert_int_equal(vtep_map_lookup(map, broadcast, vteps, 3), 3);
    assert_memory_equal(vteps, members, 3 * sizeof(vteps[0]));
    assert_int_equal(vteps[3].family, 0xeeee); /* nothing past max */
    assert_int_equal(vtep_map_lookup(map, broadcast, vteps, 41), 40);
    assert_memory_equal(vteps, members, sizeof(members));
    assert_int_equal(vtep_map_lookup(map, broadcast, vteps, 0), 0);
    assert_int_equal(vtep_map_lookup(map, mac_a, vteps, 0), 0);
    vtep_map_free(map);
}

/* Thousands of peers: the table grows and every MAC still finds its own host. */
static void many_peers_are_all_found(void **state)
{
    (void)state;
    struct vtep_map *map = new_map();
    struct weft_err err = {0};
    uint8_t mac[6] = {0x02, 0x42, 0, 0, 0, 0};
    for (unsigned i = 0; i < 3000; i++) {
        mac[4] = (uint8_t)(i >> 8), mac[5] = (uint8_t)i;
        assert_int_equal(vtep_map_set_peer(map, mac, VTEP(0x0c000000u + i), &err), 0);
    }
    for (unsigned i = 0; i < 3000; i += 2) {
        mac[4] = (uint8_t)(i >> 8), mac[5] = (uint8_t)i;
        vtep_map_del_peer(map, mac);
    }
    for (unsigned i = 0; i < 3000; i++) {
        struct ip_addr vtep = {0};
        mac[4] = (uint8_t)(i >> 8), mac[5] = (uint8_t)i;
        size_t n = vtep_map_lookup(map, mac, &vtep, 1);
        assert_int_equal(n, i % 2 ? 1 : 0); /* deleted and no members: nowhere */
        if (n)
            assert_int_equal(number_of(&vtep), 0x0c000000u + i);
    }
    vtep_map_free(map);
}

/* Readers look up while a writer moves, deletes and re-adds peers and members:
 * every answer is one the map could have given at some moment. */
#define READERS 4
struct reader_arg {
    struct vtep_map *map;
    atomic_bool *stop;
    _Atomic unsigned long lookups;
    unsigned long bad;
};

static void *reader(void *p)
{
    struct reader_arg *a = p;
    struct ip_addr vteps[8];
    while (!atomic_load(a->stop)) {
        size_t n = vtep_map_lookup(a->map, mac_a, vteps, 8);
        /* mac_a lives on V1 or V2, or is unknown: flooded to a subset of V1..V3. */
        for (size_t i = 0; i < n; i++) {
            uint32_t v = ntohl(ip_addr_last32(&vteps[i]));
            if (v < N1 || v > N3)
                a->bad++;
        }
        n = vtep_map_lookup(a->map, broadcast, vteps, 8);
        a->bad += n > 3;
        atomic_fetch_add(&a->lookups, 2);
    }
    return NULL;
}

static void readers_run_beside_a_writer(void **state)
{
    (void)state;
    struct vtep_map *map = new_map();
    struct weft_err err = {0};
    atomic_bool stop = false;
    struct reader_arg args[READERS];
    pthread_t threads[READERS];
    for (int i = 0; i < READERS; i++) {
        args[i] = (struct reader_arg){.map = map, .stop = &stop};
        assert_int_equal(pthread_create(&threads[i], NULL, reader, &args[i]), 0);
    }
    for (int i = 0; i < READERS; i++) /* every reader runs before the writes begin */
        while (atomic_load(&args[i].lookups) < 100)
            sched_yield();
    for (unsigned round = 0; round < 5000; round++) {
        assert_int_equal(vtep_map_set_peer(map, mac_a, round % 2 ? V1 : V2, &err), 0);
        assert_int_equal(vtep_map_add_member(map, VTEP(N1 + round % 3), &err), 0);
        assert_int_equal(vtep_map_set_peer(map, mac_b, V3, &err), 0);
        if (round % 5 == 0)
            vtep_map_del_peer(map, mac_a);
        vtep_map_del_member(map, VTEP(N1 + (round + 1) % 3));
        vtep_map_del_peer(map, mac_b);
    }
    atomic_store(&stop, true);
    unsigned long lookups = 0;
    for (int i = 0; i < READERS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(args[i].bad, 0);
        lookups += atomic_load(&args[i].lookups);
    }
    assert_true(lookups >= READERS * 100);
    vtep_map_free(map);
}

/* IPv6: VTEPs that share their last 32 bits are two hosts, members and peers alike. */
static void ipv6_vteps_are_kept_whole(void **state)
{
    (void)state;
    struct vtep_map *map = new_map();
    struct weft_err err = {0};
    struct ip_addr other = vtep_of(N1);
    other.bytes[1] = 0x01; /* fd01:77::a00:1 */
    assert_int_equal(vtep_map_add_member(map, V1, &err), 0);
    assert_int_equal(vtep_map_add_member(map, &other, &err), 0);
    struct ip_addr vteps[4];
    assert_int_equal(vtep_map_lookup(map, broadcast, vteps, 4), 2);
    assert_int_equal(vtep_map_set_peer(map, mac_a, V1, &err), 0);
    assert_int_equal(vtep_map_set_peer(map, mac_a, &other, &err), 0); /* moved */
    assert_int_equal(vtep_map_lookup(map, mac_a, vteps, 4), 1);
    assert_true(ip_addr_equal(&vteps[0], &other));
    vtep_map_del_member(map, &other);
    assert_int_equal(vtep_map_lookup(map, broadcast, vteps, 4), 1);
    assert_true(ip_addr_equal(&vteps[0], V1));
    vtep_map_del_peer(map, mac_a);
    vtep_map_del_member(map, V1);
    vtep_map_free(map);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_map_sends_nowhere),
        cmocka_unit_test(unicast_known_goes_to_its_peer_unknown_floods),
        cmocka_unit_test(broadcast_and_multicast_go_to_every_member),
        cmocka_unit_test(a_peer_moves_and_is_deleted),
        cmocka_unit_test(max_truncates_the_answer),
        cmocka_unit_test(many_peers_are_all_found),
        cmocka_unit_test(readers_run_beside_a_writer),
    };
    /* The map's logic again with IPv6 VTEPs; the threads and the thousands of peers
     * (the slow ones under ASan) test what does not depend on the family. */
    const struct CMUnitTest tests_ipv6[] = {
        cmocka_unit_test(empty_map_sends_nowhere),
        cmocka_unit_test(unicast_known_goes_to_its_peer_unknown_floods),
        cmocka_unit_test(broadcast_and_multicast_go_to_every_member),
        cmocka_unit_test(a_peer_moves_and_is_deleted),
        cmocka_unit_test(max_truncates_the_answer),
        cmocka_unit_test(ipv6_vteps_are_kept_whole),
    };
    int failed = cmocka_run_group_tests_name("IPv4 VTEPs", tests, NULL, NULL);
    ipv6_run = true;
    return failed + cmocka_run_group_tests_name("IPv6 VTEPs", tests_ipv6, NULL, NULL);
}
