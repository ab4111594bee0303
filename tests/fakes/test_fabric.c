/*
 * test_fabric.c: fabric/ through its public API (fabric.h) on a fake kernel and
 * a fake store (tests/fakes/): what a network and an endpoint put into the kernel
 * and the store and take out again, the spare veths and the publisher, remote
 * records programmed and withdrawn. No root and no etcd. test_fabric_guards.c has the guards, the
 * publisher and the spares; test_fabric_undo.c the undo paths.
 */
#include "tests/fakes/fixture.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fabric/fabric_internal.h"
#include "fabric/veth_alias.h"
#include "store/keys.h"
#include "store/records.h"
#include "tests/fakes/fake_kernel.h"
#include "tests/fakes/fake_store.h"
#include "tests/fakes/fault.h"
#include "vxlan/segment.h"

static const uint8_t zero_mac[6];

static void network_create_makes_devices_and_member(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    uint32_t vni = overlay_vni(FX_SUBNET);
    struct segment_devices dev;
    segment_names(vni, &dev);
    struct fake_link bridge, vxlan;
    assert_true(fake_kernel_link(dev.bridge, &bridge));
    assert_true(fake_kernel_link(dev.vxlan, &vxlan));
    assert_int_equal(bridge.kind, FAKE_LINK_BRIDGE);
    assert_int_equal(vxlan.kind, FAKE_LINK_VXLAN);
    assert_true(bridge.up && vxlan.up);
    assert_int_equal(vxlan.vni, vni);
    assert_int_equal(vxlan.local, fx_ip(FX_HOST));
    assert_int_equal(vxlan.master, bridge.ifindex);
    assert_int_equal(vxlan.mtu, 1500 - SEGMENT_VXLAN_OVERHEAD);
    /* The member record under this host's lease, and the host's own record. */
    char key[WEFT_KEY_MAX], net[FABRIC_ID_MAX];
    int64_t lease = 0;
    key_member(key, FX_HOST, FX_SUBNET);
    char *text = fake_store_get(key, &lease);
    assert_non_null(text);
    assert_true(lease != 0);
    struct member_record member;
    assert_int_equal(member_record_decode(text, &member, NULL), 0);
    assert_string_equal(member.vtep, FX_HOST);
    free(text);
    fx_id(net, "a1");
    key_host_network(key, FX_HOST, net);
    assert_true(has_key(key));
    /* Spares: down, on the bridge, marked. */
    assert_int_equal(fake_kernel_alias_count(SEGMENT_SPARE_ALIAS), FX_SPARES);
    struct fake_link spare;
    assert_true(fake_kernel_link("ws1", &spare));
    assert_false(spare.up);
    assert_int_equal(spare.master, bridge.ifindex);
    assert_true(fake_kernel_link("wt1", NULL));
}

static void endpoint_lifecycle(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    const uint8_t derived[6] = {0x02, 0x42, 10, 77, 0, 5};
    assert_memory_equal(mac, derived, 6);
    fx_settle(); /* the publisher wrote it; a new spare replaced the one taken */
    char key[WEFT_KEY_MAX], ep[FABRIC_ID_MAX], net[FABRIC_ID_MAX];
    fx_id(ep, "e1");
    fx_id(net, "a1");
    key_host_endpoint(key, FX_HOST, ep);
    assert_true(has_key(key));
    key_peer(key, FX_HOST, FX_SUBNET, "10.77.0.5");
    int64_t lease = 0;
    char *text = fake_store_get(key, &lease);
    assert_non_null(text);
    assert_true(lease != 0);
    struct peer_record peer;
    assert_int_equal(peer_record_decode(text, &peer, NULL), 0);
    free(text);
    assert_string_equal(peer.vtep, FX_HOST);
    assert_string_equal(peer.mac, "02:42:0a:4d:00:05");
    /* Join names the container's end: a spare's, taken (up, alias = its record). */
    struct fabric_join_info join;
    struct weft_err err = {0};
    assert_int_equal(fabric_join(fx->fabric, net, ep, &join, &err), 0);
    struct fake_link inside, host;
    assert_true(fake_kernel_link(join.src_name, &inside));
    assert_memory_equal(inside.mac, derived, 6);
    char host_name[IF_NAMESIZE];
    snprintf(host_name, sizeof(host_name), "ws%.13s", join.src_name + 2); /* wt<n> -> ws<n> */
    assert_true(fake_kernel_link(host_name, &host));
    assert_int_equal(host.peer, inside.ifindex);
    assert_true(host.up);
    char *alias_record = veth_alias_record_text(host.alias);
    assert_non_null(alias_record);
    assert_non_null(strstr(alias_record, "\"ip\":\"10.77.0.5/24\""));
    free(alias_record);
    struct fabric_endpoint_info info;
    assert_int_equal(fabric_endpoint_info(fx->fabric, net, ep, &info, &err), 0);
    assert_string_equal(info.ip, "10.77.0.5/24");
    assert_string_equal(info.mac, "02:42:0a:4d:00:05");
    assert_string_equal(info.vtep, FX_HOST);
    assert_int_equal(info.mtu, 1450);
    assert_int_equal(fabric_leave(fx->fabric, net, ep, &err), 0);
    /* Deleting the endpoint takes its veth and its records. */
    assert_int_equal(delete_endpoint(fx, "a1", "e1", &err), 0);
    assert_false(fake_kernel_link(join.src_name, NULL));
    assert_int_equal(fx_host_keys(), 0);
    assert_false(has_key(key));
    assert_int_equal(fabric_join(fx->fabric, net, ep, &join, &err), -1);
    assert_non_null(strstr(err.msg, "does not exist"));
    assert_int_equal(delete_endpoint(fx, "a1", "e1", &err), -1);
}

/* The serial (1 or 2) of the spare pair ws<n>/wt<n> whose alias names addr. */
static int spare_taken_by(const char *addr)
{
    struct fake_link host;
    for (int n = 1; n <= 2; n++) {
        char name[IF_NAMESIZE];
        snprintf(name, sizeof(name), "ws%d", n);
        if (fake_kernel_link(name, &host) && strstr(host.alias, addr))
            return n;
    }
    fail_msg("no spare pair names %s", addr);
    return 0;
}

/* A removed endpoint's pair that was a spare is one again while the network has room
 * (spares.c), and deleted when it has not; the next endpoint takes it. */
static void removed_endpoints_veth_is_kept_as_a_spare(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle(); /* ws1 and ws2 in the kernel */
    fake_kernel_hold_spares(true);
    fx_expect_spares = false;
    uint8_t mac[6];
    /* e1 takes the last spare the maker has listed: ws2, or ws1 when the kernel showed
     * ws2 before the maker listed it. Once ws3 is in the making the maker has listed
     * both (it makes one at a time), so e2 takes the other. */
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    assert_true(fake_kernel_wait_held(1, FX_WAIT_MS)); /* ws3 in the making: room for one */
    create_endpoint(fx, "a1", "e2", "10.77.0.6", mac);
    int kept = spare_taken_by("10.77.0.5"), gone = 3 - kept;
    assert_int_equal(spare_taken_by("10.77.0.6"), gone);
    char kept_host[IF_NAMESIZE], kept_ctr[IF_NAMESIZE], gone_host[IF_NAMESIZE],
        gone_ctr[IF_NAMESIZE];
    snprintf(kept_host, sizeof(kept_host), "ws%d", kept);
    snprintf(kept_ctr, sizeof(kept_ctr), "wt%d", kept);
    snprintf(gone_host, sizeof(gone_host), "ws%d", gone);
    snprintf(gone_ctr, sizeof(gone_ctr), "wt%d", gone);
    struct weft_err err = {0};
    assert_int_equal(delete_endpoint(fx, "a1", "e1", &err), 0);
    struct fake_link host, ctr;
    assert_true(fake_kernel_link(kept_host, &host));
    assert_true(fake_kernel_link(kept_ctr, &ctr));
    assert_false(host.up);
    assert_false(ctr.up);
    assert_string_equal(host.alias, SEGMENT_SPARE_ALIAS);
    assert_int_equal(delete_endpoint(fx, "a1", "e2", &err), 0);
    assert_false(fake_kernel_link(gone_host, NULL)); /* no room left: deleted */
    assert_false(fake_kernel_link(gone_ctr, NULL));
    /* The next endpoint takes the returned pair, with its own MAC and record: the maker
     * is still held, so it is the network's only ready spare. (Letting ws3 finish
     * first would race: the kernel shows it before the maker lists it.) */
    create_endpoint(fx, "a1", "e3", "10.77.0.7", mac);
    assert_true(fake_kernel_link(kept_host, &host));
    assert_true(fake_kernel_link(kept_ctr, &ctr));
    assert_true(host.up);
    assert_memory_equal(ctr.mac, mac, 6);
    assert_non_null(strstr(host.alias, "10.77.0.7"));
    fake_kernel_hold_spares(false);
    fx_expect_spares = true;
    fx_settle();
    assert_int_equal(fake_kernel_alias_count(SEGMENT_SPARE_ALIAS), FX_SPARES);
    assert_int_equal(delete_endpoint(fx, "a1", "e3", &err), 0);
}

static void network_delete_leaves_nothing(void **state)
{
    struct fx *fx = *state;
    char *store_before = fx_store_text();
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    fx_settle();
    struct weft_err err = {0};
    /* Docker deletes the endpoint first; one left over goes with the network. */
    assert_int_equal(delete_network(fx, "a1", &err), 0);
    assert_int_equal(fake_kernel_link_count("w"), 0);
    assert_int_equal(fake_kernel_link_count(""), 1); /* the underlay's eth0 */
    /* Only hosts/<host>/alive stays (it lives as long as the daemon), and the store
     * is as it was: the overlay, its VNI and its records are released. */
    char *store_after = fx_store_text();
    assert_string_equal(store_after, store_before);
    char key[WEFT_KEY_MAX];
    key_host_alive(key, FX_HOST);
    assert_true(has_key(key));
    free(store_before);
    free(store_after);
    assert_int_equal(delete_network(fx, "a1", &err), -1);
    assert_non_null(strstr(err.msg, "not a weft network"));
    assert_int_equal(err.code, -ENOENT);
}

static void remote_peers_programmed_and_withdrawn(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    struct segment_devices dev;
    segment_names(overlay_vni(FX_SUBNET), &dev);
    const uint8_t mac[6] = {0x02, 0x42, 10, 77, 0, 9};
    uint32_t other = fx_ip(FX_OTHER_HOST), ip = fx_ip("10.77.0.9");
    int64_t lease = fake_store_grant();
    /* The peer first: not programmed before its host is a member. */
    put_remote(FX_SUBNET, "10.77.0.9", "02:42:0a:4d:00:09", lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_int_equal(fake_kernel_fdb_count(dev.vxlan), 0);
    put_member(FX_SUBNET, lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_true(fake_kernel_has_fdb(dev.vxlan, zero_mac, other)); /* flooding */
    assert_true(fake_kernel_has_fdb(dev.vxlan, mac, other));
    assert_true(fake_kernel_has_neigh(dev.vxlan, ip, mac));
    /* Its deletion withdraws it; the member's flooding entry stays. */
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, "10.77.0.9");
    fake_store_delete(key);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_false(fake_kernel_has_fdb(dev.vxlan, mac, other));
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 0);
    assert_int_equal(fake_kernel_fdb_count(dev.vxlan), 1);
    /* Back, then the other host's lease ends: member and peer go, and their entries. */
    put_remote(FX_SUBNET, "10.77.0.9", "02:42:0a:4d:00:09", lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_true(fake_kernel_has_neigh(dev.vxlan, ip, mac));
    fake_store_expire_lease(lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_int_equal(fake_kernel_fdb_count(dev.vxlan), 0);
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 0);
}

/* Several --subnet (issue 12): an endpoint of the extra subnet is published under that
 * subnet's key, gets the first as an on-link route at Join, and another host's endpoint
 * of the extra subnet is programmed on the one segment; addresses of neither are refused. */
static void extra_subnets_share_the_segment(void **state)
{
    struct fx *fx = *state;
    struct fabric_network_spec spec = fx_network("m1", FX_SUBNET);
    snprintf(spec.extra_subnets[0], sizeof(spec.extra_subnets[0]), "10.78.0.0/24");
    spec.extra_count = 1;
    struct weft_err err = {0};
    assert_int_equal(fabric_network_create(fx->fabric, &spec, &err), 0);
    uint8_t mac[6];
    create_endpoint(fx, "m1", "e1", "10.78.0.5", mac);
    fx_settle();
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_HOST, "10.78.0.0/24", "10.78.0.5");
    assert_true(has_key(key));
    char net[FABRIC_ID_MAX], ep[FABRIC_ID_MAX];
    fx_id(net, "m1");
    fx_id(ep, "e1");
    struct fabric_join_info join;
    assert_int_equal(fabric_join(fx->fabric, net, ep, &join, &err), 0);
    assert_int_equal(join.onlink_count, 1);
    assert_string_equal(join.onlink[0], FX_SUBNET);
    struct fabric_endpoint_spec outside = fx_endpoint("m1", "e2", "10.79.0.5");
    assert_int_equal(fabric_endpoint_create(fx->fabric, &outside, mac, &err), -1);
    assert_non_null(strstr(err.msg, "other subnets"));

    struct segment_devices dev;
    segment_names(overlay_vni(FX_SUBNET), &dev);
    int64_t lease = fake_store_grant();
    put_member(FX_SUBNET, lease);
    put_remote("10.78.0.0/24", "10.78.0.9", "02:42:0a:4e:00:09", lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    const uint8_t remote_mac[6] = {0x02, 0x42, 10, 78, 0, 9};
    assert_true(fake_kernel_has_neigh(dev.vxlan, fx_ip("10.78.0.9"), remote_mac));
    assert_true(fake_kernel_has_fdb(dev.vxlan, remote_mac, fx_ip(FX_OTHER_HOST)));
    /* The overlay record names the extra subnet: another host must pass the same. */
    char *store = fx_store_text();
    assert_non_null(strstr(store, "\"extra_subnets\":\"10.78.0.0/24\""));
    free(store);
}

/* A watch batch whose netlink batch fails: its entries are sent again one at a
 * time, so the kernel has the peer without waiting for the next listing. */
static void failed_watch_batch_is_resent(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    struct segment_devices dev;
    segment_names(overlay_vni(FX_SUBNET), &dev);
    int64_t lease = fake_store_grant();
    put_member(FX_SUBNET, lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_int_equal(fake_kernel_fdb_count(dev.vxlan), 1); /* flooding */
    fault_arm(FAULT_NETLINK, 1); /* the watch's batch end: nothing else runs now */
    put_remote(FX_SUBNET, "10.77.0.9", "02:42:0a:4d:00:09", lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_true(fault_fired());
    const uint8_t mac[6] = {0x02, 0x42, 10, 77, 0, 9};
    assert_true(fake_kernel_has_fdb(dev.vxlan, mac, fx_ip(FX_OTHER_HOST)));
    assert_true(fake_kernel_has_neigh(dev.vxlan, fx_ip("10.77.0.9"), mac));
}

/* Remote entries known before a local network exists are programmed when it comes. */
static void remote_known_before_network(void **state)
{
    struct fx *fx = *state;
    int64_t lease = fake_store_grant();
    put_member(FX_SUBNET, lease);
    put_remote(FX_SUBNET, "10.77.0.9", "02:42:0a:4d:00:09", lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_int_equal(fake_kernel_fdb_count(NULL), 0);
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    struct segment_devices dev;
    segment_names(overlay_vni(FX_SUBNET), &dev);
    assert_int_equal(fake_kernel_fdb_count(dev.vxlan), 2);
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 1);
    struct weft_err err = {0};
    assert_int_equal(delete_network(fx, "a1", &err), 0);
    assert_int_equal(fake_kernel_fdb_count(NULL), 0);
}

/* A host whose VTEP is IPv6 (issue 12) cannot be reached by this host's IPv4 VXLAN
 * device: its member and peer records are refused (counted once each), nothing is
 * programmed, and an IPv4 host's records beside them still are. */
static void records_of_the_other_family_are_refused(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    struct segment_devices dev;
    segment_names(overlay_vni(FX_SUBNET), &dev);
    int64_t lease = fake_store_grant();
    pthread_mutex_lock(&fx->fabric->lock);
    unsigned long rejected = fx->fabric->records_rejected;
    pthread_mutex_unlock(&fx->fabric->lock);
    put_member_of("fd00::5", FX_SUBNET, lease);
    put_remote_of("fd00::5", FX_SUBNET, "10.77.0.9", "02:42:0a:4d:00:09", lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_int_equal(fake_kernel_fdb_count(dev.vxlan), 0);
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 0);
    pthread_mutex_lock(&fx->fabric->lock);
    assert_int_equal(fx->fabric->records_rejected, rejected + 2);
    assert_int_equal(fx->fabric->remotes.count, 0);
    pthread_mutex_unlock(&fx->fabric->lock);
    put_member(FX_SUBNET, lease);
    put_remote(FX_SUBNET, "10.77.0.10", "02:42:0a:4d:00:0a", lease);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    assert_int_equal(fake_kernel_fdb_count(dev.vxlan), 2); /* flooding and the peer */
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(network_create_makes_devices_and_member, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(endpoint_lifecycle, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(removed_endpoints_veth_is_kept_as_a_spare, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(network_delete_leaves_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(failed_watch_batch_is_resent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(remote_peers_programmed_and_withdrawn, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(remote_known_before_network, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(extra_subnets_share_the_segment, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(records_of_the_other_family_are_refused, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
