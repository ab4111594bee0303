/* test_host_presence.c: each host's records are counted by kind, and since when it
 * has had records (or none) follows the first added and the last removed; a host
 * that comes back is present again; at most HOST_PRESENCE_GONE_MAX gone hosts are
 * remembered, those gone longest forgotten first; the remote table keeps the count
 * through its adds and removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "fabric/host_presence.h"
#include "fabric/remote_table.h"

#define VTEP(x) ((const struct ip_addr[]){ip_addr_from_ipv4(htonl(x))})

static void since_follows_first_record_and_last(void **state)
{
    (void)state;
    struct host_presence p;
    assert_int_equal(host_presence_init(&p), 0);
    host_presence_added(&p, VTEP(7), false, 100);
    host_presence_added(&p, VTEP(7), true, 105);
    host_presence_added(&p, VTEP(7), true, 106);
    const struct host_seen *h = host_presence_find(&p, VTEP(7));
    assert_non_null(h);
    assert_true(host_presence_present(h));
    assert_int_equal(h->since, 100);
    assert_int_equal(h->members, 1);
    assert_int_equal(h->peers, 2);
    host_presence_removed(&p, VTEP(7), true, 200);
    host_presence_removed(&p, VTEP(7), false, 201);
    assert_true(host_presence_present(h));
    assert_int_equal(h->since, 100);
    assert_int_equal(p.gone, 0);
    host_presence_removed(&p, VTEP(7), true, 202);
    assert_false(host_presence_present(h));
    assert_int_equal(h->since, 202);
    assert_int_equal(p.gone, 1);
    /* More removes than adds (a record added out of memory): nothing goes negative. */
    host_presence_removed(&p, VTEP(7), true, 203);
    assert_int_equal(h->peers, 0);
    assert_int_equal(h->since, 202);
    host_presence_added(&p, VTEP(7), false, 300);
    assert_true(host_presence_present(h));
    assert_int_equal(h->since, 300);
    assert_int_equal(p.gone, 0);
    assert_null(host_presence_find(&p, VTEP(8)));
    host_presence_clear(&p);
}

static void gone_longest_forgotten_first(void **state)
{
    (void)state;
    struct host_presence p;
    assert_int_equal(host_presence_init(&p), 0);
    const int hosts = HOST_PRESENCE_GONE_MAX + 10;
    for (int i = 1; i <= hosts; i++) {
        host_presence_added(&p, VTEP(i), true, 10);
        host_presence_removed(&p, VTEP(i), true, 1000 + i);
    }
    host_presence_added(&p, VTEP(hosts + 1), false, 10); /* present: never forgotten */
    assert_int_equal(p.gone, HOST_PRESENCE_GONE_MAX);
    for (int i = 1; i <= 10; i++)
        assert_null(host_presence_find(&p, VTEP(i)));
    assert_non_null(host_presence_find(&p, VTEP(11)));
    assert_non_null(host_presence_find(&p, VTEP(hosts)));
    size_t walked = 0, present = 0;
    struct host_presence_iter it;
    host_presence_iter_init(&it, &p);
    for (const struct host_seen *h; (h = host_presence_next(&it)); walked++)
        present += host_presence_present(h);
    assert_int_equal(walked, HOST_PRESENCE_GONE_MAX + 1);
    assert_int_equal(present, 1);
    host_presence_clear(&p);
}

static void remote_table_counts_its_claims(void **state)
{
    (void)state;
    struct remote_table t;
    assert_int_equal(remote_table_init(&t), 0);
    struct remote_entry *member = remote_table_add(&t, "10.77.0.0/24", false, 0, VTEP(7), 1);
    struct remote_entry *peer = remote_table_add(&t, "10.77.0.0/24", true, 0x0a4d0002, VTEP(7), 2);
    remote_table_add(&t, "10.78.0.0/24", true, 0x0a4e0002, VTEP(9), 3);
    const struct host_seen *h7 = host_presence_find(&t.hosts, VTEP(7));
    assert_non_null(h7);
    assert_int_equal(h7->members, 1);
    assert_int_equal(h7->peers, 1);
    remote_table_remove(&t, peer);
    remote_table_remove(&t, member);
    assert_false(host_presence_present(h7));
    assert_true(host_presence_present(host_presence_find(&t.hosts, VTEP(9))));
    remote_table_clear(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(since_follows_first_record_and_last),
        cmocka_unit_test(gone_longest_forgotten_first),
        cmocka_unit_test(remote_table_counts_its_claims),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
