/*
 * own_records.c: this host's own records in the store: its member and alive
 * records, its endpoints' peer records (fabric/<host>/<sk>/...), its entries in the
 * shared joined/<sk>/ index, and its memory of its networks and endpoints
 * (hosts/<host>/...). Encodes, writes and withdraws them; whether to is the
 * caller's decision (see fabric_internal.h). Every key it writes under fabric/
 * names this host: only this host writes there, so a put needs no compare (and
 * keeps the key's create revision, the age of its claim: peers.c).
 */
#include "fabric/fabric_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "store/keys.h"
#include "tunnel/aead.h"

char *host_named_text(const struct fabric *f)
{
    struct member_record rec = {0};
    snprintf(rec.vtep, sizeof(rec.vtep), "%s", f->host);
    return member_record_encode(&rec);
}

/* Writes key under the lease with this host's name as its body (an alive record
 * says only which VTEP it stands for). */
static int put_host_named(struct fabric *f, int64_t lease, const char *key, struct weft_err *err)
{
    char *text = host_named_text(f);
    if (!text)
        return weft_err_set(err, -ENOMEM, "out of memory");
    int rc = etcd_put(f->etcd, key, text, lease, err);
    free(text);
    return rc;
}

/* The member record and the joined/ index entry, both under the lease, in one
 * transaction: joining an overlay (with a compare on its record) is
 * publish_member_joining in overlay_claim.c; this writes them back (a lost lease,
 * a restart, a record deleted by someone else). */
int publish_member(struct fabric *f, int64_t lease, const struct local_network *net,
                   struct weft_err *err)
{
    struct etcd_txn *txn = etcd_txn_new();
    int rc = -1;
    if (!txn || txn_add_member(txn, f, lease, net) < 0) {
        weft_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    bool succeeded;
    rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
out:
    etcd_txn_free(txn);
    return rc;
}

int txn_add_member(struct etcd_txn *txn, const struct fabric *f, int64_t lease,
                   const struct local_network *net)
{
    const char *subnet = net->subnet;
    struct member_record rec = {0};
    snprintf(rec.vtep, sizeof(rec.vtep), "%s", f->host);
    /* The other hosts of an encrypted overlay derive their keys with this host's from it. */
    if (net->encrypted) {
        snprintf(rec.key, sizeof(rec.key), "%s", f->public_key);
        char ciphers[TUNNEL_CIPHERS_TEXT_MAX];
        tunnel_ciphers_format(f->ciphers, ciphers);
        snprintf(rec.ciphers, sizeof(rec.ciphers), "%s", ciphers);
        /* Its data path completes TCP checksums (datapath/coalesce.c): senders may
         * leave them partial. */
        snprintf(rec.offloads, sizeof(rec.offloads), "csum");
    }
    char *text = member_record_encode(&rec);
    if (!text)
        return -1;
    char member_key[WEFT_KEY_MAX], joined_key[WEFT_KEY_MAX];
    key_member(member_key, f->host, subnet);
    key_joined(joined_key, subnet, f->host);
    etcd_txn_put(txn, member_key, text, lease);
    etcd_txn_put(txn, joined_key, text, lease);
    free(text);
    return 0;
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
    const char *subnet = network_subnet_of(net, ep->ip, NULL);
    if (ipam_assert_address(f->etcd, subnet ? subnet : net->subnet, f->host, ip, &err) < 0)
        log_error("address conflict", "endpoint=%.12s error=\"%s\"", ep->id, err.msg);
    if (!ep->has_ip6)
        return;
    ipv6_format(&ep->ip6, ip);
    const char *subnet6 = network_subnet6_of(net, &ep->ip6, NULL);
    if (ipam_assert_address(f->etcd, subnet6 ? subnet6 : net->subnet6, f->host, ip, &err) < 0)
        log_error("address conflict", "endpoint=%.12s error=\"%s\"", ep->id, err.msg);
}

/* An endpoint's peer record key: under the subnet of its address (its pool, where IPAM
 * wrote its claim), which is the network's first unless it has several. */
static void endpoint_peer_key(char key[WEFT_KEY_MAX], const struct fabric *f,
                              const struct local_network *net, const struct local_endpoint *ep)
{
    char ip[ADDR_STR_MAX];
    ipv4_format(ep->ip, ip);
    const char *subnet = network_subnet_of(net, ep->ip, NULL);
    key_peer(key, f->host, subnet ? subnet : net->subnet, ip);
}

static void peer_record_of(const struct fabric *f, const struct local_endpoint *ep,
                           struct peer_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    ipv4_format(ep->ip, rec->ip);
    mac_format(ep->mac, rec->mac);
    snprintf(rec->vtep, sizeof(rec->vtep), "%s", f->host);
    memcpy(rec->names, ep->names, sizeof(rec->names));
    if (ep->has_ip6)
        ipv6_format(&ep->ip6, rec->ip6);
}

/* Publishes an endpoint: its peer record, under this host's prefix. Another host's
 * claim of the same address is no business of this write: every host programs the
 * older claim (peers.c), so two hosts that both hold an address (a broken
 * allocation, or a forged claim) never take turns overwriting each other. */
int publish_peer(struct fabric *f, int64_t lease, const struct local_network *net,
                 const struct local_endpoint *ep, struct weft_err *err)
{
    struct peer_record rec;
    peer_record_of(f, ep, &rec);
    char key[WEFT_KEY_MAX];
    endpoint_peer_key(key, f, net, ep);
    char *text = peer_record_encode(&rec);
    if (!text)
        return weft_err_set(err, -ENOMEM, "out of memory");
    int rc = etcd_put(f->etcd, key, text, lease, err);
    free(text);
    return rc;
}

int withdraw_peer(struct fabric *f, const struct local_network *net,
                  const struct local_endpoint *ep, struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    endpoint_peer_key(key, f, net, ep);
    return etcd_delete(f->etcd, key, NULL, err);
}

/* Both keys publish_member writes, in one transaction. */
int withdraw_member(struct fabric *f, const struct local_network *net, struct weft_err *err)
{
    char member_key[WEFT_KEY_MAX], joined_key[WEFT_KEY_MAX];
    key_member(member_key, f->host, net->subnet);
    key_joined(joined_key, net->subnet, f->host);
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return weft_err_set(err, -ENOMEM, "out of memory");
    etcd_txn_delete(txn, member_key);
    etcd_txn_delete(txn, joined_key);
    bool succeeded;
    int rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
    etcd_txn_free(txn);
    return rc;
}

int save_host_network(struct fabric *f, const struct local_network *net, struct weft_err *err)
{
    struct host_network_record rec = {.vni = net->vni, .mtu = net->mtu, .encrypted = net->encrypted};
    snprintf(rec.network_id, sizeof(rec.network_id), "%s", net->id);
    snprintf(rec.subnet, sizeof(rec.subnet), "%s", net->subnet);
    ipv4_format(net->gateway, rec.gateway);
    snprintf(rec.subnet6, sizeof(rec.subnet6), "%s", net->subnet6);
    extra_subnets_join((const char (*)[ADDR_STR_MAX])net->extra_subnets, net->extra_count,
                       rec.extra_subnets, sizeof(rec.extra_subnets));
    extra_subnets_join((const char (*)[ADDR_STR_MAX])net->extra_subnets6, net->extra6_count,
                       rec.extra_subnets6, sizeof(rec.extra_subnets6));
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

void host_endpoint_record_of(const struct local_network *net, const struct local_endpoint *ep,
                             struct host_endpoint_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    char ip[ADDR_STR_MAX];
    ipv4_format(ep->ip, ip);
    snprintf(rec->endpoint_id, sizeof(rec->endpoint_id), "%s", ep->id);
    snprintf(rec->network_id, sizeof(rec->network_id), "%s", net->id);
    snprintf(rec->ip, sizeof(rec->ip), "%s/%d", ip, ep->prefix_len);
    mac_format(ep->mac, rec->mac);
    snprintf(rec->ifname, sizeof(rec->ifname), "%s", ep->ifname);
    memcpy(rec->names, ep->names, sizeof(rec->names));
    if (ep->has_ip6) {
        char ip6[ADDR_STR_MAX];
        ipv6_format(&ep->ip6, ip6);
        snprintf(rec->ip6, sizeof(rec->ip6), "%s/%d", ip6, ep->prefix6_len);
    }
}

/* The host's own record of an endpoint, as JSON text (malloc'd, NULL if out of memory). */
char *host_endpoint_text(const struct local_network *net, const struct local_endpoint *ep)
{
    struct host_endpoint_record rec;
    host_endpoint_record_of(net, ep, &rec);
    return host_endpoint_record_encode(&rec);
}

/* Adds an endpoint's host record and peer record to txn. -1 when out of memory. */
int txn_add_endpoint(struct etcd_txn *txn, const struct fabric *f, int64_t lease,
                     const struct local_network *net, const struct local_endpoint *ep)
{
    struct peer_record peer;
    peer_record_of(f, ep, &peer);
    char peer_key[WEFT_KEY_MAX], host_key[WEFT_KEY_MAX];
    endpoint_peer_key(peer_key, f, net, ep);
    key_host_endpoint(host_key, f->host, ep->id);
    char *peer_text = peer_record_encode(&peer);
    char *host_text = host_endpoint_text(net, ep);
    int rc = -1;
    if (peer_text && host_text) {
        etcd_txn_put(txn, host_key, host_text, 0);
        etcd_txn_put(txn, peer_key, peer_text, lease);
        rc = 0;
    }
    free(peer_text);
    free(host_text);
    return rc;
}

int withdraw_endpoint(struct fabric *f, const struct local_network *net,
                      const struct local_endpoint *ep, struct weft_err *err)
{
    /* Withdraw and forget in one transaction: one round trip, nothing half-done.
     * Keys never written (still pending) are simply not there to delete. */
    char peer_key[WEFT_KEY_MAX], host_key[WEFT_KEY_MAX];
    endpoint_peer_key(peer_key, f, net, ep);
    key_host_endpoint(host_key, f->host, ep->id);
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return weft_err_set(err, -ENOMEM, "out of memory");
    etcd_txn_delete(txn, peer_key);
    etcd_txn_delete(txn, host_key);
    bool succeeded;
    int rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
    etcd_txn_free(txn);
    return rc;
}
