/*
 * test_fabric_guards.c: fabric's work outside its lock, made to happen on cue.
 * The fake store holds the publisher's transaction, or the fake kernel holds the
 * spare maker's veth, so a removal waits (lock released) for work in flight, and
 * a second removal of the same thing comes in meanwhile: it must be refused
 * ("being removed already", "being deleted already"), never done twice. Also the
 * publisher's retry, an unreachable store, and a restart that adopts what a
 * stopped daemon left (spares dropped, endpoints kept, unpublished ones published).
 */
#include "tests/fakes/fixture.h"
#include "fabric/veth_alias.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "store/keys.h"
#include "tests/fakes/fake_kernel.h"
#include "tests/fakes/fake_store.h"
#include "tests/fakes/fault.h"
#include "vxlan/segment.h"

/* A request run on its own thread, as Docker sends two at once. */
struct call {
    struct fx *fx;
    bool network; /* fabric_network_delete of "a1", else fabric_endpoint_delete of "e1" */
    int rc;
    struct weft_err err;
    bool done;
    pthread_t thread;
};

static pthread_mutex_t calls_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t calls_done = PTHREAD_COND_INITIALIZER;

static void *run_call(void *arg)
{
    struct call *c = arg;
    struct weft_err err = {0};
    int rc =
        c->network ? delete_network(c->fx, "a1", &err) : delete_endpoint(c->fx, "a1", "e1", &err);
    pthread_mutex_lock(&calls_lock);
    c->rc = rc;
    c->err = err;
    c->done = true;
    pthread_cond_broadcast(&calls_done);
    pthread_mutex_unlock(&calls_lock);
    return NULL;
}

static void start_call(struct call *c, struct fx *fx, bool network)
{
    *c = (struct call){.fx = fx, .network = network};
    assert_int_equal(pthread_create(&c->thread, NULL, run_call, c), 0);
}

/* The first of a and b to answer (while the fake holds the work in flight, the
 * one that waits for it cannot), or NULL at the deadline. */
static struct call *first_done(struct call *a, struct call *b)
{
    struct timespec until = clock_deadline(CLOCK_REALTIME, FX_WAIT_MS);
    int rc = 0;
    pthread_mutex_lock(&calls_lock);
    while (!a->done && !b->done && rc == 0)
        rc = pthread_cond_timedwait(&calls_done, &calls_lock, &until);
    struct call *first = a->done ? a : b->done ? b : NULL;
    pthread_mutex_unlock(&calls_lock);
    return first;
}

static void assert_refused(const struct call *c, const char *why)
{
    assert_non_null(c);
    assert_int_equal(c->rc, -1);
    if (!strstr(c->err.msg, why))
        fail_msg("refused with \"%s\", not \"%s\"", c->err.msg, why);
}

static void join_call(struct call *c)
{
    pthread_join(c->thread, NULL);
}

/* An endpoint being published, removed twice at once: one removal waits for the
 * write, the other is refused; the records written meanwhile are deleted after. */
static void endpoint_removed_twice_while_published(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    fake_store_hold_txns(true);
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    assert_true(fake_store_wait_held(1, FX_WAIT_MS)); /* the publisher's write, in flight */
    struct call a, b;
    start_call(&a, fx, false);
    start_call(&b, fx, false);
    struct call *first = first_done(&a, &b);
    assert_refused(first, "is being removed already");
    fake_store_hold_txns(false);
    join_call(&a);
    join_call(&b);
    struct call *second = first == &a ? &b : &a;
    if (second->rc < 0)
        fail_msg("the waiting removal failed: %s", second->err.msg);
    fx_settle();
    assert_int_equal(fx_host_keys(), 0);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_HOST, FX_SUBNET, "10.77.0.5");
    assert_false(has_key(key));
    assert_int_equal(fake_kernel_alias_count(VETH_ALIAS_TAG " "), 0);
}

/* CreateEndpoint of e1 on network a1, expected to fail: the message. */
static void refused_create(struct fx *fx, char *msg, size_t len)
{
    struct fabric_endpoint_spec spec = fx_endpoint("a1", "e1", "10.77.0.5");
    struct weft_err err = {0};
    uint8_t mac[6];
    assert_int_equal(fabric_endpoint_create(fx->fabric, &spec, mac, &err), -1);
    snprintf(msg, len, "%s", err.msg);
}

/* Waits until the network delete under way has closed a1 (its endpoints are marked
 * removing in the same hold of the lock): from then on CreateEndpoint says the
 * network is going (the check comes first); before, that e1 exists. Polled with a
 * deadline: closing is not visible otherwise. */
static void wait_closing(struct fx *fx)
{
    char msg[WEFT_ERR_MAX] = "";
    struct timespec until = clock_deadline(CLOCK_MONOTONIC, FX_WAIT_MS), now;
    do {
        refused_create(fx, msg, sizeof(msg));
        if (strstr(msg, "is being deleted"))
            break;
        assert_non_null(strstr(msg, "already exists"));
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec < until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec < until.tv_nsec));
    if (!strstr(msg, "is being deleted"))
        fail_msg("CreateEndpoint on the closing network answered \"%s\"", msg);
}

/* A network deleted twice while a spare is being made. Network changes run one at a
 * time (fabric_internal.h, f->changes): the first delete closes the network and waits
 * for the spare, the second waits behind it and then finds no network. Meanwhile a
 * new endpoint on the closing network is refused. */
static void network_deleted_twice_while_spare_in_flight(void **state)
{
    struct fx *fx = *state;
    fake_kernel_hold_spares(true);
    fx_expect_spares = false;
    create_network(fx, "a1", FX_SUBNET);
    assert_true(fake_kernel_wait_held(1, FX_WAIT_MS));
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    struct call a, b;
    start_call(&a, fx, true);
    wait_closing(fx);
    start_call(&b, fx, true);
    fake_kernel_hold_spares(false);
    join_call(&a);
    join_call(&b);
    if (a.rc < 0)
        fail_msg("the first delete failed: %s", a.err.msg);
    assert_refused(&b, "is not a weft network on this host");
    fx_expect_spares = true;
    fx_settle();
    assert_int_equal(fake_kernel_link_count("w"), 0); /* the spare made meanwhile went too */
}

/* A network deleted while its endpoint is being published, and the endpoint deleted
 * at the same moment: whichever comes second meets the endpoint's guard. The
 * endpoint delete starts once the network delete has closed the network: started
 * first, it would make the network delete wait for it (network_close) rather than
 * meet the guard, and neither would answer before the held write is let go. */
static void network_and_endpoint_deleted_while_published(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    fake_store_hold_txns(true);
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    assert_true(fake_store_wait_held(1, FX_WAIT_MS));
    struct call net, ep;
    start_call(&net, fx, true);
    wait_closing(fx);
    start_call(&ep, fx, false);
    struct call *first = first_done(&net, &ep);
    assert_refused(first, "is being removed already");
    fake_store_hold_txns(false);
    join_call(&net);
    join_call(&ep);
    struct call *second = first == &net ? &ep : &net;
    if (second->rc < 0)
        fail_msg("the waiting request failed: %s", second->err.msg);
    struct weft_err err = {0};
    if (first == &net) /* the network stayed (reopened): its delete now goes through */
        assert_int_equal(delete_network(fx, "a1", &err), 0);
    else
        assert_int_equal(delete_network(fx, "a1", &err), -1); /* gone with the first */
    fx_settle();
    assert_int_equal(fake_kernel_link_count("w"), 0);
    assert_int_equal(fx_host_keys(), 0);
}

/* The publisher's write fails once: it retries, and the records arrive. */
static void publisher_retries(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    /* Call 1 is CreateEndpoint's etcd_unreachable, call 2 the publisher's write; no
     * other thread uses the store meanwhile (the lease keeper sleeps 100 s). */
    fault_arm(FAULT_STORE, 2);
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_HOST, FX_SUBNET, "10.77.0.5");
    assert_true(fake_store_wait_key(key, true, FX_WAIT_MS));
    assert_true(fault_fired());
    fx_settle();
    assert_int_equal(fx_host_keys(), 1);
}

/* With the store away, requests are refused whole and the data plane stays; the
 * listing after the outage withdraws what was deleted meanwhile. */
static void store_unreachable(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    int64_t lease = fake_store_grant();
    put_member(FX_SUBNET, lease);
    put_remote(FX_SUBNET, "10.77.0.9", "02:42:0a:4d:00:09", lease);
    fx_settle();
    struct segment_devices dev;
    segment_names(overlay_vni(FX_SUBNET), &dev);
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 1);
    char *kernel = fx_kernel_text(), *store = fx_store_text();
    fake_store_set_down(true);
    struct fabric_endpoint_spec ep = fx_endpoint("a1", "e1", "10.77.0.5");
    struct fabric_network_spec net = fx_network("b2", "10.78.0.0/24");
    struct weft_err err = {0};
    uint8_t mac[6];
    assert_int_equal(fabric_endpoint_create(fx->fabric, &ep, mac, &err), -1);
    assert_non_null(strstr(err.msg, "store unreachable"));
    assert_int_equal(err.code, -ECONNREFUSED); /* the store's kind, carried up */
    assert_int_equal(fabric_network_create(fx->fabric, &net, &err), -1);
    assert_non_null(strstr(err.msg, "store unreachable"));
    assert_int_equal(err.code, -ECONNREFUSED);
    assert_int_equal(delete_network(fx, "a1", &err), -1);
    /* Another host's peer goes while this one cannot hear it. */
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_OTHER_HOST, FX_SUBNET, "10.77.0.9");
    fake_store_delete(key);
    assert_true(fake_store_wait_drained(FX_WAIT_MS));
    char *kernel_down = fx_kernel_text();
    assert_string_equal(kernel_down, kernel); /* nothing half-made, nothing dropped */
    free(kernel_down);
    fake_store_set_down(false);
    fx_settle();
    assert_int_equal(fake_kernel_neigh_count(dev.vxlan), 0); /* the listing told */
    assert_int_equal(fake_kernel_fdb_count(dev.vxlan), 1);   /* the member's flooding */
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    fx_settle();
    assert_int_equal(fx_host_keys(), 1);
    free(kernel);
    free(store);
}

/* fabric_close leaves the data plane and drops the spares; the next open adopts the
 * network and its endpoint from the store, and makes spares again. */
static void restart_adopts_what_was_left(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    fx_settle();
    char *kernel = fx_kernel_text();
    fx_close(fx);
    assert_int_equal(fake_kernel_alias_count(SEGMENT_SPARE_ALIAS), 0);
    char *kernel_closed = fx_kernel_text();
    assert_string_equal(kernel_closed, kernel); /* spares aside, all stays */
    fx_open(fx);
    fx_settle();
    char *kernel_open = fx_kernel_text();
    assert_string_equal(kernel_open, kernel);
    char net[FABRIC_ID_MAX], ep[FABRIC_ID_MAX], key[WEFT_KEY_MAX];
    fx_id(net, "a1");
    fx_id(ep, "e1");
    struct fabric_endpoint_info info;
    struct weft_err err = {0};
    assert_int_equal(fabric_endpoint_info(fx->fabric, net, ep, &info, &err), 0);
    assert_string_equal(info.ip, "10.77.0.5/24");
    key_member(key, FX_HOST, FX_SUBNET);
    assert_true(has_key(key));
    free(kernel);
    free(kernel_closed);
    free(kernel_open);
}

/* A daemon stopped before its publisher could write an endpoint: the veth's alias
 * keeps the record, and the next start publishes it. */
static void restart_publishes_unpublished_endpoint(void **state)
{
    struct fx *fx = *state;
    create_network(fx, "a1", FX_SUBNET);
    fx_settle();
    fake_store_hold_txns(true);
    uint8_t mac[6];
    create_endpoint(fx, "a1", "e1", "10.77.0.5", mac);
    assert_true(fake_store_wait_held(1, FX_WAIT_MS));
    fake_store_set_down(true); /* the held write will fail, and every retry */
    fake_store_hold_txns(false);
    fx_close(fx);
    assert_int_equal(fx_host_keys(), 0);
    assert_int_equal(fake_kernel_alias_count(VETH_ALIAS_TAG " "), 1);
    fake_store_set_down(false);
    fx_open(fx);
    char key[WEFT_KEY_MAX];
    key_peer(key, FX_HOST, FX_SUBNET, "10.77.0.5");
    assert_true(fake_store_wait_key(key, true, FX_WAIT_MS));
    fx_settle();
    assert_int_equal(fx_host_keys(), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(endpoint_removed_twice_while_published, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(network_deleted_twice_while_spare_in_flight, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(network_and_endpoint_deleted_while_published, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(publisher_retries, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(store_unreachable, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(restart_adopts_what_was_left, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(restart_publishes_unpublished_endpoint, fx_setup,
                                        fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
