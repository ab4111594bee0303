/*
 * test_fabric_undo.c: every undo path of fabric's requests, driven by failing
 * one call at a time. For a request and N = 1, 2, 3, ... the Nth store (then
 * netlink) call the request makes fails; until the request gets through without
 * meeting the fault. After each failed request: it answered -1 with a message,
 * the kernel and the store hold exactly what they held before it (spare veths
 * aside: fabric's pool, refilled by its own thread; a bridge put back by a failed
 * network delete has a new ifindex and MAC), and the same request then succeeds.
 * Nothing is left half-made: there is no known gap to count. A request that works around the failure (a spare that cannot be taken
 * is replaced by a new pair) must leave the same as a clean success.
 * Faults count only the test thread's calls (fault_arm_thread), so the spare
 * maker and the watch, working meanwhile, cannot move the count.
 */
#include "tests/fakes/fixture.h"
#include "fabric/veth_alias.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/keys.h"
#include "store/records.h"
#include "tests/fakes/fake_kernel.h"
#include "tests/fakes/fake_store.h"
#include "tests/fakes/fault.h"
#include "vxlan/segment.h"

struct undo_case {
    const char *name;
    int (*op)(struct fx *fx, struct weft_err *err);
    void (*restore)(struct fx *fx); /* takes back a successful op */
    /* After an op that succeeded although a call failed: checks what it left and
     * brings it back to a clean success (NULL: nothing to do). */
    void (*recovered)(struct fx *fx, unsigned n);
    /* Around each run (NULL: nothing): prepare before the "before" snapshot, finish
     * once the run is checked and before the fabric is brought back. */
    void (*prepare)(struct fx *fx);
    void (*finish)(struct fx *fx);
    /* Records may be left under another lease (fabric_open's, which nobody keeps
     * alive after a failed start: they go when it expires); their text must not differ. */
    bool leases_may_change;
    /* A bridge may be deleted and made again by the undo (put back under its vxlan
     * device): links' ifindexes and bridges' MACs may differ; nothing else may. */
    bool bridges_may_be_remade;
};

/* store with every non-zero lease written "(lease L)", in place. */
static void mask_leases(char *store)
{
    for (char *p = strstr(store, "(lease "); p; p = strstr(p + 1, "(lease ")) {
        char *end = strchr(p, ')');
        if (!end || p[7] == '0')
            continue;
        memmove(p + 8, end, strlen(end) + 1);
        p[7] = 'L';
    }
}

/* kernel with every link's ifindex written "#N" and every bridge's MAC "mac=M",
 * in place. */
static void mask_remade_bridges(char *kernel)
{
    for (char *p = strstr(kernel, " #"); p; p = strstr(p + 1, " #")) {
        char *end = p + 2;
        while (*end >= '0' && *end <= '9')
            end++;
        if (end == p + 2)
            continue;
        memmove(p + 3, end, strlen(end) + 1);
        p[2] = 'N';
    }
    for (char *p = strstr(kernel, " bridge "); p; p = strstr(p + 1, " bridge ")) {
        char *mac = strstr(p, " mac="), *eol = strchr(p, '\n');
        if (!mac || (eol && mac > eol) || strlen(mac) < 22)
            continue;
        memmove(mac + 6, mac + 22, strlen(mac + 22) + 1);
        mac[5] = 'M';
    }
}

struct tally {
    unsigned calls;     /* calls of the kind the op makes */
    unsigned failed;    /* runs that failed and were checked whole */
    unsigned recovered; /* runs that worked around the failure */
};

static unsigned long undo_runs; /* for the closing line: checked runs in all */

static const char *kind_name(enum fault_kind kind)
{
    return kind == FAULT_STORE ? "store" : kind == FAULT_NETLINK ? "netlink" : "any";
}

/* One failed run: the message, nothing half-made, and a retry that succeeds. */
static void check_failed_run(struct fx *fx, const struct undo_case *c, enum fault_kind kind,
                             unsigned n, const char *kernel, const char *store,
                             const struct weft_err *err)
{
    if (!err->msg[0])
        fail_msg("%s: %s call %u failed it without a message", c->name, kind_name(kind), n);
    print_message("  %s, %s call %u fails: %s\n", c->name, kind_name(kind), n, err->msg);
    fx_settle();
    char *kernel_after = fx_kernel_text(), *store_after = fx_store_text();
    char *kernel_before = strdup(kernel), *store_before = strdup(store);
    assert_non_null(kernel_before);
    assert_non_null(store_before);
    if (c->bridges_may_be_remade) {
        mask_remade_bridges(kernel_before);
        mask_remade_bridges(kernel_after);
    }
    if (strcmp(kernel_before, kernel_after) != 0)
        print_message("kernel before:\n%skernel after:\n%s", kernel_before, kernel_after);
    assert_string_equal(kernel_after, kernel_before);
    free(kernel_before);
    if (c->leases_may_change) {
        mask_leases(store_before);
        mask_leases(store_after);
    }
    if (strcmp(store_before, store_after) != 0)
        print_message("store before:\n%sstore after:\n%s", store_before, store_after);
    assert_string_equal(store_after, store_before);
    free(store_before);
    free(kernel_after);
    free(store_after);
    struct weft_err retry_err = {0};
    if (c->op(fx, &retry_err) < 0)
        fail_msg("%s: the retry after %s call %u failed: %s", c->name, kind_name(kind), n,
                 retry_err.msg);
    fx_settle();
}

static void drive(struct fx *fx, const struct undo_case *c, enum fault_kind kind)
{
    struct tally t = {0};
    for (unsigned n = 1;; n++) {
        if (n > 200)
            fail_msg("%s: still failing after 200 %s calls", c->name, kind_name(kind));
        fx_settle();
        if (c->prepare)
            c->prepare(fx);
        char *kernel = fx_kernel_text(), *store = fx_store_text();
        struct weft_err err = {0};
        fault_arm_thread(kind, n);
        int rc = c->op(fx, &err);
        bool fired = fault_fired();
        fault_disarm();
        if (!fired && rc < 0)
            fail_msg("%s failed with no fault: %s", c->name, err.msg);
        if (fired && rc < 0) {
            t.failed++;
            check_failed_run(fx, c, kind, n, kernel, store, &err);
        }
        if (c->finish)
            c->finish(fx);
        if (fired && rc == 0) {
            t.recovered++;
            print_message("  %s, %s call %u fails: worked around\n", c->name, kind_name(kind), n);
            if (c->recovered)
                c->recovered(fx, n);
        }
        t.calls = fired ? n : n - 1;
        fx_settle();
        c->restore(fx);
        undo_runs++;
        free(kernel);
        free(store);
        if (!fired)
            break;
    }
    print_message("%s: %u %s calls; %u failures undone, %u worked around\n", c->name, t.calls,
                  kind_name(kind), t.failed, t.recovered);
}

static void drive_both(struct fx *fx, const struct undo_case *c)
{
    drive(fx, c, FAULT_STORE);
    drive(fx, c, FAULT_NETLINK);
}

/* ---------- the requests ---------- */

static int op_network_create(struct fx *fx, struct weft_err *err)
{
    struct fabric_network_spec spec = fx_network("a1", FX_SUBNET);
    return fabric_network_create(fx->fabric, &spec, err);
}

static int op_network_delete(struct fx *fx, struct weft_err *err)
{
    return delete_network(fx, "a1", err);
}

static void restore_network_create(struct fx *fx)
{
    struct weft_err err = {0};
    if (delete_network(fx, "a1", &err) < 0)
        fail_msg("network delete: %s", err.msg);
}

static void restore_network_delete(struct fx *fx)
{
    create_network(fx, "a1", FX_SUBNET);
}

static int op_endpoint_create(struct fx *fx, struct weft_err *err)
{
    struct fabric_endpoint_spec spec = fx_endpoint("a1", "e1", "10.77.0.5");
    uint8_t mac[6];
    return fabric_endpoint_create(fx->fabric, &spec, mac, err);
}

static int op_endpoint_delete(struct fx *fx, struct weft_err *err)
{
    return delete_endpoint(fx, "a1", "e1", err);
}

static void restore_endpoint_create(struct fx *fx)
{
    struct weft_err err = {0};
    if (delete_endpoint(fx, "a1", "e1", &err) < 0)
        fail_msg("endpoint delete: %s", err.msg);
}

static void restore_endpoint_delete(struct fx *fx)
{
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
}

static int op_join(struct fx *fx, struct weft_err *err)
{
    char net[FABRIC_ID_MAX], ep[FABRIC_ID_MAX];
    fx_id(net, "a1");
    fx_id(ep, "e1");
    struct fabric_join_info info;
    if (fabric_join(fx->fabric, net, ep, &info, err) < 0)
        return -1;
    return fabric_leave(fx->fabric, net, ep, err);
}

/* ---------- what a worked-around failure leaves ---------- */

static void restart(struct fx *fx)
{
    fx_close(fx);
    fx_open(fx);
}

/* The network is gone. A spare whose deletion failed is left (drop_spares passes no
 * error), and a failed release leaves the overlay's records (best effort, said
 * release_overlay_if_unused): nothing else. A restart removes leftover spares (then
 * fx_settle finds exactly FX_SPARES per bridge). */
static void network_delete_recovered(struct fx *fx, unsigned n)
{
    (void)n;
    assert_int_equal(fake_kernel_link_count("wbr"), 1); /* z9's only */
    assert_int_equal(fake_kernel_link_count("wvx"), 1);
    restart(fx);
}

/* program_subnet's batch failed (logged): the network is made, and the batch's
 * entries were sent again one at a time, so the kernel has all of them (the
 * batch's failed entry, its first, too) without waiting for the next listing. */
static void network_create_recovered(struct fx *fx, unsigned n)
{
    (void)fx;
    struct segment_devices dev;
    segment_names(overlay_vni(FX_SUBNET), &dev);
    assert_true(fake_kernel_link(dev.vxlan, NULL));
    /* flooding + peer fdb, peer neighbour */
    int entries = fake_kernel_fdb_count(dev.vxlan) + fake_kernel_neigh_count(dev.vxlan);
    if (entries != 3)
        fail_msg("call %u: %d of 3 remote entries programmed", n, entries);
}

/* Taking the spare failed: it is deleted and the endpoint gets a pair of its own. */
static void endpoint_create_recovered(struct fx *fx, unsigned n)
{
    (void)fx;
    (void)n;
    char host_name[IF_NAMESIZE], peer_name[IF_NAMESIZE], ep[FABRIC_ID_MAX];
    fx_id(ep, "e1");
    segment_endpoint_names(ep, host_name, peer_name);
    struct fake_link host;
    assert_true(fake_kernel_link(host_name, &host));
    assert_true(host.up);
    assert_int_equal(strncmp(host.alias, VETH_ALIAS_TAG " ", 6), 0);
    assert_int_equal(fake_kernel_alias_count(VETH_ALIAS_TAG " "), 1); /* the failed spare is gone */
}

/* A barrier for network delete: which spare deletions it makes itself depends on
 * whether the spare maker was still pushing its last spare (then the maker deletes
 * it), which would shift the count of calls by one. A second network's endpoint
 * takes a spare while the spare maker is held: once it waits making the next one,
 * every spare it made before is pushed. */
static void hold_spare_maker(struct fx *fx)
{
    fake_kernel_hold_spares(true);
    fx_expect_spares = false;
    uint8_t mac[6];
    create_endpoint(fx, "z9", "b1", "10.99.0.5", mac);
    assert_true(fake_kernel_wait_held(1, FX_WAIT_MS));
    fx_settle();
}

static void release_spare_maker(struct fx *fx)
{
    fake_kernel_hold_spares(false);
    struct weft_err err = {0};
    if (delete_endpoint(fx, "z9", "b1", &err) < 0)
        fail_msg("endpoint delete: %s", err.msg);
    fx_expect_spares = true;
}

/* ---------- a restart ---------- */

static int op_open(struct fx *fx, struct weft_err *err)
{
    return fx_try_open(fx, err);
}

/* The address record IPAM keeps for e1 (10.77.0.5, this host's). */
static void addr_key(char key[WEFT_KEY_MAX])
{
    key_addr(key, FX_SUBNET, "10.77.0.5");
}

static void put_addr(void)
{
    struct addr_record rec = {0};
    snprintf(rec.host, sizeof(rec.host), "%s", FX_HOST);
    snprintf(rec.kind, sizeof(rec.kind), "endpoint");
    snprintf(rec.claim, sizeof(rec.claim), "test");
    char key[WEFT_KEY_MAX], *text = addr_record_encode(&rec);
    assert_non_null(text);
    addr_key(key);
    fake_store_put(key, text, 0);
    free(text);
}

/* fabric_open got through a failed call (logged): the network and the endpoint are
 * adopted, with their devices, and the endpoint keeps its address. */
static void open_recovered(struct fx *fx, unsigned n)
{
    char net[FABRIC_ID_MAX], ep[FABRIC_ID_MAX], key[WEFT_KEY_MAX];
    fx_id(net, "a1");
    fx_id(ep, "e1");
    struct fabric_endpoint_info info;
    struct weft_err err = {0};
    if (fabric_endpoint_info(fx->fabric, net, ep, &info, &err) < 0)
        fail_msg("call %u: the endpoint was not adopted: %s", n, err.msg);
    /* A network whose devices cannot be made fails the start (adopt_network). */
    struct fake_link bridge, vxlan;
    if (!info.bridge[0] || !info.vxlan[0] || !fake_kernel_link(info.bridge, &bridge) ||
        !fake_kernel_link(info.vxlan, &vxlan))
        fail_msg("call %u: the network was adopted without its devices", n);
    assert_true(bridge.up);
    assert_true(vxlan.up);
    /* A failed lookup of its veth is no proof it vanished (adopt_endpoint). */
    addr_key(key);
    if (!has_key(key))
        fail_msg("call %u: a live endpoint's address was released", n);
}

static void restore_open(struct fx *fx)
{
    fx_close(fx);
}

static void restore_nothing(struct fx *fx)
{
    (void)fx;
}

/* ---------- the tests ---------- */

static void network_create_undoes(void **state)
{
    struct undo_case c = {
        .name = "network create",
        .op = op_network_create,
        .restore = restore_network_create,
    };
    drive_both(*state, &c);
}

/* The overlay exists (another host has it): nothing to release on failure. */
static void network_create_on_existing_overlay_undoes(void **state)
{
    char key[WEFT_KEY_MAX];
    struct overlay_record overlay = {.vni = 4242};
    snprintf(overlay.subnet, sizeof(overlay.subnet), "%s", FX_SUBNET);
    char *text = overlay_record_encode(&overlay);
    key_overlay(key, FX_SUBNET);
    fake_store_put(key, text, 0);
    free(text);
    key_vni(key, 4242);
    fake_store_put(key, FX_SUBNET, 0);
    int64_t lease = fake_store_grant();
    put_member(FX_SUBNET, lease);
    put_remote(FX_SUBNET, "10.77.0.9", "02:42:0a:4d:00:09", lease);
    struct undo_case c = {
        .name = "network create (overlay exists, remote peers)",
        .op = op_network_create,
        .restore = restore_network_create,
        .recovered = network_create_recovered,
    };
    drive_both(*state, &c);
}

static void network_delete_undoes(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "z9", "10.99.0.0/24");
    create_network(fx, "a1", FX_SUBNET);
    struct undo_case c = {
        .name = "network delete",
        .op = op_network_delete,
        .restore = restore_network_delete,
        .recovered = network_delete_recovered,
        .bridges_may_be_remade = true,
        .prepare = hold_spare_maker,
        .finish = release_spare_maker,
    };
    drive_both(fx, &c);
}

static void endpoint_create_undoes(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    struct undo_case c = {
        .name = "endpoint create (spare taken)",
        .op = op_endpoint_create,
        .restore = restore_endpoint_create,
        .recovered = endpoint_create_recovered,
    };
    drive_both(fx, &c);
}

/* No spare ready (the spare maker is held): CreateEndpoint makes its own pair. */
static void endpoint_create_without_spare_undoes(void **state)
{
    struct fx *fx = *state;
    fake_kernel_hold_spares(true);
    fx_expect_spares = false;
    create_network(fx, "a1", FX_SUBNET);
    assert_true(fake_kernel_wait_held(1, FX_WAIT_MS));
    struct undo_case c = {
        .name = "endpoint create (own pair)",
        .op = op_endpoint_create,
        .restore = restore_endpoint_create,
    };
    drive_both(fx, &c);
    fake_kernel_hold_spares(false);
    fx_expect_spares = true;
}

static void endpoint_delete_undoes(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    restore_endpoint_delete(fx);
    struct undo_case c = {
        .name = "endpoint delete",
        .op = op_endpoint_delete,
        .restore = restore_endpoint_delete,
    };
    drive_both(fx, &c);
}

static void join_needs_no_undo(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    restore_endpoint_delete(fx);
    struct undo_case c = {
        .name = "join and leave",
        .op = op_join,
        .restore = restore_nothing,
    };
    drive_both(fx, &c);
}

/* A restart that fails (fabric_open's unwind is fabric_close): the kernel as it was,
 * the records as they were (under the failed start's lease, see leases_may_change). */
static void open_undoes(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    restore_endpoint_delete(fx);
    put_addr();
    fx_settle();
    fx_close(fx);
    fx_expect_spares = false; /* a closed fabric has none */
    struct undo_case c = {
        .name = "fabric open (a network and an endpoint to adopt)",
        .op = op_open,
        .restore = restore_open,
        .recovered = open_recovered,
        .leases_may_change = true,
    };
    drive_both(fx, &c);
    fx_expect_spares = true;
    fx_open(fx);
}

static int report(void **state)
{
    (void)state;
    print_message("undo runs checked: %lu\n", undo_runs);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(network_create_undoes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(network_create_on_existing_overlay_undoes, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(network_delete_undoes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(endpoint_create_undoes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(endpoint_create_without_spare_undoes, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(endpoint_delete_undoes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(join_needs_no_undo, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(open_undoes, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
