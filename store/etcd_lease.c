/*
 * etcd_lease.c: leases (see etcd.h).
 *
 * Owns the grant, keepalive and revoke requests. They go through etcd_call like
 * every request, but pass the gate (etcd_gate.h): a keepalive queued behind a
 * burst of requests could let this host's lease expire. Callers: anyone
 * holding a struct etcd, from any thread (in weft, fabric's lease keeper).
 */
#include "store/etcd_internal.h"

#include <errno.h>
#include <inttypes.h>

int etcd_lease_grant(struct etcd *etcd, int64_t ttl_seconds, int64_t *lease_id,
                     struct weft_err *err)
{
    *lease_id = 0;
    if (ttl_seconds <= 0)
        return weft_err_set(err, -EINVAL, "lease TTL must be positive, not %" PRId64, ttl_seconds);
    json_t *reply;
    json_t *body = json_pack("{s:o}", "TTL", etcd_json_int64_string(ttl_seconds));
    if (etcd_call_consume(etcd, "/v3/lease/grant", body, &reply, err) < 0)
        return -1;
    *lease_id = etcd_json_int64(reply, "ID");
    const char *msg = etcd_json_reason(reply, "error");
    int rc = 0;
    if (*lease_id == 0)
        rc = weft_err_set(err, msg ? -EIO : -EPROTO, "store refused a lease: %s",
                          msg ? msg : "no lease ID in the answer");
    json_decref(reply);
    return rc;
}

int etcd_lease_keepalive(struct etcd *etcd, int64_t lease_id, bool *alive, struct weft_err *err)
{
    *alive = false;
    json_t *reply;
    json_t *body = json_pack("{s:o}", "ID", etcd_json_int64_string(lease_id));
    if (etcd_call_consume(etcd, "/v3/lease/keepalive", body, &reply, err) < 0)
        return -1;
    /* The gateway wraps this streaming call's answer in "result"; an expired lease
     * comes back with no TTL. */
    json_t *result = json_object_get(reply, "result");
    *alive = etcd_json_int64(result ? result : reply, "TTL") > 0;
    json_decref(reply);
    return 0;
}

int etcd_lease_revoke(struct etcd *etcd, int64_t lease_id, struct weft_err *err)
{
    json_t *body = json_pack("{s:o}", "ID", etcd_json_int64_string(lease_id));
    json_t *reply;
    struct weft_err failure = {0};
    int rc = etcd_call_consume(etcd, "/v3/lease/revoke", body, &reply, &failure);
    json_decref(reply);
    /* Revoking a lease that already expired (etcd: 404, not found) leaves the state
     * the caller wanted. */
    if (rc < 0 && failure.code == -ENOENT)
        return 0;
    if (rc < 0 && err)
        *err = failure;
    return rc;
}

int etcd_lease_count(struct etcd *etcd, size_t *count, struct weft_err *err)
{
    *count = 0;
    json_t *reply;
    if (etcd_call_consume(etcd, "/v3/lease/leases", json_object(), &reply, err) < 0)
        return -1;
    *count = json_array_size(json_object_get(reply, "leases"));
    json_decref(reply);
    return 0;
}
