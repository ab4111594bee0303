/*
 * test_fakes.c: the fakes keep the contracts of the headers they stand in for
 * (netlink/nl.h, store/etcd.h), so a fabric test on them says something about
 * fabric on the real ones: the kernel's answers, batches, revisions, leases,
 * transactions, the watch's batches and its thread, and the fault hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "netlink/nl.h"
#include "store/etcd.h"
#include "tests/fakes/fake_kernel.h"
#include "tests/fakes/fake_store.h"
#include "tests/fakes/fault.h"

/* A VTEP of the fake kernel (which holds IPv4 ones) from a network-order number. */
#define VT(n) ((const struct ip_addr[]){ip_addr_from_ipv4(n)})

static const uint8_t mac_a[6] = {2, 0x42, 0, 0, 0, 1};
static const uint8_t zero_mac[6];

static int reset(void **state)
{
    (void)state;
    fault_reset();
    fake_kernel_reset();
    fake_store_reset();
    return 0;
}

static void links_answer_like_the_kernel(void **state)
{
    (void)state;
    struct nl *nl;
    struct weft_err err = {0};
    int ifindex = -1, mtu = 0;
    assert_int_equal(nl_open(&nl, &err), 0);
    assert_int_equal(nl_bridge_create(nl, "br0", 1400, &err), 0);
    assert_int_equal(nl_bridge_create(nl, "br0", 1400, &err), -1);
    assert_non_null(strstr(err.msg, "File exists"));
    assert_int_equal(nl_link_index(nl, "nope", &ifindex, &err), 0);
    assert_int_equal(ifindex, 0); /* missing: no error */
    assert_int_equal(nl_link_delete(nl, "nope", &err), 0);
    assert_int_equal(nl_link_set_mtu(nl, "nope", 1000, &err), -1);
    assert_non_null(strstr(err.msg, "No such device"));
    assert_int_equal(nl_link_get_mtu(nl, "br0", &mtu, &err), 0);
    assert_int_equal(mtu, 1400);
    assert_int_equal(nl_link_index(nl, "br0", &ifindex, &err), 0);
    struct nl_vxlan_spec vx = {
        .name = "vx0", .vni = 42, .local = ip_addr_from_ipv4(7), .master_ifindex = ifindex};
    uint32_t vni = 0;
    struct ip_addr local;
    assert_int_equal(nl_vxlan_create(nl, &vx, &err), 0);
    assert_int_equal(nl_vxlan_get(nl, "vx0", &vni, &local, &err), 0);
    assert_int_equal(vni, 42);
    assert_int_equal(ip_addr_ipv4(&local), 7);
    assert_int_equal(nl_vxlan_get(nl, "br0", &vni, &local, &err), -1);
    /* A veth that cannot be set up is deleted again: nothing is left. */
    struct nl_veth_spec veth = {.host_name = "h0",
                                .container_name = "p0",
                                .host_alias = "x",
                                .container_mac = mac_a,
                                .master_ifindex = ifindex};
    fault_arm(FAULT_NETLINK, 2);
    assert_int_equal(nl_veth_create(nl, &veth, &err), -1);
    assert_false(fake_kernel_link("h0", NULL) || fake_kernel_link("p0", NULL));
    assert_int_equal(nl_veth_create(nl, &veth, &err), 0);
    struct fake_link host, peer;
    assert_true(fake_kernel_link("h0", &host) && fake_kernel_link("p0", &peer));
    assert_true(host.up);
    assert_string_equal(host.alias, "x");
    assert_memory_equal(peer.mac, mac_a, 6);
    assert_int_equal(host.master, ifindex);
    /* Deleting one end takes the pair; deleting the bridge frees its ports. */
    assert_int_equal(nl_link_delete(nl, "p0", &err), 0);
    assert_false(fake_kernel_link("h0", NULL));
    assert_int_equal(nl_link_delete(nl, "br0", &err), 0);
    struct fake_link vxlan;
    assert_true(fake_kernel_link("vx0", &vxlan));
    assert_int_equal(vxlan.master, 0);
    nl_close(nl);
}

static void entries_and_batches(void **state)
{
    (void)state;
    struct nl *nl;
    struct weft_err err = {0};
    int ifindex = 0, mtu;
    assert_int_equal(nl_open(&nl, &err), 0);
    struct nl_vxlan_spec vx = {.name = "vx0", .vni = 42};
    assert_int_equal(nl_vxlan_create(nl, &vx, &err), 0);
    assert_int_equal(nl_link_index(nl, "vx0", &ifindex, &err), 0);
    assert_int_equal(nl_fdb_add(nl, ifindex, zero_mac, VT(1), true, &err), 0);
    assert_int_equal(nl_fdb_add(nl, ifindex, zero_mac, VT(2), true, &err), 0); /* appended */
    assert_int_equal(nl_fdb_add(nl, ifindex, mac_a, VT(1), false, &err), 0);
    assert_int_equal(nl_fdb_add(nl, ifindex, mac_a, VT(2), false, &err), 0); /* replaced */
    assert_int_equal(fake_kernel_fdb_count("vx0"), 3);
    assert_true(fake_kernel_has_fdb("vx0", mac_a, 2));
    assert_int_equal(nl_fdb_del(nl, ifindex, mac_a, VT(9), &err), 0); /* missing: no error */
    assert_int_equal(nl_neigh_add(nl, ifindex, 5, mac_a, &err), 0);
    assert_int_equal(nl_neigh_add(nl, ifindex, 5, zero_mac, &err), 0); /* replaced */
    assert_true(fake_kernel_has_neigh("vx0", 5, zero_mac));
    /* A batch: queries refused but the index, which answers the present state; the
     * end reports the first failure and the rest applies; one round trip. */
    assert_int_equal(nl_batch_begin(nl), 0);
    assert_int_equal(nl_batch_begin(nl), -1);
    assert_int_equal(nl_bridge_create(nl, "br9", 0, &err), 0);
    int queued = -1;
    assert_int_equal(nl_link_index(nl, "br9", &queued, &err), 0);
    assert_int_equal(queued, 0);
    assert_int_equal(nl_link_get_mtu(nl, "vx0", &mtu, &err), -1);
    assert_int_equal(nl_fdb_add(nl, 999, mac_a, VT(1), false, &err), 0);
    assert_int_equal(nl_neigh_del(nl, ifindex, 5, &err), 0);
    unsigned long calls = fault_calls(FAULT_NETLINK);
    assert_int_equal(nl_batch_end(nl, &err), -1);
    assert_non_null(strstr(err.msg, "(batch entry 2 of 3)"));
    assert_int_equal(fault_calls(FAULT_NETLINK), calls + 1);
    assert_true(fake_kernel_link("br9", NULL));
    assert_int_equal(fake_kernel_neigh_count("vx0"), 0);
    assert_int_equal(nl_batch_begin(nl), 0); /* an empty batch: no round trip */
    assert_int_equal(nl_batch_end(nl, &err), 0);
    assert_int_equal(fault_calls(FAULT_NETLINK), calls + 1);
    /* A link's entries go with it. */
    assert_int_equal(nl_link_delete(nl, "vx0", &err), 0);
    assert_int_equal(fake_kernel_fdb_count(NULL), 0);
    /* The underlay. */
    struct ip_addr ip;
    char ifname[IF_NAMESIZE];
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), -1);
    assert_string_equal(err.msg, "no default route");
    fake_kernel_set_underlay("eth0", htonl(0x0a000001), 9000);
    assert_int_equal(nl_default_route_addr(nl, &ip, ifname, sizeof(ifname), &err), 0);
    assert_string_equal(ifname, "eth0");
    assert_int_equal(nl_addr_ifname(nl, &ip, ifname, sizeof(ifname), &err), 0);
    assert_int_equal(nl_link_get_mtu(nl, ifname, &mtu, &err), 0);
    assert_int_equal(mtu, 9000);
    nl_close(nl);
}

static void keys_revisions_and_leases(void **state)
{
    (void)state;
    struct etcd *etcd;
    struct weft_err err = {0};
    assert_int_equal(etcd_open(&etcd, "x:1", &err), 0);
    struct etcd_kv kv = {0};
    bool found, created, deleted = true;
    assert_int_equal(etcd_put(etcd, "/a", "1", 0, &err), 0);
    assert_int_equal(etcd_put(etcd, "/a", "2", 0, &err), 0);
    assert_int_equal(etcd_get(etcd, "/a", &kv, &found, &err), 0);
    assert_true(found);
    assert_string_equal(kv.value, "2");
    assert_true(kv.create_revision < kv.mod_revision);
    etcd_kv_clear(&kv);
    assert_int_equal(etcd_delete(etcd, "/none", &deleted, &err), 0);
    assert_false(deleted);
    int64_t lease;
    assert_int_equal(etcd_lease_grant(etcd, 10, &lease, &err), 0);
    assert_int_equal(etcd_put(etcd, "/l", "v", lease + 1, &err), -1); /* no such lease */
    assert_int_equal(etcd_create(etcd, "/l", "v", lease, &created, NULL, &err), 0);
    assert_true(created);
    assert_int_equal(etcd_create(etcd, "/l", "v", lease, &created, NULL, &err), 0);
    assert_true(created); /* its own write, retried */
    assert_int_equal(etcd_create(etcd, "/l", "w", lease, &created, &kv, &err), 0);
    assert_false(created);
    assert_string_equal(kv.value, "v");
    etcd_kv_clear(&kv);
    fake_store_expire_lease(lease);
    bool alive = true;
    assert_int_equal(etcd_lease_keepalive(etcd, lease, &alive, &err), 0);
    assert_false(alive);
    assert_int_equal(etcd_get(etcd, "/l", &kv, &found, &err), 0);
    assert_false(found);
    /* A transaction applies whole or not at all. */
    struct etcd_txn *txn = etcd_txn_new();
    etcd_txn_cmp_absent(txn, "/b");
    etcd_txn_cmp_value(txn, "/a", "1"); /* it is "2" */
    etcd_txn_put(txn, "/b", "x", 0);
    bool ok = true;
    assert_int_equal(etcd_txn_commit(etcd, txn, &ok, &err), 0);
    assert_false(ok);
    etcd_txn_free(txn);
    assert_null(fake_store_get("/b", NULL));
    txn = etcd_txn_new();
    etcd_txn_cmp_prefix_absent(txn, "/b");
    etcd_txn_put(txn, "/b/1", "x", 0);
    etcd_txn_delete_prefix(txn, "/a");
    assert_int_equal(etcd_txn_commit(etcd, txn, &ok, &err), 0);
    assert_true(ok);
    etcd_txn_free(txn);
    struct etcd_kvs kvs;
    assert_int_equal(etcd_get_prefix(etcd, "/", &kvs, &err), 0);
    assert_int_equal(kvs.count, 1);
    assert_string_equal(kvs.items[0].key, "/b/1");
    etcd_kvs_free(&kvs);
    /* Unreachable: down, or a failed call until one answers. */
    fake_store_set_down(true);
    assert_int_equal(etcd_put(etcd, "/c", "1", 0, &err), -1);
    assert_non_null(strstr(err.msg, "store unreachable"));
    assert_true(etcd_unreachable(etcd, NULL));
    fake_store_set_down(false);
    assert_false(etcd_unreachable(etcd, NULL));
    fault_arm(FAULT_STORE, 1);
    assert_int_equal(etcd_put(etcd, "/c", "1", 0, &err), -1);
    assert_true(etcd_unreachable(etcd, NULL));
    assert_int_equal(etcd_put(etcd, "/c", "1", 0, &err), 0);
    assert_false(etcd_unreachable(etcd, NULL));
    etcd_close(etcd);
}

struct seen {
    pthread_mutex_t lock;
    pthread_t writer;
    bool other_thread;
    int batches;
    char log[1024];
};

static void on_events(void *ctx, const struct etcd_event *events, size_t count)
{
    static const char *names[] = {"PUT", "DEL", "BEGIN", "END", "DISC"};
    struct seen *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->other_thread = !pthread_equal(pthread_self(), s->writer);
    s->batches++;
    strcat(s->log, "[");
    for (size_t i = 0; i < count; i++) {
        strcat(s->log, names[events[i].type]);
        if (events[i].key)
            strcat(strcat(s->log, " "), events[i].key);
        strcat(s->log, i + 1 < count ? "," : "");
    }
    strcat(s->log, "]");
    pthread_mutex_unlock(&s->lock);
}

static void watch_delivers_batches_on_its_thread(void **state)
{
    (void)state;
    struct etcd *etcd;
    struct weft_err err = {0};
    assert_int_equal(etcd_open(&etcd, "x:1", &err), 0);
    fake_store_put("/w/a", "1", 0);
    fake_store_put("/x", "1", 0);
    struct seen seen = {.lock = PTHREAD_MUTEX_INITIALIZER, .writer = pthread_self()};
    struct etcd_watch *watch;
    assert_int_equal(etcd_watch_start(etcd, "/w/", on_events, &seen, &watch, &err), 0);
    struct etcd_txn *txn = etcd_txn_new();
    etcd_txn_put(txn, "/w/b", "2", 0);
    etcd_txn_delete(txn, "/w/a");
    etcd_txn_put(txn, "/y", "2", 0);
    bool ok;
    assert_int_equal(etcd_txn_commit(etcd, txn, &ok, &err), 0);
    etcd_txn_free(txn);
    fake_store_set_down(true);
    fake_store_delete("/w/b"); /* unheard while down */
    fake_store_set_down(false);
    assert_true(fake_store_wait_drained(10000));
    etcd_watch_stop(watch);
    assert_true(seen.other_thread);
    assert_string_equal(seen.log, "[BEGIN,PUT /w/a,END][PUT /w/b,DEL /w/a][DISC][BEGIN,END]");
    etcd_close(etcd);
}

static void *store_call(void *arg)
{
    struct weft_err err;
    *(int *)arg = etcd_put(NULL, "/t", "1", 0, &err);
    return NULL;
}

static void thread_fault_counts_its_thread_only(void **state)
{
    (void)state;
    struct weft_err err;
    int rc = -1;
    pthread_t other;
    fault_arm_thread(FAULT_STORE, 1);
    assert_int_equal(pthread_create(&other, NULL, store_call, &rc), 0);
    pthread_join(other, NULL);
    assert_int_equal(rc, 0);
    assert_false(fault_fired());
    assert_int_equal(etcd_put(NULL, "/t", "1", 0, &err), -1);
    assert_true(fault_fired());
    assert_int_equal(fault_calls(FAULT_STORE), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(links_answer_like_the_kernel, reset),
        cmocka_unit_test_setup(entries_and_batches, reset),
        cmocka_unit_test_setup(keys_revisions_and_leases, reset),
        cmocka_unit_test_setup(watch_delivers_batches_on_its_thread, reset),
        cmocka_unit_test_setup(thread_fault_counts_its_thread_only, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
