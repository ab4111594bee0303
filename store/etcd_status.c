/* etcd_status.c: the store client's own facts for `weft status` (etcd_status.h). */
#include "store/etcd_status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/etcd_internal.h"

/* etcd's revision now: a count-only range of one key, whose header carries it. */
static int read_revision(struct etcd *etcd, const char *key, int64_t *revision,
                         struct weft_err *err)
{
    json_t *body = etcd_json_key_object(key);
    if (body && json_object_set_new(body, "count_only", json_true()) < 0) {
        json_decref(body);
        body = NULL;
    }
    json_t *reply = NULL;
    if (etcd_call_consume(etcd, "/v3/kv/range", body, &reply, err) < 0)
        return -1;
    *revision = etcd_json_int64(json_object_get(reply, "header"), "revision");
    json_decref(reply);
    return 0;
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

void etcd_status_read(struct etcd *etcd, const char *key, int64_t lease,
                      const struct etcd_watch *watch, struct etcd_status *out)
{
    memset(out, 0, sizeof(*out));
    out->member_count = etcd->member_count;
    for (size_t i = 0; i < etcd->member_count && i < ETCD_STATUS_MEMBERS_MAX; i++) {
        snprintf(out->members[i], sizeof(out->members[i]), "%s", etcd->members[i]);
        out->member_silent[i] = etcd_health_dead(&etcd->health, i);
    }
    struct weft_err err = {0};
    out->reachable = read_revision(etcd, key, &out->revision, &err) == 0;
    if (!out->reachable)
        snprintf(out->error, sizeof(out->error), "%s", err.msg);
    out->in_use = atomic_load(&etcd->current);
    out->lease_ttl_left = lease && out->reachable ? read_lease_ttl(etcd, lease) : -1;
    if (watch)
        etcd_watch_progress(watch, &out->watch_revision, &out->watch_streaming);
}
