/*
 * test_fabric_members.c: per-member watches (fabric/member_watch.c, --store-watch
 * grpc). This host hears the records of its overlays' members only: another overlay's
 * stay out of its table until it joins that overlay; a member leaving joined/ takes its
 * entries with it, and so does this host's network going. Claims read their
 * competitors from the store: a member's older claim loses this host the address; a
 * non-member's does not, and stays a claim nowhere once its host joins (its member
 * record is younger than the claim).
 */
#include "tests/fakes/fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fabric/fabric_internal.h"
#include "store/keys.h"
#include "store/records.h"
#include "tests/fakes/fake_kernel.h"
#include "tests/fakes/fake_store.h"
#include "vxlan/segment.h"

#define OTHER_SUBNET "10.88.0.0/24"
#define CLAIMED "10.77.0.9"

static const uint8_t mac_x[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x05};
static const uint8_t mac_y[6] = {0x02, 0x42, 0x0a, 0x58, 0x00, 0x05};

/* host joins subnet's overlay as a daemon does: its member record and joined/ entry. */
static void join_of(const char *host, const char *subnet, int64_t lease)
{
    char key[WEFT_KEY_MAX];
    struct member_record member = {0};
    snprintf(member.vtep, sizeof(member.vtep), "%s", host);
    char *text = member_record_encode(&member);
    assert_non_null(text);
    put_member_of(host, subnet, lease);
    key_joined(key, subnet, host);
    fake_store_put(key, text, lease);
    free(text);
}

static void put_bare_claim_of(const char *host, const char *ip)
{
    char key[WEFT_KEY_MAX];
    struct peer_record peer = {0};
    snprintf(peer.ip, sizeof(peer.ip), "%s", ip);
    snprintf(peer.vtep, sizeof(peer.vtep), "%s", host);
    char *text = peer_record_encode(&peer);
    assert_non_null(text);
    key_peer(key, host, FX_SUBNET, ip);
    fake_store_put(key, text, 0);
    free(text);
}

/* What the table holds of host on subnet (its member record and peers), under the lock. */
static size_t entries_of(struct fx *fx, const char *host, const char *subnet)
{
    struct ip_addr vtep;
    assert_int_equal(ip_addr_parse(host, &vtep, NULL), 0);
    size_t n = 0;
    pthread_mutex_lock(&fx->fabric->lock);
    for (const struct remote_entry *r = fx->fabric->remotes.head; r; r = r->next)
        n += ip_addr_equal(&r->vtep, &vtep) && strcmp(r->subnet, subnet) == 0;
    pthread_mutex_unlock(&fx->fabric->lock);
    return n;
}

static unsigned long rejected(struct fx *fx)
{
    pthread_mutex_lock(&fx->fabric->lock);
    unsigned long n = fx->fabric->records_rejected;
    pthread_mutex_unlock(&fx->fabric->lock);
    return n;
}

/* OTHER shares this host's overlay X, THIRD is alone on Y: Y's records stay out of this
 * host's table (its watch never reads them) until this host joins Y too. OTHER, heard
 * joining by the watch, is watched from its joined/ entry's revision (no listing);
 * THIRD, named by Y's listing, is listed. */
static void other_overlays_stay_unheard_until_joined(void **state)
{
    struct fx *fx = *state;
    int64_t lease = fake_store_grant();
    struct segment_devices x, y;
    size_t from0 = fake_store_watch_adds_from();
    create_network(fx, "x", FX_SUBNET);
    join_of(FX_OTHER_HOST, FX_SUBNET, lease);
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, "10.77.0.5", "02:42:0a:4d:00:05", lease);
    join_of(FX_THIRD_HOST, OTHER_SUBNET, lease);
    put_remote_of(FX_THIRD_HOST, OTHER_SUBNET, "10.88.0.5", "02:42:0a:58:00:05", lease);
    fx_settle();
    assert_int_equal(fake_store_watch_adds_from() - from0, 1);
    segment_names(overlay_vni(FX_SUBNET), &x);
    assert_true(fake_kernel_has_neigh(x.vxlan, fx_ip("10.77.0.5"), mac_x));
    assert_true(fake_kernel_has_fdb(x.vxlan, mac_x, fx_ip(FX_OTHER_HOST)));
    assert_int_equal(entries_of(fx, FX_OTHER_HOST, FX_SUBNET), 2);
    assert_int_equal(entries_of(fx, FX_THIRD_HOST, OTHER_SUBNET), 0);

    create_network(fx, "y", OTHER_SUBNET);
    fx_settle();
    segment_names(overlay_vni(OTHER_SUBNET), &y);
    assert_int_equal(entries_of(fx, FX_THIRD_HOST, OTHER_SUBNET), 2);
    assert_int_equal(fake_store_watch_adds_from() - from0, 1);
    assert_true(fake_kernel_has_neigh(y.vxlan, fx_ip("10.88.0.5"), mac_y));
    assert_true(fake_kernel_has_fdb(y.vxlan, mac_y, fx_ip(FX_THIRD_HOST)));
}

/* An endpoint's removal reaches the kernel; a member gone from joined/ takes its
 * entries with it; this host's network going drops the overlay's entries, and the
 * network made again picks them up. */
static void members_and_networks_going_take_their_entries(void **state)
{
    struct fx *fx = *state;
    int64_t lease = fake_store_grant();
    struct segment_devices x;
    char key[WEFT_KEY_MAX];
    create_network(fx, "x", FX_SUBNET);
    join_of(FX_OTHER_HOST, FX_SUBNET, lease);
    join_of(FX_THIRD_HOST, FX_SUBNET, lease);
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, "10.77.0.5", "02:42:0a:4d:00:05", lease);
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, "10.77.0.6", "02:42:0a:4d:00:06", lease);
    put_remote_of(FX_THIRD_HOST, FX_SUBNET, "10.77.0.7", "02:42:0a:4d:00:07", lease);
    fx_settle();
    segment_names(overlay_vni(FX_SUBNET), &x);
    assert_int_equal(fake_kernel_neigh_count(x.vxlan), 3);
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, "10.77.0.6");
    fake_store_delete(key);
    fx_settle();
    assert_int_equal(fake_kernel_neigh_count(x.vxlan), 2);

    key_joined(key, FX_SUBNET, FX_OTHER_HOST);
    fake_store_delete(key);
    fx_settle();
    assert_int_equal(entries_of(fx, FX_OTHER_HOST, FX_SUBNET), 0);
    assert_false(fake_kernel_has_neigh(x.vxlan, fx_ip("10.77.0.5"), mac_x));
    assert_int_equal(fake_kernel_neigh_count(x.vxlan), 1);

    struct weft_err err = {0};
    assert_int_equal(delete_network(fx, "x", &err), 0);
    fx_settle();
    assert_int_equal(entries_of(fx, FX_THIRD_HOST, FX_SUBNET), 0);
    create_network(fx, "x", FX_SUBNET);
    fx_settle();
    assert_int_equal(entries_of(fx, FX_THIRD_HOST, FX_SUBNET), 2);
    assert_int_equal(fake_kernel_neigh_count(x.vxlan), 1);
}

/* Marks the winning claim of ip (set), or tells whether it is still marked: an entry
 * dropped and made again by a listing comes back unmarked. The mark is the entry's
 * "contested" flag, which only quiets a log line. */
static bool mark_peer(struct fx *fx, const char *ip, bool set)
{
    pthread_mutex_lock(&fx->fabric->lock);
    struct remote_entry *r = remote_table_find_peer(&fx->fabric->remotes, FX_SUBNET, fx_ip(ip));
    bool marked = r && (set ? (r->contested = true) : r->contested);
    pthread_mutex_unlock(&fx->fabric->lock);
    return marked;
}

/* After an outage every prefix is listed again, each on its own: a listing drops only its
 * own member's entries (the endpoint that went meanwhile), not another member's. */
static void a_listing_drops_only_its_members_entries(void **state)
{
    struct fx *fx = *state;
    int64_t lease = fake_store_grant();
    struct segment_devices x;
    char key[WEFT_KEY_MAX];
    create_network(fx, "x", FX_SUBNET);
    join_of(FX_OTHER_HOST, FX_SUBNET, lease);
    join_of(FX_THIRD_HOST, FX_SUBNET, lease);
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, "10.77.0.5", "02:42:0a:4d:00:05", lease);
    put_remote_of(FX_THIRD_HOST, FX_SUBNET, "10.77.0.7", "02:42:0a:4d:00:07", lease);
    fx_settle();
    segment_names(overlay_vni(FX_SUBNET), &x);
    assert_int_equal(fake_kernel_neigh_count(x.vxlan), 2);
    assert_true(mark_peer(fx, "10.77.0.7", true));
    fake_store_set_down(true);
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, "10.77.0.5");
    fake_store_delete(key); /* unheard: the watches learn it from their next listing */
    fake_store_set_down(false);
    fx_settle();
    assert_false(fake_kernel_has_neigh(x.vxlan, fx_ip("10.77.0.5"), mac_x));
    assert_int_equal(fake_kernel_neigh_count(x.vxlan), 1);
    assert_int_equal(entries_of(fx, FX_OTHER_HOST, FX_SUBNET), 1); /* its member record */
    assert_int_equal(entries_of(fx, FX_THIRD_HOST, FX_SUBNET), 2);
    assert_true(mark_peer(fx, "10.77.0.7", false)); /* the same entry: never dropped */
}

/* A member's claim older than this host's loses this host the address, read from the
 * store (no watch is waited for): a member the watches know, and one they have not heard
 * of yet (found in joined/ by the same read). */
static void member_claim_made_first_is_refused(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "x", FX_SUBNET);
    join_of(FX_OTHER_HOST, FX_SUBNET, fake_store_grant());
    put_bare_claim_of(FX_OTHER_HOST, CLAIMED);
    fx_settle();
    fake_store_hold_watches(true);
    join_of(FX_THIRD_HOST, FX_SUBNET, fake_store_grant());
    put_bare_claim_of(FX_THIRD_HOST, "10.77.0.11");
    struct weft_err err = {0};
    assert_int_equal(fabric_claim_address(fx->fabric, FX_SUBNET, "10.77.0.11", &err), -1);
    assert_int_equal(err.code, -EADDRINUSE);
    assert_non_null(strstr(err.msg, FX_THIRD_HOST));
    fake_store_hold_watches(false);
    fx_settle();
    assert_int_equal(fabric_claim_address(fx->fabric, FX_SUBNET, CLAIMED, &err), -1);
    assert_int_equal(err.code, -EADDRINUSE);
    assert_non_null(strstr(err.msg, FX_OTHER_HOST));
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_HOST, FX_SUBNET, CLAIMED);
    assert_true(fake_store_wait_key(key, false, FX_WAIT_MS));
    assert_int_equal(fabric_claim_address(fx->fabric, FX_SUBNET, "10.77.0.10", &err), 0);
}

/* A host not in joined/ claims an address first, and another with an endpoint's full
 * record: this host's claim of the first stands, and once that host joins, neither of
 * its claims (older than its member record) enters the table or the kernel. */
static void non_member_claim_cannot_matter(void **state)
{
    struct fx *fx = *state;
    struct segment_devices x;
    create_network(fx, "x", FX_SUBNET);
    put_bare_claim_of(FX_THIRD_HOST, CLAIMED);
    put_remote_of(FX_THIRD_HOST, FX_SUBNET, "10.77.0.11", "02:42:0a:4d:00:0b", 0);
    struct weft_err err = {0};
    assert_int_equal(fabric_claim_address(fx->fabric, FX_SUBNET, CLAIMED, &err), 0);
    unsigned long before = rejected(fx);
    join_of(FX_THIRD_HOST, FX_SUBNET, fake_store_grant());
    fx_settle();
    segment_names(overlay_vni(FX_SUBNET), &x);
    assert_int_equal(entries_of(fx, FX_THIRD_HOST, FX_SUBNET), 1); /* its member record */
    assert_int_equal(fake_kernel_neigh_count(x.vxlan), 0);
    assert_int_equal(rejected(fx), before + 2);
    /* A claim it makes as a member counts. */
    put_remote_of(FX_THIRD_HOST, FX_SUBNET, "10.77.0.12", "02:42:0a:4d:00:0c", 0);
    fx_settle();
    assert_int_equal(entries_of(fx, FX_THIRD_HOST, FX_SUBNET), 2);
    assert_int_equal(fake_kernel_neigh_count(x.vxlan), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(other_overlays_stay_unheard_until_joined, fx_setup_members,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(members_and_networks_going_take_their_entries,
                                        fx_setup_members, fx_teardown),
        cmocka_unit_test_setup_teardown(a_listing_drops_only_its_members_entries, fx_setup_members,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(member_claim_made_first_is_refused, fx_setup_members,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(non_member_claim_cannot_matter, fx_setup_members,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
