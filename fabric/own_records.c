/*
 * own_records.c: this host's own records in the store: its member and alive
 * records, its endpoints' peer records (fabric/<sk>/...) and its memory of its
 * networks and endpoints (hosts/<host>/...). Encodes, writes and withdraws them;
 * whether to is the caller's decision (see fabric_internal.h).
 */
#include "fabric/fabric_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "fabric/record_check.h"
#include "store/keys.h"

/* Writes key under the lease with this host's name as its body (member and
 * alive records both say only which VTEP they stand for). */
static int put_host_named(struct fabric *f, int64_t lease, const char *key, struct weft_err *err)
{
    struct member_record rec = {0};
    snprintf(rec.vtep, sizeof(rec.vtep), "%s", f->host);
    char *text = member_record_encode(&rec);
    if (!text)
        return weft_err_set(err, -ENOMEM, "out of memory");
    int rc = etcd_put(f->etcd, key, text, lease, err);
    free(text);
    return rc;
}

int publish_member(struct fabric *f, int64_t lease, const struct local_network *net,
                   struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    key_member(key, net->subnet, f->host);
    return put_host_named(f, lease, key, err);
}

/* hosts/<host>/alive under the lease: other hosts' reapers read it. */
int publish_alive(struct fabric *f, int64_t lease, struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    key_host_alive(key, f->host);
    return put_host_named(f, lease, key, err);
}

/* Makes sure the endpoint's address is still allocated to this host (after a
 * restart or a lost lease it may have been reclaimed). A conflict is logged
 * loudly; the endpoint keeps running. */
void assert_address(struct fabric *f, const struct local_network *net,
                    const struct local_endpoint *ep)
{
    char ip[ADDR_STR_MAX];
    ipv4_format(ep->ip, ip);
    struct weft_err err;
    if (ipam_assert_address(f->etcd, net->subnet, f->host, ip, &err) < 0)
        log_error("address conflict", "endpoint=%.12s error=\"%s\"", ep->id, err.msg);
}

static void peer_record_of(const struct fabric *f, const struct local_endpoint *ep,
                           struct peer_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    ipv4_format(ep->ip, rec->ip);
    mac_format(ep->mac, rec->mac);
    snprintf(rec->vtep, sizeof(rec->vtep), "%s", f->host);
}

/* Publishes an endpoint. A record of its address naming another host is
 * overwritten only if IPAM allocates the address to this host (the record was
 * forged, or is a leftover); else it is a conflict to report. Of two hosts that
 * both hold an address, only the allocation's owner writes, so they never take
 * turns overwriting each other. */
int publish_peer(struct fabric *f, int64_t lease, const struct local_network *net,
                 const struct local_endpoint *ep, struct weft_err *err)
{
    struct peer_record rec;
    peer_record_of(f, ep, &rec);
    char key[WEFT_KEY_MAX];
    key_peer(key, net->subnet, rec.ip);
    char *text = peer_record_encode(&rec);
    if (!text)
        return weft_err_set(err, -ENOMEM, "out of memory");
    bool created = false;
    struct etcd_kv existing = {0};
    int rc = etcd_create(f->etcd, key, text, lease, &created, &existing, err);
    if (rc == 0 && !created) {
        struct peer_record other;
        struct weft_err ipam_err;
        bool foreign = peer_record_decode(existing.value, &other, NULL) == 0 &&
                       strcmp(other.vtep, f->host) != 0;
        int claim =
            foreign ? ipam_assert_address(f->etcd, net->subnet, f->host, rec.ip, &ipam_err) : 0;
        if (claim < 0 && ipam_err.code != -EEXIST) {
            /* Not a verdict (the store away, ...): the caller retries. */
            rc = weft_err_set(err, ipam_err.code, "%s", ipam_err.msg);
        } else if (claim < 0) {
            char owner[RECORD_TEXT_MAX];
            record_check_printable(other.vtep, owner, sizeof(owner));
            /* Logged by the caller, which decides what follows. */
            rc =
                weft_err_set(err, -EEXIST, "address %s is already in use by an endpoint on host %s",
                             rec.ip, owner);
        } else {
            if (foreign) {
                char owner[RECORD_TEXT_MAX];
                record_check_printable(other.vtep, owner, sizeof(owner));
                log_warn("peer record of this host's endpoint names another host; writing it back",
                         "ip=%s vtep=\"%s\"", rec.ip, owner);
            }
            rc = etcd_put(f->etcd, key, text, lease, err);
        }
    }
    etcd_kv_clear(&existing);
    free(text);
    return rc;
}

int withdraw_peer(struct fabric *f, const struct local_network *net,
                  const struct local_endpoint *ep, struct weft_err *err)
{
    char ip[ADDR_STR_MAX], key[WEFT_KEY_MAX];
    ipv4_format(ep->ip, ip);
    key_peer(key, net->subnet, ip);
    return etcd_delete(f->etcd, key, NULL, err);
}

int withdraw_member(struct fabric *f, const struct local_network *net, struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    key_member(key, net->subnet, f->host);
    return etcd_delete(f->etcd, key, NULL, err);
}

int save_host_network(struct fabric *f, const struct local_network *net, struct weft_err *err)
{
    struct host_network_record rec = {.vni = net->vni, .mtu = net->mtu};
    snprintf(rec.network_id, sizeof(rec.network_id), "%s", net->id);
    snprintf(rec.subnet, sizeof(rec.subnet), "%s", net->subnet);
    char *text = host_network_record_encode(&rec);
    if (!text)
        return weft_err_set(err, -ENOMEM, "out of memory");
    char key[WEFT_KEY_MAX];
    key_host_network(key, f->host, net->id);
    int rc = etcd_put(f->etcd, key, text, 0, err);
    free(text);
    return rc;
}

int delete_host_key(struct fabric *f, void (*key_fn)(char *, const char *, const char *),
                    const char *id, struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    key_fn(key, f->host, id);
    return etcd_delete(f->etcd, key, NULL, err);
}

/* The host's own record of an endpoint, as JSON text (malloc'd, NULL if out of memory). */
char *host_endpoint_text(const struct local_network *net, const struct local_endpoint *ep)
{
    struct host_endpoint_record rec = {0};
    char ip[ADDR_STR_MAX];
    ipv4_format(ep->ip, ip);
    snprintf(rec.endpoint_id, sizeof(rec.endpoint_id), "%s", ep->id);
    snprintf(rec.network_id, sizeof(rec.network_id), "%s", net->id);
    snprintf(rec.ip, sizeof(rec.ip), "%s/%d", ip, ep->prefix_len);
    mac_format(ep->mac, rec.mac);
    snprintf(rec.ifname, sizeof(rec.ifname), "%s", ep->ifname);
    return host_endpoint_record_encode(&rec);
}

static int save_host_endpoint(struct fabric *f, const struct local_network *net,
                              const struct local_endpoint *ep, struct weft_err *err)
{
    char *text = host_endpoint_text(net, ep);
    if (!text)
        return weft_err_set(err, -ENOMEM, "out of memory");
    char key[WEFT_KEY_MAX];
    key_host_endpoint(key, f->host, ep->id);
    int rc = etcd_put(f->etcd, key, text, 0, err);
    free(text);
    return rc;
}

/* Adds an endpoint's host record and published peer to txn, the peer only if its
 * address is not published yet. -1 when out of memory. */
int txn_add_endpoint(struct etcd_txn *txn, const struct fabric *f, int64_t lease,
                     const struct local_network *net, const struct local_endpoint *ep)
{
    struct peer_record peer;
    peer_record_of(f, ep, &peer);
    char peer_key[WEFT_KEY_MAX], host_key[WEFT_KEY_MAX];
    key_peer(peer_key, net->subnet, peer.ip);
    key_host_endpoint(host_key, f->host, ep->id);
    char *peer_text = peer_record_encode(&peer);
    char *host_text = host_endpoint_text(net, ep);
    int rc = -1;
    if (peer_text && host_text) {
        etcd_txn_cmp_absent(txn, peer_key);
        etcd_txn_put(txn, host_key, host_text, 0);
        etcd_txn_put(txn, peer_key, peer_text, lease);
        rc = 0;
    }
    free(peer_text);
    free(host_text);
    return rc;
}

/* Records and publishes one endpoint. If its address is already published, the
 * two-step path sorts out whether that is our own record (a restart, a re-published
 * lease) or a conflict. Needs no lock: reads only what never changes. */
int save_and_publish_endpoint(struct fabric *f, int64_t lease, const struct local_network *net,
                              const struct local_endpoint *ep, struct weft_err *err)
{
    struct etcd_txn *txn = etcd_txn_new();
    bool succeeded = false;
    if (!txn || txn_add_endpoint(txn, f, lease, net, ep) < 0) {
        etcd_txn_free(txn);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    int rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
    etcd_txn_free(txn);
    if (rc < 0 || succeeded)
        return rc;
    if (save_host_endpoint(f, net, ep, err) < 0)
        return -1;
    if (publish_peer(f, lease, net, ep, err) < 0) {
        struct weft_err undo_err = {0};
        cleanup_logged(delete_host_key(f, key_host_endpoint, ep->id, &undo_err),
                       "deleting the endpoint record", ep->id, &undo_err);
        return -1;
    }
    return 0;
}

int withdraw_endpoint(struct fabric *f, const struct local_network *net,
                      const struct local_endpoint *ep, bool owns_peer, struct weft_err *err)
{
    /* Withdraw and forget in one transaction: one round trip, nothing half-done.
     * Keys never written (still pending) are simply not there to delete; the peer
     * record of an endpoint in conflict is the allocation owner's, not ours. */
    char ip[ADDR_STR_MAX], peer_key[WEFT_KEY_MAX], host_key[WEFT_KEY_MAX];
    ipv4_format(ep->ip, ip);
    key_peer(peer_key, net->subnet, ip);
    key_host_endpoint(host_key, f->host, ep->id);
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return weft_err_set(err, -ENOMEM, "out of memory");
    if (owns_peer)
        etcd_txn_delete(txn, peer_key);
    etcd_txn_delete(txn, host_key);
    bool succeeded;
    int rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
    etcd_txn_free(txn);
    return rc;
}
