/*
 * test_fabric_claims.c: each record is one host's claim, believed only from its
 * owner's prefix (fabric/<host>/, its body naming <host>). Two hosts claiming one
 * address: this host programs the older claim (the smaller create revision), never
 * the newer, the newer once the older goes, and the older again after a listing that
 * holds both in the other order; the conflict is counted once. A claim of an address
 * an endpoint here holds waits until the endpoint goes.
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

#define CLAIMED "10.77.0.9"
#define OLDER_MAC "02:42:0a:4d:00:09"
#define NEWER_MAC "02:42:0a:4d:99:09"

static const uint8_t older_mac[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x09};
static const uint8_t newer_mac[6] = {0x02, 0x42, 0x0a, 0x4d, 0x99, 0x09};

/* The fabric's counters, read under its lock. */
static unsigned long counter(struct fx *fx, bool contested)
{
    pthread_mutex_lock(&fx->fabric->lock);
    unsigned long n =
        contested ? fx->fabric->claims_contested : fx->fabric->records_rejected;
    pthread_mutex_unlock(&fx->fabric->lock);
    return n;
}

/* Network a1 on FX_SUBNET, the other two hosts members of it; its VXLAN device. */
static void overlay_of_three(struct fx *fx, int64_t lease, struct segment_devices *dev)
{
    create_network(fx, "a1", FX_SUBNET);
    put_member_of(FX_OTHER_HOST, FX_SUBNET, lease);
    put_member_of(FX_THIRD_HOST, FX_SUBNET, lease);
    fx_settle();
    segment_names(overlay_vni(FX_SUBNET), dev);
}

/* The kernel holds exactly one claim of CLAIMED: mac at vtep. */
static void assert_programmed(const struct segment_devices *dev, const uint8_t mac[6],
                              const char *vtep)
{
    const uint8_t *other = mac == older_mac ? newer_mac : older_mac;
    assert_true(fake_kernel_has_neigh(dev->vxlan, fx_ip(CLAIMED), mac));
    assert_true(fake_kernel_has_fdb(dev->vxlan, mac, fx_ip(vtep)));
    assert_int_equal(fake_kernel_neigh_count(dev->vxlan), 1);
    assert_false(fake_kernel_has_fdb(dev->vxlan, other, fx_ip(FX_OTHER_HOST)));
    assert_false(fake_kernel_has_fdb(dev->vxlan, other, fx_ip(FX_THIRD_HOST)));
}

/* A peer under one host's prefix naming another host's VTEP (a host redirecting
 * another's traffic, or writing for it) is refused and counted, never programmed;
 * so is one under another host's prefix naming this host. */
static void peer_naming_another_host_is_refused(void **state)
{
    struct fx *fx = *state;
    struct segment_devices dev;
    overlay_of_three(fx, fake_store_grant(), &dev);
    char key[WEFT_KEY_MAX];
    struct peer_record peer = {.ip = CLAIMED, .mac = OLDER_MAC, .vtep = FX_THIRD_HOST};
    char *text = peer_record_encode(&peer);
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, CLAIMED);
    fake_store_put(key, text, 0);
    free(text);
    snprintf(peer.vtep, sizeof(peer.vtep), "%s", FX_HOST);
    snprintf(peer.ip, sizeof(peer.ip), "10.77.0.10");
    text = peer_record_encode(&peer);
    key_peer(key, FX_THIRD_HOST, FX_SUBNET, "10.77.0.10");
    fake_store_put(key, text, 0);
    free(text);
    fx_settle();
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 0);
    assert_int_equal(fake_kernel_fdb_count(dev.vxlan), 2); /* the members' flooding only */
    assert_int_equal(counter(fx, false), 2);
}

/* Two hosts claim one address: the older claim is programmed, the newer not, and
 * the conflict counted once; the older's DELETE programs the newer. */
static void older_claim_wins_until_it_goes(void **state)
{
    struct fx *fx = *state;
    struct segment_devices dev;
    int64_t lease = fake_store_grant();
    overlay_of_three(fx, lease, &dev);
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, CLAIMED, OLDER_MAC, lease);
    fx_settle();
    assert_programmed(&dev, older_mac, FX_OTHER_HOST);
    put_remote_of(FX_THIRD_HOST, FX_SUBNET, CLAIMED, NEWER_MAC, lease);
    fx_settle();
    assert_programmed(&dev, older_mac, FX_OTHER_HOST);
    assert_int_equal(counter(fx, true), 1);
    /* Written again (a new revision, the same key): still older, still counted once. */
    put_remote_of(FX_THIRD_HOST, FX_SUBNET, CLAIMED, NEWER_MAC, lease);
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, CLAIMED, OLDER_MAC, lease);
    fx_settle();
    assert_programmed(&dev, older_mac, FX_OTHER_HOST);
    assert_int_equal(counter(fx, true), 1);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, CLAIMED);
    fake_store_delete(key);
    fx_settle();
    assert_programmed(&dev, newer_mac, FX_THIRD_HOST);
    /* Its host coming back makes a newer claim: the standing one keeps the address. */
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, CLAIMED, OLDER_MAC, lease);
    fx_settle();
    assert_programmed(&dev, newer_mac, FX_THIRD_HOST);
    assert_int_equal(counter(fx, true), 2); /* a new claim of the other host, losing */
    assert_int_equal(counter(fx, false), 0);
}

/* A listing that holds both claims, the newer listed first (keys sort by host, not
 * by age), programs the older; a second listing counts nothing again. */
static void listing_programs_the_older_claim(void **state)
{
    struct fx *fx = *state;
    struct segment_devices dev;
    int64_t lease = fake_store_grant();
    overlay_of_three(fx, lease, &dev);
    fake_store_set_down(true); /* this host hears of both only through the listing */
    put_remote_of(FX_THIRD_HOST, FX_SUBNET, CLAIMED, OLDER_MAC, lease);
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, CLAIMED, NEWER_MAC, lease);
    fake_store_set_down(false);
    fx_settle();
    assert_programmed(&dev, older_mac, FX_THIRD_HOST);
    assert_int_equal(counter(fx, true), 1);
    fake_store_set_down(true);
    fake_store_set_down(false);
    fx_settle();
    assert_programmed(&dev, older_mac, FX_THIRD_HOST);
    assert_int_equal(counter(fx, true), 1);
}

/* While the older claim's key was deleted and written again unheard, the listing
 * after shows it younger: the win moves, and the kernel follows. */
static void claim_created_again_unheard_loses(void **state)
{
    struct fx *fx = *state;
    struct segment_devices dev;
    int64_t lease = fake_store_grant();
    overlay_of_three(fx, lease, &dev);
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, CLAIMED, OLDER_MAC, lease);
    put_remote_of(FX_THIRD_HOST, FX_SUBNET, CLAIMED, NEWER_MAC, lease);
    fx_settle();
    assert_programmed(&dev, older_mac, FX_OTHER_HOST);
    fake_store_set_down(true);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, CLAIMED);
    fake_store_delete(key);
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, CLAIMED, OLDER_MAC, lease);
    fake_store_set_down(false);
    fx_settle();
    assert_programmed(&dev, newer_mac, FX_THIRD_HOST);
}

/* Another host's claim made without a MAC: the address claimed at its allocation. */
static void put_bare_claim_of(const char *host, const char *ip, int64_t lease)
{
    char key[WEFT_KEY_MAX];
    struct peer_record peer = {0};
    snprintf(peer.ip, sizeof(peer.ip), "%s", ip);
    snprintf(peer.vtep, sizeof(peer.vtep), "%s", host);
    char *text = peer_record_encode(&peer);
    assert_non_null(text);
    assert_null(strstr(text, "mac"));
    key_peer(key, host, FX_SUBNET, ip);
    fake_store_put(key, text, lease);
    free(text);
}

/* An address another host claimed while it was free (a host broken into, ahead of
 * IPAM) is refused when this host's IPAM takes it: the claim names the holder,
 * counts once, and leaves no claim of this host behind. */
static void address_claimed_first_elsewhere_is_refused(void **state)
{
    struct fx *fx = *state;
    struct segment_devices dev;
    int64_t lease = fake_store_grant();
    overlay_of_three(fx, lease, &dev);
    put_bare_claim_of(FX_OTHER_HOST, CLAIMED, lease);
    fx_settle();
    assert_true(fabric_address_claimed_elsewhere(fx->fabric, FX_SUBNET, ntohl(fx_ip(CLAIMED))));
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 0); /* a bare claim programs nothing */
    struct weft_err err = {0};
    assert_int_equal(fabric_claim_address(fx->fabric, FX_SUBNET, CLAIMED, &err), -1);
    assert_int_equal(err.code, -EADDRINUSE);
    assert_non_null(strstr(err.msg, FX_OTHER_HOST));
    assert_int_equal(counter(fx, true), 1);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_HOST, FX_SUBNET, CLAIMED);
    assert_true(fake_store_wait_key(key, false, FX_WAIT_MS));
}

/* This host's claim, made first, stands: a later claim of another host is younger.
 * Seen from a third host: the first claim (bare) wins, so the later one is never
 * programmed; once the first host's endpoint fills its record in, that is. */
static void claim_made_at_allocation_wins(void **state)
{
    struct fx *fx = *state;
    struct segment_devices dev;
    int64_t lease = fake_store_grant();
    overlay_of_three(fx, lease, &dev);
    struct weft_err err = {0};
    assert_int_equal(fabric_claim_address(fx->fabric, FX_SUBNET, "10.77.0.10", &err), 0);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_HOST, FX_SUBNET, "10.77.0.10");
    char *mine = fake_store_get(key, NULL);
    assert_non_null(mine);
    assert_null(strstr(mine, "mac")); /* a claim only: no endpoint yet */
    free(mine);
    assert_int_equal(counter(fx, false), 0); /* read back as this host's own, not refused */

    put_bare_claim_of(FX_OTHER_HOST, CLAIMED, lease);
    put_remote_of(FX_THIRD_HOST, FX_SUBNET, CLAIMED, NEWER_MAC, lease);
    fx_settle();
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 0);
    assert_false(fake_kernel_has_fdb(dev.vxlan, newer_mac, fx_ip(FX_THIRD_HOST)));
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, CLAIMED, OLDER_MAC, lease); /* its endpoint */
    fx_settle();
    assert_programmed(&dev, older_mac, FX_OTHER_HOST);

    assert_int_equal(fabric_unclaim_address(fx->fabric, FX_SUBNET, "10.77.0.10", &err), 0);
    assert_true(fake_store_wait_key(key, false, FX_WAIT_MS));
}

/* A watch that lags (its member gone silent) does not hold a claim up: the claim reads
 * what the watch has not delivered yet, and still finds an older claim of another host. */
static void lagging_watch_still_finds_older_claim(void **state)
{
    struct fx *fx = *state;
    struct segment_devices dev;
    int64_t lease = fake_store_grant();
    overlay_of_three(fx, lease, &dev);
    fake_store_hold_watches(true);
    put_bare_claim_of(FX_OTHER_HOST, CLAIMED, lease); /* unheard by this host */
    put_bare_claim_of(FX_THIRD_HOST, "10.77.0.11", lease);
    struct weft_err err = {0};
    assert_int_equal(fabric_claim_address(fx->fabric, FX_SUBNET, CLAIMED, &err), -1);
    assert_int_equal(err.code, -EADDRINUSE);
    assert_non_null(strstr(err.msg, FX_OTHER_HOST));
    /* An address nobody else claimed is this host's, the watch still silent. */
    assert_int_equal(fabric_claim_address(fx->fabric, FX_SUBNET, "10.77.0.12", &err), 0);
    fake_store_hold_watches(false);
    fx_settle();
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_HOST, FX_SUBNET, CLAIMED);
    assert_false(has_key(key));
    key_peer(key, FX_HOST, FX_SUBNET, "10.77.0.12");
    assert_true(has_key(key));
}

/* Another host's claim of an address an endpoint here holds is never programmed
 * (noted once); once the endpoint goes it is. This host's own records never enter
 * the table: its peer record stands for its endpoint. */
static void claim_of_a_local_address_waits(void **state)
{
    struct fx *fx = *state;
    struct segment_devices dev;
    int64_t lease = fake_store_grant();
    overlay_of_three(fx, lease, &dev);
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", CLAIMED, mac);
    fx_settle();
    put_remote_of(FX_OTHER_HOST, FX_SUBNET, CLAIMED, OLDER_MAC, lease);
    fx_settle();
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 0);
    assert_int_equal(counter(fx, true), 1);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_HOST, FX_SUBNET, CLAIMED);
    assert_true(has_key(key)); /* this host's claim, under its own prefix */
    struct weft_err err = {0};
    assert_int_equal(delete_endpoint(fx, "a1", "e1", &err), 0);
    fx_settle();
    assert_false(has_key(key));
    assert_programmed(&dev, older_mac, FX_OTHER_HOST);
    assert_int_equal(counter(fx, true), 1);
}

/* Joining writes the member record and the joined/ index entry; leaving deletes
 * both, and the overlay goes with the last host. */
static void member_and_joined_index_go_together(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    char member[WEFT_KEY_MAX], joined[WEFT_KEY_MAX], overlay[WEFT_KEY_MAX];
    key_member(member, FX_HOST, FX_SUBNET);
    key_joined(joined, FX_SUBNET, FX_HOST);
    key_overlay(overlay, FX_SUBNET);
    int64_t member_lease = 0, joined_lease = 0;
    char *a = fake_store_get(member, &member_lease), *b = fake_store_get(joined, &joined_lease);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(member_lease != 0);
    assert_int_equal(joined_lease, member_lease);
    free(a);
    free(b);
    /* Another host still joined keeps the overlay. */
    int64_t lease = fake_store_grant();
    char other_joined[WEFT_KEY_MAX];
    key_joined(other_joined, FX_SUBNET, FX_OTHER_HOST);
    fake_store_put(other_joined, "{\"vtep\":\"" FX_OTHER_HOST "\"}", lease);
    struct weft_err err = {0};
    assert_int_equal(delete_network(fx, "a1", &err), 0);
    assert_false(has_key(member));
    assert_false(has_key(joined));
    assert_true(has_key(overlay));
    create_network(fx, "a1", FX_SUBNET);
    fake_store_expire_lease(lease);
    assert_int_equal(delete_network(fx, "a1", &err), 0);
    fx_settle();
    assert_false(has_key(overlay));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(peer_naming_another_host_is_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(older_claim_wins_until_it_goes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(listing_programs_the_older_claim, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(claim_created_again_unheard_loses, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(claim_of_a_local_address_waits, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(address_claimed_first_elsewhere_is_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(claim_made_at_allocation_wins, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(lagging_watch_still_finds_older_claim, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(member_and_joined_index_go_together, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
