/* etcd_status.c: the store client's own facts for `weft status` (etcd_status.h). */
#include "store/etcd_status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "store/etcd_internal.h"

/* etcd's revision now (the answer's header) and the newest put under prefix: one
 * range of the prefix's key with the highest mod revision, its key only. A delete
 * leaves no key to find, so only puts are seen: they are what a stuck watch misses
 * first (every endpoint and member is a put). */
static int read_revisions(struct etcd *etcd, const char *prefix, int64_t *revision,
                          int64_t *newest_put, struct weft_err *err)
{
    json_t *body = etcd_json_key_object(prefix);
    if (body && json_object_update_new(body, json_pack("{s:o, s:s, s:s, s:i, s:b}", "range_end",
                                                        etcd_json_range_end(prefix),
                                                        "sort_order", "DESCEND", "sort_target",
                                                        "MOD", "limit", 1, "keys_only", 1)) < 0) {
        json_decref(body);
        body = NULL;
    }
    json_t *reply = NULL;
    if (etcd_call_consume(etcd, "/v3/kv/range", body, &reply, err) < 0)
        return -1;
    *revision = etcd_json_int64(json_object_get(reply, "header"), "revision");
    json_t *newest = json_array_get(json_object_get(reply, "kvs"), 0);
    *newest_put = newest ? etcd_json_int64(newest, "mod_revision") : 0;
    json_decref(reply);
    return 0;
}

/* Whether the watch stays behind the prefix's newest put for ETCD_STATUS_TRAIL_MS:
 * a put made just before the question is normally delivered within milliseconds. */
static bool watch_trails(const struct etcd_watch *watch, struct etcd_status *out)
{
    long deadline = clock_monotonic_ms() + ETCD_STATUS_TRAIL_MS;
    while (out->watch_streaming && out->watch_revision < out->prefix_revision) {
        if (clock_monotonic_ms() >= deadline)
            return true;
        struct timespec step = {0, 20 * 1000000L};
        clock_nanosleep(CLOCK_MONOTONIC, 0, &step, NULL);
        etcd_watch_progress(watch, &out->watch_revision, &out->watch_streaming);
    }
    return false;
}

/* Seconds left on lease, or -1 (expired, unknown, or the question failed). */
static int64_t read_lease_ttl(struct etcd *etcd, int64_t lease)
{
    json_t *body = json_object();
    if (body && json_object_set_new(body, "ID", etcd_json_int64_string(lease)) < 0) {
        json_decref(body);
        body = NULL;
    }
    json_t *reply = NULL;
    struct weft_err err = {0};
    if (etcd_call_consume(etcd, "/v3/lease/timetolive", body, &reply, &err) < 0)
        return -1;
    json_t *ttl = json_object_get(reply, "TTL");
    int64_t left = ttl ? etcd_json_int64(reply, "TTL") : -1;
    json_decref(reply);
    return left;
}

void etcd_status_read(struct etcd *etcd, const char *prefix, int64_t lease,
                      const struct etcd_watch *watch, struct etcd_status *out)
{
    memset(out, 0, sizeof(*out));
    out->member_count = etcd->member_count;
    for (size_t i = 0; i < etcd->member_count && i < ETCD_STATUS_MEMBERS_MAX; i++) {
        snprintf(out->members[i], sizeof(out->members[i]), "%s", etcd->members[i]);
        out->member_silent[i] = etcd_health_dead(&etcd->health, i);
    }
    struct weft_err err = {0};
    out->reachable =
        read_revisions(etcd, prefix, &out->revision, &out->prefix_revision, &err) == 0;
    if (!out->reachable)
        snprintf(out->error, sizeof(out->error), "%s", err.msg);
    out->in_use = atomic_load(&etcd->current);
    out->lease_ttl_left = lease && out->reachable ? read_lease_ttl(etcd, lease) : -1;
    if (!watch)
        return;
    etcd_watch_progress(watch, &out->watch_revision, &out->watch_streaming);
    out->watch_trailing = out->reachable && watch_trails(watch, out);
}
