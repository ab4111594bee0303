/*
 * fake_tc.c: netlink/nl.h's traffic-control calls (nl_tc_*) for the fakes. By
 * default they answer as a kernel without clsact or cls_u32 does ("Operation not
 * supported"), so every fabric on fakes runs its segments bridge-only, as such a
 * kernel would; fake_kernel_set_tc(true) makes them succeed and keeps the filters
 * (target and priority) for a test to count. Each call then is a round trip that
 * asks fault.h first. Thread-safe (its own mutex).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "tests/fakes/fake_kernel.h"
#include "tests/fakes/fault.h"

#define TC_FILTERS_MAX 256

struct tc_filter {
    struct nl_tc_target t;
    uint16_t prio;
};

static pthread_mutex_t tc_lock = PTHREAD_MUTEX_INITIALIZER;
static bool tc_on;
static struct tc_filter filters[TC_FILTERS_MAX];
static int filter_count;

void fake_kernel_set_tc(bool on)
{
    pthread_mutex_lock(&tc_lock);
    tc_on = on;
    filter_count = 0;
    pthread_mutex_unlock(&tc_lock);
}

static bool same_target(const struct nl_tc_target *a, const struct nl_tc_target *b)
{
    return a->block ? a->block == b->block : !b->block && a->ifindex == b->ifindex;
}

int fake_kernel_tc_filter_count(const struct nl_tc_target *t)
{
    int n = 0;
    pthread_mutex_lock(&tc_lock);
    for (int i = 0; i < filter_count; i++)
        n += !t || same_target(&filters[i].t, t);
    pthread_mutex_unlock(&tc_lock);
    return n;
}

/* Whether the call goes on: tc is on and no fault was armed for it. */
static int tc_call(struct weft_err *err, const char *what)
{
    if (!tc_on)
        return weft_err_set(err, -EOPNOTSUPP, "%s: Operation not supported", what);
    if (fault_hit(FAULT_NETLINK))
        return weft_err_set(err, -ENOBUFS, "%s: No buffer space available", what);
    return 0;
}

int nl_tc_clsact_add(struct nl *nl, int ifindex, uint32_t ingress_block, uint32_t egress_block,
                     struct weft_err *err)
{
    (void)nl, (void)ifindex, (void)ingress_block, (void)egress_block;
    return tc_call(err, "adding a clsact qdisc");
}

int nl_tc_clsact_del(struct nl *nl, int ifindex, struct weft_err *err)
{
    (void)nl;
    if (tc_call(err, "deleting a clsact qdisc") < 0)
        return -1;
    struct nl_tc_target t = {.ifindex = ifindex};
    return nl_tc_filter_del(nl, &t, 0, err);
}

int nl_tc_mac_filter_add(struct nl *nl, const struct nl_tc_target *t, uint16_t prio,
                         const uint8_t mac[6], const uint8_t mask[6], int redirect_ifindex,
                         struct weft_err *err)
{
    (void)nl, (void)mac, (void)mask, (void)redirect_ifindex;
    if (tc_call(err, "adding a u32 filter") < 0)
        return -1;
    pthread_mutex_lock(&tc_lock);
    int rc = 0;
    if (filter_count == TC_FILTERS_MAX)
        rc = weft_err_set(err, -ENOSPC, "fake: too many tc filters");
    else
        filters[filter_count++] = (struct tc_filter){.t = *t, .prio = prio};
    pthread_mutex_unlock(&tc_lock);
    return rc;
}

int nl_tc_filter_del(struct nl *nl, const struct nl_tc_target *t, uint16_t prio,
                     struct weft_err *err)
{
    (void)nl, (void)err;
    pthread_mutex_lock(&tc_lock);
    for (int i = 0; i < filter_count;)
        if (same_target(&filters[i].t, t) && (!prio || filters[i].prio == prio))
            filters[i] = filters[--filter_count];
        else
            i++;
    pthread_mutex_unlock(&tc_lock);
    return 0;
}
