/* test_remote_table.c: the remote peer/member table finds every entry by its key,
 * keeps them apart by subnet and kind, and stays whole across growth and removal;
 * of several hosts' claims of one key the oldest wins, and the next once it goes;
 * its index by DNS name lists each peer once under each of its names and follows
 * changes and removals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "fabric/remote_table.h"

/* An IPv4 VTEP (host order x) as the table takes it. */
#define VTEP(x) ((const struct ip_addr[]){ip_addr_from_ipv4(htonl(x))})

static size_t walk_count(const struct remote_table *t)
{
    size_t n = 0;
    for (const struct remote_entry *e = t->head; e; e = e->next) {
        if (e->next)
            assert_ptr_equal(e->next->prev, e);
        n++;
    }
    return n;
}

static void same_address_differs_by_subnet_and_kind(void **state)
{
    (void)state;
    struct remote_table t;
    assert_int_equal(remote_table_init(&t), 0);
    struct remote_entry *peer_a =
        remote_table_add(&t, "10.77.0.0/24", true, 0x0a4d0002, VTEP(7), 1);
    struct remote_entry *peer_b =
        remote_table_add(&t, "10.78.0.0/24", true, 0x0a4d0002, VTEP(7), 1);
    struct remote_entry *member =
        remote_table_add(&t, "10.77.0.0/24", false, 0, VTEP(0x0a4d0002), 1);
    assert_non_null(peer_a);
    assert_non_null(peer_b);
    assert_non_null(member);
    assert_ptr_equal(remote_table_find_peer(&t, "10.77.0.0/24", 0x0a4d0002), peer_a);
    assert_ptr_equal(remote_table_find_peer(&t, "10.78.0.0/24", 0x0a4d0002), peer_b);
    assert_ptr_equal(remote_table_find_member(&t, "10.77.0.0/24", VTEP(0x0a4d0002)), member);
    assert_null(remote_table_find_peer(&t, "10.79.0.0/24", 0x0a4d0002));
    assert_null(remote_table_find_peer(&t, "10.77.0.0/24", 0x0a4d0003));
    assert_string_equal(peer_b->subnet, "10.78.0.0/24");
    assert_false(peer_a->programmed);
    remote_table_remove(&t, peer_a);
    assert_null(remote_table_find_peer(&t, "10.77.0.0/24", 0x0a4d0002));
    assert_ptr_equal(remote_table_find_member(&t, "10.77.0.0/24", VTEP(0x0a4d0002)), member);
    assert_int_equal(t.count, 2);
    assert_int_equal(walk_count(&t), 2);
    remote_table_clear(&t);
}

/* 50 hosts x 100 endpoints, as the scale benchmark: every entry is found after
 * many rehashes, and removing every other one leaves exactly the rest. */
static void large_fabric_survives_growth_and_removal(void **state)
{
    (void)state;
    struct remote_table t;
    assert_int_equal(remote_table_init(&t), 0);
    const uint32_t n = 5000;
    for (uint32_t i = 0; i < n; i++) {
        struct remote_entry *e =
            remote_table_add(&t, "10.90.0.0/16", true, 0x0a5a0000 + i, VTEP(i), i);
        assert_non_null(e);
    }
    assert_true(t.index.bucket_count >= n);
    assert_int_equal(t.count, n);
    for (uint32_t i = 0; i < n; i++) {
        struct remote_entry *e = remote_table_find_peer(&t, "10.90.0.0/16", 0x0a5a0000 + i);
        assert_non_null(e);
        assert_true(ip_addr_equal(&e->vtep, VTEP(i)));
    }
    for (uint32_t i = 0; i < n; i += 2)
        remote_table_remove(&t, remote_table_find_peer(&t, "10.90.0.0/16", 0x0a5a0000 + i));
    assert_int_equal(t.count, n / 2);
    assert_int_equal(walk_count(&t), n / 2);
    for (uint32_t i = 0; i < n; i++) {
        struct remote_entry *e = remote_table_find_peer(&t, "10.90.0.0/16", 0x0a5a0000 + i);
        if (i % 2)
            assert_non_null(e);
        else
            assert_null(e);
    }
    remote_table_clear(&t);
    assert_int_equal(t.count, 0);
    assert_null(t.head);
}

/* Three hosts claim one address, listed in no order of age: the oldest is found,
 * each claim by its host; removing or re-dating claims hands the win on. */
static void oldest_claim_wins(void **state)
{
    (void)state;
    struct remote_table t;
    assert_int_equal(remote_table_init(&t), 0);
    const char *s = "10.77.0.0/24";
    const uint32_t ip = 0x0a4d0005, a = 0xc0a84d01, b = 0xc0a84d02, c = 0xc0a84d03;
    struct remote_entry *cb = remote_table_add(&t, s, true, ip, VTEP(b), 20);
    struct remote_entry *ca = remote_table_add(&t, s, true, ip, VTEP(a), 10);
    struct remote_entry *cc = remote_table_add(&t, s, true, ip, VTEP(c), 30);
    struct remote_entry *other = remote_table_add(&t, s, true, ip + 1, VTEP(c), 5);
    assert_ptr_equal(remote_table_find_peer(&t, s, ip), ca);
    assert_true(remote_table_wins(&t, ca));
    assert_false(remote_table_wins(&t, cb));
    assert_true(remote_table_wins(&t, other));
    assert_ptr_equal(remote_table_find_claim(&t, s, true, ip, VTEP(b)), cb);
    assert_ptr_equal(remote_table_find_claim(&t, s, true, ip, VTEP(c)), cc);
    assert_null(remote_table_find_claim(&t, s, true, ip, VTEP(0xc0a84d09)));
    assert_ptr_equal(ca->next_claim, cb);
    assert_ptr_equal(cb->next_claim, cc);
    remote_table_remove(&t, ca); /* the winner goes: the next oldest wins */
    assert_ptr_equal(remote_table_find_peer(&t, s, ip), cb);
    remote_table_set_created(&t, cb, 40); /* deleted and created again: now the youngest */
    assert_ptr_equal(remote_table_find_peer(&t, s, ip), cc);
    assert_ptr_equal(cc->next_claim, cb);
    remote_table_remove(&t, cb); /* a loser goes: the winner stays */
    assert_ptr_equal(remote_table_find_peer(&t, s, ip), cc);
    assert_null(cc->next_claim);
    /* A tie (impossible in etcd) goes to the lower VTEP. */
    struct remote_entry *ta = remote_table_add(&t, s, true, ip, VTEP(a), 30);
    assert_ptr_equal(remote_table_find_peer(&t, s, ip), ta);
    assert_int_equal(t.count, 3);
    assert_int_equal(walk_count(&t), 3);
    remote_table_remove(&t, cc);
    remote_table_remove(&t, ta);
    assert_null(remote_table_find_peer(&t, s, ip));
    assert_ptr_equal(remote_table_find_peer(&t, s, ip + 1), other);
    remote_table_clear(&t);
}

/* Members of an IPv6 underlay (issue 12) are keyed by their whole VTEP: two that share
 * their last 32 bits, or an IPv4 one with those bits, are three members. */
static void ipv6_members_are_keyed_by_their_vtep(void **state)
{
    (void)state;
    struct remote_table t;
    assert_int_equal(remote_table_init(&t), 0);
    struct ip_addr a, b;
    assert_int_equal(ip_addr_parse("fd00::1:c0a8:4d02", &a, NULL), 0);
    assert_int_equal(ip_addr_parse("fd00::2:c0a8:4d02", &b, NULL), 0);
    const char *s = "10.77.0.0/24";
    struct remote_entry *ma = remote_table_add(&t, s, false, 0, &a, 1);
    struct remote_entry *mb = remote_table_add(&t, s, false, 0, &b, 2);
    struct remote_entry *m4 = remote_table_add(&t, s, false, 0, VTEP(0xc0a84d02), 3);
    struct remote_entry *pa = remote_table_add(&t, s, true, 0x0a4d0005, &a, 4);
    assert_ptr_equal(remote_table_find_member(&t, s, &a), ma);
    assert_ptr_equal(remote_table_find_member(&t, s, &b), mb);
    assert_ptr_equal(remote_table_find_member(&t, s, VTEP(0xc0a84d02)), m4);
    assert_true(remote_table_wins(&t, ma) && remote_table_wins(&t, mb) &&
                remote_table_wins(&t, m4));
    assert_ptr_equal(remote_table_find_claim(&t, s, false, 0, &b), mb);
    assert_ptr_equal(remote_table_find_claim(&t, s, true, 0x0a4d0005, &a), pa);
    assert_null(remote_table_find_claim(&t, s, true, 0x0a4d0005, &b));
    remote_table_remove(&t, ma);
    assert_null(remote_table_find_member(&t, s, &a));
    assert_ptr_equal(remote_table_find_member(&t, s, &b), mb);
    assert_int_equal(walk_count(&t), 3);
    remote_table_clear(&t);
}

/* The claims listed under name, as a count; each must be one of want (n of them). */
static size_t named(const struct remote_table *t, const char *name,
                    struct remote_entry *const *want, size_t n)
{
    size_t count = 0;
    for (const struct remote_name_ref *r = remote_table_named(t, name); r; r = r->next) {
        bool known = false;
        for (size_t i = 0; i < n; i++)
            known |= r->entry == want[i];
        assert_true(known);
        if (r->next)
            assert_ptr_equal(r->next->prev, r);
        count++;
    }
    return count;
}

static void peers_are_found_by_each_of_their_names(void **state)
{
    (void)state;
    struct remote_table t;
    assert_int_equal(remote_table_init(&t), 0);
    struct remote_entry *a = remote_table_add(&t, "10.77.0.0/24", true, 0x0a4d0002, VTEP(7), 1);
    struct remote_entry *b = remote_table_add(&t, "10.78.0.0/24", true, 0x0a4e0002, VTEP(8), 2);
    assert_non_null(a);
    assert_non_null(b);
    struct remote_entry *const both[] = {a, b};
    assert_int_equal(remote_table_set_names(&t, a, "web web.1 web"), 0); /* web once */
    assert_int_equal(remote_table_set_names(&t, b, "web db"), 0);
    assert_string_equal(a->names, "web web.1 web");
    assert_int_equal(a->name_ref_count, 2);
    assert_int_equal(named(&t, "web", both, 2), 2);
    assert_int_equal(named(&t, "web.1", both, 1), 1);
    assert_int_equal(named(&t, "db", both + 1, 1), 1);
    assert_int_equal(named(&t, "we", both, 2), 0); /* whole names only */
    assert_int_equal(named(&t, "web db", both, 2), 0);
    /* A change takes the old names off, the same names again change nothing. */
    assert_int_equal(remote_table_set_names(&t, a, "api"), 0);
    assert_int_equal(remote_table_set_names(&t, a, "api"), 0);
    assert_int_equal(named(&t, "web", both + 1, 1), 1);
    assert_int_equal(named(&t, "web.1", both, 2), 0);
    assert_int_equal(named(&t, "api", both, 1), 1);
    /* None, then removal: nothing left under any name. */
    assert_int_equal(remote_table_set_names(&t, a, ""), 0);
    assert_null(a->names);
    assert_int_equal(named(&t, "api", both, 2), 0);
    remote_table_remove(&t, b);
    assert_int_equal(named(&t, "web", both, 2), 0);
    assert_int_equal(named(&t, "db", both, 2), 0);
    assert_int_equal(t.names.index.count, 0); /* every name's node went with its last claim */
    /* 1,000 peers named alike and apart, cleared with their names (ASan: no leak). */
    for (uint32_t i = 0; i < 1000; i++) {
        struct remote_entry *e =
            remote_table_add(&t, "10.79.0.0/16", true, 0x0a4f0000 + i, VTEP(100 + i % 50), 3);
        char names[32];
        snprintf(names, sizeof(names), "svc n%u", (unsigned)i);
        assert_int_equal(remote_table_set_names(&t, e, names), 0);
    }
    size_t svc = 0;
    for (const struct remote_name_ref *r = remote_table_named(&t, "svc"); r; r = r->next)
        svc++;
    assert_int_equal(svc, 1000);
    assert_non_null(remote_table_named(&t, "n999"));
    remote_table_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_address_differs_by_subnet_and_kind),
        cmocka_unit_test(peers_are_found_by_each_of_their_names),
        cmocka_unit_test(large_fabric_survives_growth_and_removal),
        cmocka_unit_test(oldest_claim_wins),
        cmocka_unit_test(ipv6_members_are_keyed_by_their_vtep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
