/*
 * fabric.c: this host's networks and endpoints, and the remote peers it programs.
 *
 * Local state (Docker networks and endpoints on this host) is written to
 * hosts/<host>/... so a restarted daemon can adopt it; what other hosts must
 * see (members, peers) is written under fabric/<sk>/ with this host's lease,
 * so it vanishes when the host dies. A list+watch of fabric/ feeds the remote
 * table; a remote entry is programmed into the kernel while this host has a
 * network on the same overlay. One mutex serializes requests, watch events
 * and lease renewal; netlink is only used under it.
 */
#include "fabric/fabric.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "fabric/record_check.h"
#include "fabric/rejected_records.h"
#include "fabric/remote_table.h"
#include "fabric/stale_sweep.h"
#include "ipam/cidr.h" /* transitional: old names of common/addr.h */
#include "ipam/ipam.h"
#include "netlink/nl.h"
#include "store/keys.h"
#include "store/records.h"
#include "vxlan/overlay.h"

/* Spare veth pairs kept ready per network: CreateEndpoint takes one, the spare
 * maker makes the next in the background (see overlay.h for why). */
#define SPARES_PER_NETWORK 2
/* A spare is made again this long after the last CreateEndpoint (settle_left). */
#define SPARE_SETTLE_MS 10

/* Where an endpoint's records stand in the store. CreateEndpoint answers once
 * the veth exists; the publisher thread writes the records after (see publisher_main). */
enum publication {
    PUBLICATION_PENDING,   /* to be written */
    PUBLICATION_IN_FLIGHT, /* being written, outside the lock: not to be removed meanwhile */
    PUBLICATION_DONE,
    PUBLICATION_CONFLICT, /* IPAM gives its address to another host: logged, not retried */
};

struct local_endpoint {
    struct local_endpoint *next;
    char id[FABRIC_ID_MAX];
    uint32_t ip; /* host order */
    int prefix_len;
    uint8_t mac[6];
    char ifname[IF_NAMESIZE]; /* host end of its veth (a spare's name, or wh<id>) */
    enum publication publication;
    bool removing; /* a removal waits (lock released) for its write in flight */
    bool rewrite;  /* its peer record was replaced while being written: write it again */
};

struct local_network {
    struct local_network *next;
    char id[FABRIC_ID_MAX];
    char subnet[CIDR_STR_MAX];
    struct cidr cidr;
    uint32_t vni;
    int mtu;
    struct overlay_devices devices;
    struct local_endpoint *endpoints;
    char spares[SPARES_PER_NETWORK][IF_NAMESIZE]; /* host ends of ready spare pairs */
    int spare_count;
    bool spare_in_flight; /* the spare maker is making one, outside the lock */
    bool closing;         /* being deleted: no new endpoints or spares for it */
    bool member_lost;     /* its member record was deleted or replaced: the publisher rewrites it */
};

struct fabric {
    pthread_mutex_t lock;
    struct etcd *etcd;
    struct nl *nl;
    char host[CIDR_STR_MAX];
    uint32_t host_ip; /* network order */
    int underlay_mtu;
    int lease_ttl;
    int64_t lease;
    struct ipam_reaper *reaper;
    int reaper_interval; /* seconds between reaping passes */
    struct local_network *networks;
    struct remote_table remotes;
    struct rejected_records rejected; /* refused fabric/ records, each logged once */
    unsigned long records_rejected;   /* fabric/ records refused, each counted once */
    unsigned long records_reclaimed;  /* this host's records found changed, and rewritten */
    struct etcd_watch *watch;
    pthread_t keeper;
    bool keeper_running;
    bool stopping;
    pthread_cond_t wake;
    pthread_t publisher;
    bool publisher_running;
    pthread_cond_t publish_work; /* an endpoint became pending, or stopping */
    pthread_cond_t publish_done; /* a write finished: IN_FLIGHT may have changed */
    pthread_t spare_maker;
    bool spare_maker_running;
    struct nl *spare_nl;       /* the spare maker's own socket: it works outside the lock */
    unsigned spare_serial;     /* names spares ws<serial> */
    pthread_cond_t spare_work; /* a network may want a spare, or stopping */
    pthread_cond_t spare_done; /* spare_in_flight changed */
    long last_create_ms;       /* monotonic time of the last CreateEndpoint */
};

/* ---------- lookups ---------- */

static struct local_network *network_by_id(struct fabric *f, const char *id)
{
    for (struct local_network *n = f->networks; n; n = n->next)
        if (strcmp(n->id, id) == 0)
            return n;
    return NULL;
}

static struct local_network *network_by_subnet(struct fabric *f, const char *subnet)
{
    for (struct local_network *n = f->networks; n; n = n->next)
        if (strcmp(n->subnet, subnet) == 0)
            return n;
    return NULL;
}

static struct local_endpoint *endpoint_by_id(struct local_network *n, const char *id)
{
    for (struct local_endpoint *e = n->endpoints; e; e = e->next)
        if (strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

/* The endpoint of this host holding ip (network order) on subnet, or NULL. */
static struct local_endpoint *endpoint_by_ip(struct fabric *f, const char *subnet, uint32_t ip)
{
    struct local_network *net = network_by_subnet(f, subnet);
    for (struct local_endpoint *e = net ? net->endpoints : NULL; e; e = e->next)
        if (e->ip == ntohl(ip))
            return e;
    return NULL;
}

static int find_endpoint(struct fabric *f, const char *network_id, const char *endpoint_id,
                         struct local_network **net_out, struct local_endpoint **ep_out,
                         struct weft_err *err)
{
    struct local_network *net = network_by_id(f, network_id);
    if (!net)
        return weft_errf(err, "network %.12s is not a weft network on this host", network_id);
    struct local_endpoint *ep = endpoint_by_id(net, endpoint_id);
    if (!ep)
        return weft_errf(err, "endpoint %.12s does not exist in network %.12s", endpoint_id,
                         network_id);
    *net_out = net;
    *ep_out = ep;
    return 0;
}

/* ---------- publishing to the store ---------- */

static int publish_member(struct fabric *f, const struct local_network *net, struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    key_member(key, net->subnet, f->host);
    struct member_record rec = {0};
    snprintf(rec.vtep, sizeof(rec.vtep), "%s", f->host);
    char *text = member_record_encode(&rec);
    if (!text)
        return weft_errf(err, "out of memory");
    int rc = etcd_put(f->etcd, key, text, f->lease, err);
    free(text);
    return rc;
}

/* hosts/<host>/alive under the lease: other hosts' reapers read it. */
static int publish_alive(struct fabric *f, struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    key_host_alive(key, f->host);
    struct member_record rec = {0};
    snprintf(rec.vtep, sizeof(rec.vtep), "%s", f->host);
    char *text = member_record_encode(&rec);
    if (!text)
        return weft_errf(err, "out of memory");
    int rc = etcd_put(f->etcd, key, text, f->lease, err);
    free(text);
    return rc;
}

/* Makes sure the endpoint's address is still allocated to this host (after a
 * restart or a lost lease it may have been reclaimed). A conflict is logged
 * loudly; the endpoint keeps running. */
static void assert_address(struct fabric *f, const struct local_network *net,
                           const struct local_endpoint *ep)
{
    char ip[CIDR_STR_MAX];
    cidr_format_ip(ep->ip, ip);
    struct weft_err err;
    if (ipam_assert_address(f->etcd, net->subnet, f->host, ip, &err) < 0)
        log_error("address conflict", "endpoint=%.12s error=\"%s\"", ep->id, err.msg);
}

static void peer_record_of(const struct fabric *f, const struct local_endpoint *ep,
                           struct peer_record *rec)
{
    memset(rec, 0, sizeof(*rec));
    cidr_format_ip(ep->ip, rec->ip);
    cidr_format_mac(ep->mac, rec->mac);
    snprintf(rec->vtep, sizeof(rec->vtep), "%s", f->host);
}

/* Publishes an endpoint. A record of its address naming another host is
 * overwritten only if IPAM allocates the address to this host (the record was
 * forged, or is a leftover); else it is a conflict to report. Of two hosts that
 * both hold an address, only the allocation's owner writes, so they never take
 * turns overwriting each other. */
static int publish_peer(struct fabric *f, int64_t lease, const struct local_network *net,
                        const struct local_endpoint *ep, struct weft_err *err)
{
    struct peer_record rec;
    peer_record_of(f, ep, &rec);
    char key[WEFT_KEY_MAX];
    key_peer(key, net->subnet, rec.ip);
    char *text = peer_record_encode(&rec);
    if (!text)
        return weft_errf(err, "out of memory");
    bool created = false;
    struct etcd_kv existing = {0};
    int rc = etcd_create(f->etcd, key, text, lease, &created, &existing, err);
    if (rc == 0 && !created) {
        struct peer_record other;
        struct weft_err ipam_err;
        bool foreign = peer_record_decode(existing.value, &other, NULL) == 0 &&
                       strcmp(other.vtep, f->host) != 0;
        if (foreign && ipam_assert_address(f->etcd, net->subnet, f->host, rec.ip, &ipam_err) < 0) {
            char owner[RECORD_TEXT_MAX];
            record_check_printable(other.vtep, owner, sizeof(owner));
            log_error("address conflict", "ip=%s owner=\"%s\" error=\"%s\"", rec.ip, owner,
                      ipam_err.msg);
            rc = weft_errf(err, "address %s is already in use by an endpoint on host %s", rec.ip,
                           owner);
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

static int withdraw_peer(struct fabric *f, const struct local_network *net,
                         const struct local_endpoint *ep, struct weft_err *err)
{
    char ip[CIDR_STR_MAX], key[WEFT_KEY_MAX];
    cidr_format_ip(ep->ip, ip);
    key_peer(key, net->subnet, ip);
    return etcd_delete(f->etcd, key, NULL, err);
}

static int withdraw_member(struct fabric *f, const struct local_network *net, struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    key_member(key, net->subnet, f->host);
    return etcd_delete(f->etcd, key, NULL, err);
}

static int save_host_network(struct fabric *f, const struct local_network *net,
                             struct weft_err *err)
{
    struct host_network_record rec = {.vni = net->vni, .mtu = net->mtu};
    snprintf(rec.network_id, sizeof(rec.network_id), "%s", net->id);
    snprintf(rec.subnet, sizeof(rec.subnet), "%s", net->subnet);
    char *text = host_network_record_encode(&rec);
    if (!text)
        return weft_errf(err, "out of memory");
    char key[WEFT_KEY_MAX];
    key_host_network(key, f->host, net->id);
    int rc = etcd_put(f->etcd, key, text, 0, err);
    free(text);
    return rc;
}

static int delete_host_key(struct fabric *f, void (*key_fn)(char *, const char *, const char *),
                           const char *id, struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    key_fn(key, f->host, id);
    return etcd_delete(f->etcd, key, NULL, err);
}

/* The host's own record of an endpoint, as JSON text (malloc'd, NULL if out of memory). */
static char *host_endpoint_text(const struct local_network *net, const struct local_endpoint *ep)
{
    struct host_endpoint_record rec = {0};
    char ip[CIDR_STR_MAX];
    cidr_format_ip(ep->ip, ip);
    snprintf(rec.endpoint_id, sizeof(rec.endpoint_id), "%s", ep->id);
    snprintf(rec.network_id, sizeof(rec.network_id), "%s", net->id);
    snprintf(rec.ip, sizeof(rec.ip), "%s/%d", ip, ep->prefix_len);
    cidr_format_mac(ep->mac, rec.mac);
    snprintf(rec.ifname, sizeof(rec.ifname), "%s", ep->ifname);
    return host_endpoint_record_encode(&rec);
}

static int save_host_endpoint(struct fabric *f, const struct local_network *net,
                              const struct local_endpoint *ep, struct weft_err *err)
{
    char *text = host_endpoint_text(net, ep);
    if (!text)
        return weft_errf(err, "out of memory");
    char key[WEFT_KEY_MAX];
    key_host_endpoint(key, f->host, ep->id);
    int rc = etcd_put(f->etcd, key, text, 0, err);
    free(text);
    return rc;
}

/* Adds an endpoint's host record and published peer to txn, the peer only if its
 * address is not published yet. -1 when out of memory. */
static int txn_add_endpoint(struct etcd_txn *txn, const struct fabric *f, int64_t lease,
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
static int save_and_publish_endpoint(struct fabric *f, int64_t lease,
                                     const struct local_network *net,
                                     const struct local_endpoint *ep, struct weft_err *err)
{
    struct etcd_txn *txn = etcd_txn_new();
    bool succeeded = false;
    if (!txn || txn_add_endpoint(txn, f, lease, net, ep) < 0) {
        etcd_txn_free(txn);
        return weft_errf(err, "out of memory");
    }
    int rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
    etcd_txn_free(txn);
    if (rc < 0 || succeeded)
        return rc;
    if (save_host_endpoint(f, net, ep, err) < 0)
        return -1;
    if (publish_peer(f, lease, net, ep, err) < 0) {
        delete_host_key(f, key_host_endpoint, ep->id, NULL);
        return -1;
    }
    return 0;
}

/* ---------- the publisher: endpoints reach the store after CreateEndpoint ---------- */

/* Endpoints per transaction: two puts each, within etcd's default of 128
 * operations per transaction. */
#define PUBLISH_BATCH_MAX 48
#define PUBLISH_RETRY_MIN_MS 100
/* After a CreateEndpoint, the publisher lets its Join through first (settle_left);
 * this also gathers a burst of creates into one transaction. */
#define PUBLISH_SETTLE_MS 2
#define PUBLISH_RETRY_MAX_MS 2000

struct publish_item {
    struct local_network *net;
    struct local_endpoint *ep;
};

/* Marks up to PUBLISH_BATCH_MAX pending endpoints in flight. Under the lock. */
static size_t take_pending(struct fabric *f, struct publish_item *items)
{
    size_t n = 0;
    for (struct local_network *net = f->networks; net; net = net->next)
        for (struct local_endpoint *ep = net->endpoints; ep && n < PUBLISH_BATCH_MAX; ep = ep->next)
            if (ep->publication == PUBLICATION_PENDING && !ep->removing) {
                ep->publication = PUBLICATION_IN_FLIGHT;
                items[n++] = (struct publish_item){net, ep};
            }
    return n;
}

/* Waits on cond for at most ms (0: until signalled). Under the lock. */
static void wait_on(struct fabric *f, pthread_cond_t *cond, long ms)
{
    if (ms <= 0) {
        pthread_cond_wait(cond, &f->lock);
        return;
    }
    struct timespec until = clock_deadline(CLOCK_REALTIME, ms); /* the conds' default clock */
    pthread_cond_timedwait(cond, &f->lock, &until);
}

/* How long work that a CreateEndpoint caused still waits after it, or 0. Docker
 * sends Join right after CreateEndpoint; on a small host a store write (etcd's CPU)
 * or a new spare veth (1.3 ms of kernel work) started at once competes with it. */
static long settle_left(const struct fabric *f, long settle_ms)
{
    long left = f->last_create_ms + settle_ms - clock_monotonic_ms();
    return left > 0 && !f->stopping ? left : 0;
}

/* Writes a batch outside the lock (its endpoints are IN_FLIGHT, so nobody removes
 * them, and their fields do not change). Returns -1 when the store did not answer:
 * the caller puts them back to pending. Else sets each one's outcome in outcome[]. */
static int publish_batch(struct fabric *f, struct publish_item *items, size_t n, int64_t lease,
                         enum publication *outcome, struct weft_err *err)
{
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return weft_errf(err, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (txn_add_endpoint(txn, f, lease, items[i].net, items[i].ep) < 0) {
            etcd_txn_free(txn);
            return weft_errf(err, "out of memory");
        }
    bool succeeded = false;
    int rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
    etcd_txn_free(txn);
    if (rc < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        outcome[i] = PUBLICATION_DONE;
    if (succeeded)
        return 0;
    /* Some address was published already: one at a time, to learn which and why. */
    for (size_t i = 0; i < n; i++) {
        struct weft_err one_err;
        if (save_and_publish_endpoint(f, lease, items[i].net, items[i].ep, &one_err) == 0)
            continue;
        if (etcd_unreachable(f->etcd, NULL)) {
            outcome[i] = PUBLICATION_PENDING;
            continue;
        }
        outcome[i] = PUBLICATION_CONFLICT;
        log_error("endpoint not published", "endpoint=%.12s error=\"%s\"", items[i].ep->id,
                  one_err.msg);
    }
    return 0;
}

/* Member records of this host that someone else deleted or replaced, written back.
 * Under the lock (rare, and so a network being deleted cannot race the write). */
static void rewrite_lost_members(struct fabric *f)
{
    for (struct local_network *net = f->networks; net; net = net->next) {
        if (!net->member_lost || net->closing)
            continue;
        net->member_lost = false;
        struct weft_err err;
        if (publish_member(f, net, &err) < 0)
            log_error("writing back this host's member record failed", "subnet=%s error=\"%s\"",
                      net->subnet, err.msg);
        else
            log_info("member record of this host written back", "subnet=%s", net->subnet);
    }
}

/*
 * CreateEndpoint answers once the veth exists; this thread then writes the
 * endpoint's host record and its published peer, every endpoint pending at that
 * moment in one transaction (a burst of N endpoints costs one store round trip
 * and one fsync rather than N). Docker's own overlay likewise publishes its
 * peers after answering. Address allocation (RequestAddress) stays synchronous:
 * it is what must never be wrong. While the store is away, pending endpoints are
 * retried with backoff; CreateEndpoint refuses new ones until it answers again.
 */
static void *publisher_main(void *arg)
{
    struct fabric *f = arg;
    struct publish_item items[PUBLISH_BATCH_MAX];
    enum publication outcome[PUBLISH_BATCH_MAX];
    long retry_ms = 0;
    bool warned = false;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        long settle = settle_left(f, PUBLISH_SETTLE_MS);
        if (settle) {
            wait_on(f, &f->publish_work, settle);
            continue;
        }
        rewrite_lost_members(f);
        size_t n = take_pending(f, items);
        if (n == 0) {
            if (f->stopping)
                break;
            wait_on(f, &f->publish_work, 0);
            continue;
        }
        int64_t lease = f->lease;
        pthread_mutex_unlock(&f->lock);
        struct weft_err err;
        int rc = publish_batch(f, items, n, lease, outcome, &err);
        pthread_mutex_lock(&f->lock);
        for (size_t i = 0; i < n; i++) {
            struct local_endpoint *ep = items[i].ep;
            ep->publication = rc < 0 ? PUBLICATION_PENDING : outcome[i];
            if (ep->rewrite && ep->publication == PUBLICATION_DONE)
                ep->publication = PUBLICATION_PENDING;
            ep->rewrite = false;
        }
        pthread_cond_broadcast(&f->publish_done);
        if (rc == 0) {
            if (warned)
                log_info("store answers again; pending endpoints published", NULL);
            retry_ms = 0;
            warned = false;
            continue;
        }
        if (!warned)
            log_warn("publishing endpoints failed; retrying", "count=%zu error=\"%s\"", n, err.msg);
        warned = true;
        if (f->stopping) {
            log_warn("stopping with endpoints unpublished; the next start publishes them",
                     "count=%zu", n);
            break;
        }
        retry_ms = retry_ms ? retry_ms * 2 : PUBLISH_RETRY_MIN_MS;
        if (retry_ms > PUBLISH_RETRY_MAX_MS)
            retry_ms = PUBLISH_RETRY_MAX_MS;
        wait_on(f, &f->publish_work, retry_ms);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* ---------- programming remote entries ---------- */

static void remote_unprogram(struct fabric *f, struct remote_entry *r)
{
    struct local_network *net = network_by_subnet(f, r->subnet);
    if (!r->programmed || !net)
        return;
    struct weft_err err;
    int ifindex = net->devices.vxlan_ifindex;
    int rc = r->is_peer ? overlay_peer_del(f->nl, ifindex, r->addr, r->mac, r->vtep, &err)
                        : overlay_flood_del(f->nl, ifindex, r->vtep, &err);
    if (rc < 0)
        log_warn("removing remote entry failed", "error=\"%s\"", err.msg);
    r->programmed = false;
}

/* Whether the remote table knows vtep as a member of subnet. */
static bool is_member(struct fabric *f, const char *subnet, uint32_t vtep)
{
    return remote_table_find(&f->remotes, subnet, false, vtep) != NULL;
}

static void remote_program(struct fabric *f, struct remote_entry *r)
{
    if (r->vtep == f->host_ip)
        return; /* our own endpoints sit on the local bridge */
    struct local_network *net = network_by_subnet(f, r->subnet);
    if (!net || r->programmed)
        return;
    /* A peer goes to the kernel once its host is a member (its member record may come
     * later: member_peers_follow programs it then), and never over a local address. */
    if (r->is_peer && (!is_member(f, r->subnet, r->vtep) || endpoint_by_ip(f, r->subnet, r->addr)))
        return;
    struct weft_err err;
    int ifindex = net->devices.vxlan_ifindex;
    int rc = r->is_peer ? overlay_peer_add(f->nl, ifindex, r->addr, r->mac, r->vtep, &err)
                        : overlay_flood_add(f->nl, ifindex, r->vtep, &err);
    if (rc < 0) {
        log_error("programming remote entry failed", "subnet=%s error=\"%s\"", r->subnet, err.msg);
        return;
    }
    r->programmed = true;
}

/* A local network appeared: program what the cluster already has for it,
 * in one netlink batch. */
static void program_subnet(struct fabric *f, const char *subnet)
{
    struct weft_err err;
    bool batched = nl_batch_begin(f->nl) == 0;
    for (struct remote_entry *r = f->remotes.head; r; r = r->next)
        if (strcmp(r->subnet, subnet) == 0)
            remote_program(f, r);
    if (batched && nl_batch_end(f->nl, &err) < 0)
        log_error("programming remote entries failed", "subnet=%s error=\"%s\"", subnet, err.msg);
}

/* The devices of a subnet are gone, and their entries with them. */
static void forget_programmed(struct fabric *f, const char *subnet)
{
    for (struct remote_entry *r = f->remotes.head; r; r = r->next)
        if (strcmp(r->subnet, subnet) == 0)
            r->programmed = false;
}

/* A member's peers follow it into and out of the kernel. */
static void member_peers_follow(struct fabric *f, const struct remote_entry *member, bool present)
{
    for (struct remote_entry *r = f->remotes.head; r; r = r->next) {
        if (!r->is_peer || r->vtep != member->vtep || strcmp(r->subnet, member->subnet) != 0)
            continue;
        if (present)
            remote_program(f, r);
        else
            remote_unprogram(f, r);
    }
}

static void remote_remove(struct fabric *f, struct remote_entry *victim)
{
    remote_unprogram(f, victim);
    bool member = !victim->is_peer;
    struct remote_entry gone = *victim;
    remote_table_remove(&f->remotes, victim);
    if (member)
        member_peers_follow(f, &gone, false);
}

/* ---------- records from the store, checked before they are believed ---------- */

/* A record refused: logged and counted once per key and revision (a listing
 * repeats it), never programmed. */
static void refuse_record(struct fabric *f, const struct etcd_event *ev, const char *why)
{
    if (!rejected_records_note(&f->rejected, ev->key, ev->revision))
        return;
    f->records_rejected++;
    char key[160], reason[WEFT_ERR_MAX];
    record_check_printable(ev->key, key, sizeof(key));
    record_check_printable(why, reason, sizeof(reason));
    log_warn("ignoring fabric record", "key=\"%s\" revision=%" PRId64 " error=\"%s\" rejected=%lu",
             key, ev->revision, reason, f->records_rejected);
}

/* Whether a PUT of a record this host owns says exactly what this host wrote. */
static bool is_own_record(struct fabric *f, const struct fabric_record *key_part,
                          const struct local_endpoint *ep, const char *value)
{
    struct fabric_record rec = *key_part;
    if (!value || record_check_body(value, &rec, NULL) < 0 || rec.vtep != f->host_ip)
        return false;
    return !ep || memcmp(rec.mac, ep->mac, 6) == 0;
}

/* This host is the authority for its own records: the member record of each of its
 * overlays and the peer record of each address it holds. One changed or deleted by
 * someone else is logged and written back (by the publisher: outside the watch),
 * unless IPAM gives the address to another host (the endpoint is in conflict).
 * Returns true when the event needs nothing more. Otherwise the caller goes on: a
 * DELETE drops the table's entry; another host's valid record is kept in the table,
 * never programmed while the address is held here (remote_program), and programmed
 * once it is not (endpoint_remove_locked), should it still stand then. */
static bool guard_own_record(struct fabric *f, const struct etcd_event *ev,
                             const struct fabric_record *key_part, bool *rewriting)
{
    *rewriting = false;
    struct local_network *net = NULL;
    struct local_endpoint *ep = NULL;
    if (key_part->is_peer)
        ep = endpoint_by_ip(f, key_part->subnet, key_part->addr);
    else if (key_part->addr == f->host_ip)
        net = network_by_subnet(f, key_part->subnet);
    if (!ep && !net)
        return false;
    const char *value = ev->type == ETCD_EVENT_PUT ? ev->value : NULL;
    if (is_own_record(f, key_part, ep, value)) {
        rejected_records_forget(&f->rejected, ev->key);
        struct remote_entry *other = remote_table_find(&f->remotes, key_part->subnet,
                                                       key_part->is_peer, key_part->addr);
        if (other) /* another host's claim, now overwritten */
            remote_remove(f, other);
        return true;
    }
    bool rewrite = net ? !net->closing
                       : !ep->removing && ep->publication != PUBLICATION_CONFLICT;
    if (rewrite && rejected_records_note(&f->rejected, ev->key, ev->revision)) {
        f->records_reclaimed++;
        char key[160];
        record_check_printable(ev->key, key, sizeof(key));
        log_warn(value ? "record of this host replaced in the store; writing it back"
                       : "record of this host deleted from the store; writing it back",
                 "key=\"%s\" revision=%" PRId64 " reclaimed=%lu", key, ev->revision,
                 f->records_reclaimed);
    }
    if (rewrite && net) {
        net->member_lost = true;
    } else if (rewrite && ep->publication == PUBLICATION_DONE) {
        ep->publication = PUBLICATION_PENDING;
    } else if (rewrite && ep->publication == PUBLICATION_IN_FLIGHT) {
        ep->rewrite = true;
    }
    if (rewrite)
        pthread_cond_signal(&f->publish_work);
    *rewriting = rewrite; /* noted in the rejected set: logged once */
    return net != NULL; /* members of this host's VTEP are never programmed anyway */
}

/* Applies one PUT or DELETE of fabric/ to the table; programs the kernel unless
 * a listing is being read (then sync_end does it, after dropping stale entries).
 * Nothing enters the table before its key and body pass record_check. */
static void on_fabric_event(struct fabric *f, const struct etcd_event *ev, bool listing)
{
    struct fabric_record rec;
    struct weft_err err;
    if (record_check_key(ev->key, &rec, &err) < 0) {
        if (ev->type == ETCD_EVENT_PUT)
            refuse_record(f, ev, err.msg);
        else
            rejected_records_forget(&f->rejected, ev->key);
        return;
    }
    bool rewriting;
    if (guard_own_record(f, ev, &rec, &rewriting))
        return;
    struct remote_entry *r = remote_table_find(&f->remotes, rec.subnet, rec.is_peer, rec.addr);
    if (ev->type == ETCD_EVENT_DELETE) {
        rejected_records_forget(&f->rejected, ev->key);
        if (r)
            remote_remove(f, r);
        return;
    }
    /* A refused record changes nothing: an entry from the last good record of its
     * key is kept (also across a listing) until a good one or a DELETE replaces it. */
    if (record_check_body(ev->value, &rec, &err) < 0) {
        refuse_record(f, ev, err.msg);
        if (r)
            r->stale = false;
        return;
    }
    if (!rewriting)
        rejected_records_forget(&f->rejected, ev->key);
    /* Said to be on this host, and not its own record (see guard_own_record): an old
     * record of an endpoint just removed (its DELETE follows), or forged. Either way
     * nothing to program, and no reason to drop what the address's holder published. */
    if (rec.is_peer && rec.vtep == f->host_ip) {
        if (r)
            r->stale = false;
        return;
    }
    if (r && (r->vtep != rec.vtep || memcmp(r->mac, rec.mac, 6) != 0))
        remote_unprogram(f, r); /* moved: drop the old entry before writing the new */
    bool new_member = !r && !rec.is_peer;
    if (!r && !(r = remote_table_add(&f->remotes, rec.subnet, rec.is_peer, rec.addr))) {
        log_error("out of memory for a remote entry", "subnet=%s", rec.subnet);
        return;
    }
    r->vtep = rec.vtep;
    memcpy(r->mac, rec.mac, 6);
    r->stale = false;
    if (listing)
        return;
    remote_program(f, r);
    if (new_member) /* its peers may have come first */
        member_peers_follow(f, r, true);
}

/* The end of a listing: what it did not mention is gone. Stale entries are
 * removed before anything is added, so a MAC or address that moved is not
 * deleted again after its new entry was written. */
static void sync_end(struct fabric *f, int64_t revision)
{
    struct remote_entry *r = f->remotes.head;
    while (r) {
        struct remote_entry *next = r->next;
        if (r->stale)
            remote_remove(f, r);
        r = next;
    }
    for (r = f->remotes.head; r; r = r->next)
        remote_program(f, r);
    log_info("fabric in sync", "revision=%" PRId64, revision);
}

/* After a listing, the kernel holds exactly what the table holds as programmed:
 * entries an earlier run of the daemon programmed for peers that left while it
 * was down are named by no event, so they are found in the kernel and removed. */
static void sweep_stale_entries(struct fabric *f)
{
    for (struct local_network *net = f->networks; net; net = net->next) {
        struct weft_err err;
        size_t removed;
        if (fabric_sweep_overlay(f->nl, net->devices.vxlan_ifindex, &f->remotes, net->subnet,
                                 &removed, &err) < 0)
            log_warn("sweeping stale remote entries failed", "subnet=%s error=\"%s\"",
                     net->subnet, err.msg);
        else if (removed > 0)
            log_info("removed stale remote entries", "subnet=%s count=%zu", net->subnet, removed);
    }
}

/* One batch of the watch: a whole listing, or a burst of changes. It is applied
 * under one hold of the lock and sent to the kernel as one netlink batch, so a
 * burst of N peers costs one round trip rather than N. No batch stays open
 * after the callback: a request thread takes the lock next and needs netlink
 * answered at once. */
static void watch_callback(void *ctx, const struct etcd_event *events, size_t count)
{
    struct fabric *f = ctx;
    struct weft_err err;
    pthread_mutex_lock(&f->lock);
    bool batched = nl_batch_begin(f->nl) == 0;
    bool listing = false;
    for (size_t i = 0; i < count; i++) {
        const struct etcd_event *ev = &events[i];
        switch (ev->type) {
        case ETCD_EVENT_SYNC_BEGIN:
            for (struct remote_entry *r = f->remotes.head; r; r = r->next)
                r->stale = true;
            rejected_records_mark_stale(&f->rejected);
            listing = true;
            break;
        case ETCD_EVENT_SYNC_END:
            rejected_records_drop_stale(&f->rejected);
            sync_end(f, ev->revision);
            listing = false;
            /* The sweep reads the kernel, which a batch cannot: send what is queued. */
            if (batched && nl_batch_end(f->nl, &err) < 0)
                log_error("programming remote entries failed", "error=\"%s\"", err.msg);
            sweep_stale_entries(f);
            batched = nl_batch_begin(f->nl) == 0;
            break;
        case ETCD_EVENT_DISCONNECTED:
            log_warn("store unreachable; keeping the data plane as it is", NULL);
            break;
        case ETCD_EVENT_PUT:
        case ETCD_EVENT_DELETE:
            on_fabric_event(f, ev, listing);
            break;
        }
    }
    if (batched && nl_batch_end(f->nl, &err) < 0)
        log_error("programming remote entries failed", "error=\"%s\"", err.msg);
    pthread_mutex_unlock(&f->lock);
}

/* ---------- liveness lease ---------- */

/* Re-publishes everything this host owns under the (new) lease. */
static void republish_all(struct fabric *f)
{
    struct weft_err err;
    if (publish_alive(f, &err) < 0)
        log_error("re-publishing host record failed", "error=\"%s\"", err.msg);
    for (struct local_network *n = f->networks; n; n = n->next) {
        if (publish_member(f, n, &err) < 0)
            log_error("re-publishing member failed", "subnet=%s error=\"%s\"", n->subnet, err.msg);
        for (struct local_endpoint *e = n->endpoints; e; e = e->next) {
            if (e->publication != PUBLICATION_DONE)
                continue; /* the publisher has it, with the new lease */
            assert_address(f, n, e);
            if (publish_peer(f, f->lease, n, e, &err) < 0) {
                log_error("re-publishing endpoint failed; the publisher retries",
                          "endpoint=%.12s error=\"%s\"", e->id, err.msg);
                e->publication = PUBLICATION_PENDING;
                pthread_cond_signal(&f->publish_work);
            }
        }
    }
}

static void *lease_keeper(void *arg)
{
    struct fabric *f = arg;
    int interval = f->lease_ttl / 3 > 0 ? f->lease_ttl / 3 : 1;
    if (f->reaper_interval < interval)
        interval = f->reaper_interval;
    long last_reap_ms = 0;
    pthread_mutex_lock(&f->lock);
    while (!f->stopping) {
        wait_on(f, &f->wake, interval * 1000L);
        if (f->stopping)
            break;
        int64_t lease = f->lease;
        pthread_mutex_unlock(&f->lock);
        struct weft_err err;
        bool alive = true;
        int rc = etcd_lease_keepalive(f->etcd, lease, &alive, &err);
        /* A pass reads every host and address record: at the reaper's own pace, not
         * every lease refresh (at 50 hosts x 100 endpoints that was 50 daemons reading
         * 10 000 records every 5 s). */
        struct weft_err reap_err;
        if (rc == 0 && clock_monotonic_ms() - last_reap_ms >= f->reaper_interval * 1000L) {
            last_reap_ms = clock_monotonic_ms();
            if (ipam_reap(f->etcd, f->reaper, NULL, &reap_err) < 0)
                log_warn("reclaiming dead hosts' addresses failed", "error=\"%s\"", reap_err.msg);
        }
        pthread_mutex_lock(&f->lock);
        if (rc < 0) {
            log_warn("lease refresh failed", "error=\"%s\"", err.msg);
            continue;
        }
        if (alive || f->stopping)
            continue;
        /* Cut off longer than the TTL: our records are gone; take a new lease and re-assert. */
        int64_t fresh;
        if (etcd_lease_grant(f->etcd, f->lease_ttl, &fresh, &err) < 0) {
            log_warn("lease renewal failed", "error=\"%s\"", err.msg);
            continue;
        }
        log_warn("lease was lost; re-publishing this host's endpoints", "lease=%" PRId64, fresh);
        f->lease = fresh;
        republish_all(f);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* ---------- spare veth pairs ---------- */

static struct local_network *network_wanting_spare(struct fabric *f)
{
    for (struct local_network *n = f->networks; n; n = n->next)
        if (!n->closing && !n->spare_in_flight && n->spare_count < SPARES_PER_NETWORK)
            return n;
    return NULL;
}

/* Keeps SPARES_PER_NETWORK spare veth pairs on every network's bridge, made with
 * its own netlink socket outside the lock, so that CreateEndpoint only takes one. */
static void *spare_maker_main(void *arg)
{
    struct fabric *f = arg;
    bool warned = false;
    pthread_mutex_lock(&f->lock);
    while (!f->stopping) {
        struct local_network *net = network_wanting_spare(f);
        long settle = net ? settle_left(f, SPARE_SETTLE_MS) : 0;
        if (!net || settle) {
            wait_on(f, &f->spare_work, settle);
            continue;
        }
        net->spare_in_flight = true;
        unsigned serial = ++f->spare_serial;
        uint32_t vni = net->vni;
        int mtu = net->mtu;
        pthread_mutex_unlock(&f->lock);
        char name[IF_NAMESIZE];
        struct weft_err err;
        int rc = overlay_spare_create(f->spare_nl, vni, serial, mtu, name, &err);
        pthread_mutex_lock(&f->lock);
        net->spare_in_flight = false; /* net is still there: deleting it waits for this */
        pthread_cond_broadcast(&f->spare_done);
        if (rc == 0 && !net->closing) {
            snprintf(net->spares[net->spare_count++], IF_NAMESIZE, "%s", name);
            warned = false;
        } else if (rc == 0) {
            overlay_endpoint_delete(f->spare_nl, name, NULL);
        } else {
            if (!warned) /* CreateEndpoint makes its own pair meanwhile */
                log_warn("making a spare veth pair failed", "vni=%" PRIu32 " error=\"%s\"", vni,
                         err.msg);
            warned = true;
            wait_on(f, &f->spare_work, 1000);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

/* Deletes a network's spares, after waiting for one in the making. Under the lock. */
static void drop_spares(struct fabric *f, struct local_network *net)
{
    while (net->spare_in_flight)
        pthread_cond_wait(&f->spare_done, &f->lock);
    for (int i = 0; i < net->spare_count; i++)
        overlay_endpoint_delete(f->nl, net->spares[i], NULL);
    net->spare_count = 0;
}

/* The endpoint's veth pair: a spare if one is ready, else one made now. Sets
 * ep->ifname; the host end's alias is the endpoint's record. */
static int make_endpoint_veth(struct fabric *f, struct local_network *net,
                              struct local_endpoint *ep, struct weft_err *err)
{
    char *alias = NULL;
    if (net->spare_count > 0) {
        snprintf(ep->ifname, sizeof(ep->ifname), "%s", net->spares[--net->spare_count]);
        struct weft_err spare_err;
        alias = host_endpoint_text(net, ep);
        if (alias && overlay_spare_take(f->nl, ep->ifname, ep->mac, alias, &spare_err) == 0) {
            free(alias);
            return 0;
        }
        log_warn("taking a spare veth pair failed; making one",
                 "error=\"%s\"", alias ? spare_err.msg : "out of memory");
        overlay_endpoint_delete(f->nl, ep->ifname, NULL);
        free(alias);
    }
    char peer_name[IF_NAMESIZE];
    overlay_endpoint_names(ep->id, ep->ifname, peer_name);
    alias = host_endpoint_text(net, ep);
    if (!alias)
        return weft_errf(err, "out of memory");
    int rc = overlay_endpoint_create(f->nl, net->vni, ep->id, ep->mac, net->mtu, alias, err);
    free(alias);
    return rc;
}

/* ---------- overlays and VNIs ---------- */

/* FNV-1a of the subnet: different overlays start their VNI search at
 * different places, so hosts creating different networks rarely collide. */
static uint32_t vni_hint(const char *subnet)
{
    uint32_t h = 2166136261u;
    for (const char *p = subnet; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return 1 + h % 4096;
}

static int pick_free_vni(struct fabric *f, const char *subnet, uint32_t *vni, struct weft_err *err)
{
    char prefix[WEFT_KEY_MAX];
    key_vni_prefix(prefix);
    struct etcd_kvs used;
    if (etcd_get_prefix(f->etcd, prefix, &used, err) < 0)
        return -1;
    uint32_t candidate = vni_hint(subnet);
    for (uint32_t tries = 0; tries < FABRIC_VNI_MAX; tries++) {
        char key[WEFT_KEY_MAX];
        key_vni(key, candidate);
        bool taken = false;
        for (size_t i = 0; i < used.count && !taken; i++)
            taken = strcmp(used.items[i].key, key) == 0;
        if (!taken) {
            etcd_kvs_free(&used);
            *vni = candidate;
            return 0;
        }
        candidate = candidate % FABRIC_VNI_MAX + 1;
    }
    etcd_kvs_free(&used);
    return weft_errf(err, "no free VNI left");
}

/* Finds the overlay of spec->subnet, or creates it with a VNI claimed by
 * compare-and-swap. *created tells whether this call made it. */
static int claim_overlay(struct fabric *f, const struct fabric_network_spec *spec,
                         struct overlay_record *out, bool *created, struct weft_err *err)
{
    char overlay_key[WEFT_KEY_MAX];
    key_overlay(overlay_key, spec->subnet);
    *created = false;
    for (int attempt = 0; attempt < 32; attempt++) {
        struct etcd_kv kv = {0};
        bool found = false;
        if (etcd_get(f->etcd, overlay_key, &kv, &found, err) < 0)
            return -1;
        if (found) {
            int rc = record_check_overlay(spec->subnet, kv.value, out, err);
            etcd_kv_clear(&kv);
            if (rc < 0)
                return weft_err_wrap(err, "overlay %s in the store is damaged", spec->subnet);
            if (spec->vni && spec->vni != out->vni)
                return weft_errf(err,
                                 "overlay %s already uses VNI %" PRIu32
                                 " on other hosts; -o vni=%" PRIu32
                                 " conflicts (use -o vni=%" PRIu32 " or leave it out)",
                                 spec->subnet, out->vni, spec->vni, out->vni);
            if (spec->mtu && out->mtu && spec->mtu != out->mtu)
                return weft_errf(err,
                                 "overlay %s already uses MTU %d on other hosts; -o mtu=%d "
                                 "conflicts (use -o mtu=%d or leave it out)",
                                 spec->subnet, out->mtu, spec->mtu, out->mtu);
            return 0;
        }
        uint32_t vni = spec->vni;
        if (!vni && pick_free_vni(f, spec->subnet, &vni, err) < 0)
            return -1;
        struct overlay_record rec = {.vni = vni, .mtu = spec->mtu};
        snprintf(rec.subnet, sizeof(rec.subnet), "%s", spec->subnet);
        char vni_key[WEFT_KEY_MAX];
        key_vni(vni_key, vni);
        char *text = overlay_record_encode(&rec);
        struct etcd_txn *txn = etcd_txn_new();
        if (!text || !txn) {
            free(text);
            etcd_txn_free(txn);
            return weft_errf(err, "out of memory");
        }
        etcd_txn_cmp_absent(txn, overlay_key);
        etcd_txn_cmp_absent(txn, vni_key);
        etcd_txn_put(txn, overlay_key, text, 0);
        etcd_txn_put(txn, vni_key, spec->subnet, 0);
        bool succeeded = false;
        int rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
        etcd_txn_free(txn);
        free(text);
        if (rc < 0)
            return -1;
        if (succeeded) {
            *out = rec;
            *created = true;
            log_info("overlay created", "subnet=%s vni=%" PRIu32, spec->subnet, vni);
            return 0;
        }
        if (spec->vni) { /* lost the race for the overlay, or the VNI is someone else's */
            struct etcd_kv owner = {0};
            if (etcd_get(f->etcd, vni_key, &owner, &found, err) < 0)
                return -1;
            bool other = found && strcmp(owner.value, spec->subnet) != 0;
            char owner_subnet[CIDR_STR_MAX];
            snprintf(owner_subnet, sizeof(owner_subnet), "%s", found ? owner.value : "");
            etcd_kv_clear(&owner);
            if (other)
                return weft_errf(err, "VNI %" PRIu32 " is already used by overlay %s", spec->vni,
                                 owner_subnet);
        }
    }
    return weft_errf(err, "could not claim a VNI for %s: too much contention, try again",
                     spec->subnet);
}

/* Drops the overlay record, its VNI and its gateway once no host has the
 * overlay and no endpoint address is left, so the subnet can be reused with
 * other options. The deletes commit only if no member key exists, and a joining
 * host publishes its member only if the overlay record is unchanged (see
 * publish_member_joining), so a host joining at the same moment either keeps the
 * overlay alive or sees it gone and starts afresh. Best effort otherwise: a
 * failure leaves a harmless record behind. */
static void release_overlay_if_unused(struct fabric *f, const char *subnet, uint32_t vni)
{
    struct weft_err err;
    int addresses = 0;
    if (ipam_count_addresses(f->etcd, subnet, &addresses, &err) < 0 || addresses > 0)
        return;
    char members[WEFT_KEY_MAX], overlay[WEFT_KEY_MAX], vni_key[WEFT_KEY_MAX], addrs[WEFT_KEY_MAX];
    key_member_prefix(members, subnet);
    key_overlay(overlay, subnet);
    key_vni(vni_key, vni);
    key_addr_prefix(addrs, subnet);
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return;
    etcd_txn_cmp_prefix_absent(txn, members);
    etcd_txn_cmp_value(txn, vni_key, subnet);
    etcd_txn_delete(txn, overlay);
    etcd_txn_delete(txn, vni_key);
    /* The gateway reservation goes with the overlay (endpoint addresses were none), in
     * the same transaction: a retry of it, after a timeout that hid its success, finds
     * the VNI gone and does nothing, and a separate delete after it would never run. */
    etcd_txn_delete_prefix(txn, addrs);
    bool succeeded = false;
    int rc = etcd_txn_commit(f->etcd, txn, &succeeded, &err);
    etcd_txn_free(txn);
    if (rc < 0 || !succeeded)
        return;
    log_info("overlay released", "subnet=%s vni=%" PRIu32, subnet, vni);
}

/* Publishes this host as a member of overlay, only if the overlay record is still
 * the one this host read (or wrote): never a member of an overlay just released. */
static int publish_member_joining(struct fabric *f, const struct local_network *net,
                                  const struct overlay_record *overlay, struct weft_err *err)
{
    char overlay_key[WEFT_KEY_MAX], member_key[WEFT_KEY_MAX];
    key_overlay(overlay_key, net->subnet);
    key_member(member_key, net->subnet, f->host);
    struct member_record rec = {0};
    snprintf(rec.vtep, sizeof(rec.vtep), "%s", f->host);
    char *overlay_text = overlay_record_encode(overlay);
    char *member_text = member_record_encode(&rec);
    struct etcd_txn *txn = etcd_txn_new();
    int rc = -1;
    bool succeeded = false;
    if (!overlay_text || !member_text || !txn) {
        weft_errf(err, "out of memory");
        goto out;
    }
    etcd_txn_cmp_value(txn, overlay_key, overlay_text);
    etcd_txn_put(txn, member_key, member_text, f->lease);
    rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
    if (rc == 0 && !succeeded)
        rc = weft_errf(err, "overlay %s changed while this host joined it; try again", net->subnet);
out:
    etcd_txn_free(txn);
    free(overlay_text);
    free(member_text);
    return rc;
}

static int effective_mtu(const struct fabric *f, int requested)
{
    return requested ? requested : f->underlay_mtu - OVERLAY_VXLAN_OVERHEAD;
}

/* ---------- networks ---------- */

static void network_free(struct local_network *net)
{
    struct local_endpoint *e = net->endpoints;
    while (e) {
        struct local_endpoint *next = e->next;
        free(e);
        e = next;
    }
    free(net);
}

static void network_unlink(struct fabric *f, struct local_network *net)
{
    for (struct local_network **p = &f->networks; *p; p = &(*p)->next) {
        if (*p == net) {
            *p = net->next;
            return;
        }
    }
}

int fabric_network_create(struct fabric *f, const struct fabric_network_spec *spec,
                          struct weft_err *err)
{
    struct cidr cidr;
    if (cidr_parse_subnet(spec->subnet, &cidr, err) < 0)
        return -1;
    if (spec->vni > FABRIC_VNI_MAX)
        return weft_errf(err, "vni %" PRIu32 " is out of range (1..%u)", spec->vni, FABRIC_VNI_MAX);
    pthread_mutex_lock(&f->lock);
    int rc = -1;
    struct local_network *net = NULL;
    bool overlay_created = false;
    struct overlay_record overlay;
    if (network_by_id(f, spec->network_id)) {
        weft_errf(err, "network %.12s already exists", spec->network_id);
        goto out;
    }
    struct local_network *same = network_by_subnet(f, spec->subnet);
    if (same) {
        weft_errf(err, "this host already has weft network %.12s on %s; one network per subnet",
                  same->id, spec->subnet);
        goto out;
    }
    if (claim_overlay(f, spec, &overlay, &overlay_created, err) < 0)
        goto out;
    net = calloc(1, sizeof(*net));
    if (!net) {
        weft_errf(err, "out of memory");
        goto undo_overlay;
    }
    snprintf(net->id, sizeof(net->id), "%s", spec->network_id);
    snprintf(net->subnet, sizeof(net->subnet), "%s", spec->subnet);
    net->cidr = cidr;
    net->vni = overlay.vni;
    net->mtu = effective_mtu(f, spec->mtu ? spec->mtu : overlay.mtu);
    if (overlay_ensure(f->nl, net->vni, f->host_ip, net->mtu, &net->devices, err) < 0)
        goto undo_alloc;
    if (save_host_network(f, net, err) < 0)
        goto undo_devices;
    if (publish_member_joining(f, net, &overlay, err) < 0)
        goto undo_host_record;
    net->next = f->networks;
    f->networks = net;
    pthread_cond_signal(&f->spare_work);
    program_subnet(f, net->subnet);
    log_info("network created", "network=%.12s subnet=%s vni=%" PRIu32 " mtu=%d", net->id,
             net->subnet, net->vni, net->mtu);
    rc = 0;
    goto out;

undo_host_record:
    delete_host_key(f, key_host_network, net->id, NULL);
undo_devices:
    overlay_remove(f->nl, net->vni, NULL);
undo_alloc:
    free(net);
undo_overlay:
    if (overlay_created)
        release_overlay_if_unused(f, spec->subnet, overlay.vni);
out:
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static int endpoint_remove_locked(struct fabric *f, struct local_network *net,
                                  struct local_endpoint *ep, struct weft_err *err);

int fabric_network_delete(struct fabric *f, const char *network_id, struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    int rc = -1;
    struct local_network *net = network_by_id(f, network_id);
    if (!net) {
        weft_errf(err, "network %.12s is not a weft network on this host", network_id);
        goto out;
    }
    /* Waits below release the lock: a second delete, or a new endpoint, must not
     * start on this network meanwhile. */
    if (net->closing) {
        weft_errf(err, "network %.12s is being deleted already", network_id);
        goto out;
    }
    net->closing = true;
    /* Docker removes endpoints first; any left over are taken down with the network. */
    while (net->endpoints)
        if (endpoint_remove_locked(f, net, net->endpoints, err) < 0)
            goto reopen;
    drop_spares(f, net);
    if (withdraw_member(f, net, err) < 0)
        goto reopen;
    if (delete_host_key(f, key_host_network, net->id, err) < 0) {
        publish_member(f, net, NULL);
        goto reopen;
    }
    if (overlay_remove(f->nl, net->vni, err) < 0) {
        save_host_network(f, net, NULL);
        publish_member(f, net, NULL);
        goto reopen;
    }
    network_unlink(f, net);
    forget_programmed(f, net->subnet);
    release_overlay_if_unused(f, net->subnet, net->vni);
    log_info("network deleted", "network=%.12s subnet=%s", net->id, net->subnet);
    network_free(net);
    rc = 0;
    goto out;
reopen: /* the network stays: it may have spares again */
    net->closing = false;
    pthread_cond_signal(&f->spare_work);
out:
    pthread_mutex_unlock(&f->lock);
    return rc;
}

/* ---------- endpoints ---------- */

/* Docker's own scheme (02:42 + the IPv4 address), so MACs stay unique per overlay. */
static void mac_from_ip(uint32_t ip, uint8_t mac[6])
{
    mac[0] = 0x02;
    mac[1] = 0x42;
    mac[2] = (uint8_t)(ip >> 24);
    mac[3] = (uint8_t)(ip >> 16);
    mac[4] = (uint8_t)(ip >> 8);
    mac[5] = (uint8_t)ip;
}

int fabric_endpoint_create(struct fabric *f, const struct fabric_endpoint_spec *spec,
                           uint8_t mac_out[6], struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    int rc = -1;
    struct local_network *net = network_by_id(f, spec->network_id);
    struct local_endpoint *ep = NULL;
    if (!net) {
        weft_errf(err, "network %.12s is not a weft network on this host", spec->network_id);
        goto out;
    }
    if (net->closing) {
        weft_errf(err, "network %.12s is being deleted", spec->network_id);
        goto out;
    }
    if (endpoint_by_id(net, spec->endpoint_id)) {
        weft_errf(err, "endpoint %.12s already exists", spec->endpoint_id);
        goto out;
    }
    /* The store write comes after the answer; with the store away, refuse now rather
     * than promise what cannot be published (RequestAddress fails then too). */
    struct weft_err store_err;
    if (etcd_unreachable(f->etcd, &store_err)) {
        weft_errf(err, "%s; new endpoints wait until it answers again", store_err.msg);
        goto out;
    }
    if (!cidr_contains(&net->cidr, spec->ip) || cidr_is_reserved(&net->cidr, spec->ip)) {
        char ip[CIDR_STR_MAX];
        cidr_format_ip(spec->ip, ip);
        weft_errf(err, "address %s is not a host address of %s", ip, net->subnet);
        goto out;
    }
    if (spec->prefix_len && spec->prefix_len != net->cidr.prefix_len) {
        weft_errf(err, "address prefix /%d does not match the network's %s", spec->prefix_len,
                  net->subnet);
        goto out;
    }
    for (struct local_endpoint *other = net->endpoints; other; other = other->next) {
        if (other->ip == spec->ip) {
            char ip[CIDR_STR_MAX];
            cidr_format_ip(spec->ip, ip);
            weft_errf(err, "address %s is already used by endpoint %.12s on this host", ip,
                      other->id);
            goto out;
        }
    }
    ep = calloc(1, sizeof(*ep));
    if (!ep) {
        weft_errf(err, "out of memory");
        goto out;
    }
    snprintf(ep->id, sizeof(ep->id), "%s", spec->endpoint_id);
    ep->ip = spec->ip;
    ep->prefix_len = spec->prefix_len ? spec->prefix_len : net->cidr.prefix_len;
    if (spec->has_mac)
        memcpy(ep->mac, spec->mac, 6);
    else
        mac_from_ip(spec->ip, ep->mac);
    /* The veth's alias carries the endpoint's record: a daemon killed before the
     * publisher wrote it finds it there on restart (adopt_unpublished_endpoints). */
    if (make_endpoint_veth(f, net, ep, err) < 0)
        goto undo_alloc;
    ep->publication = PUBLICATION_PENDING;
    ep->next = net->endpoints;
    net->endpoints = ep;
    /* An entry learned for this address (its last holder's record, not yet
     * withdrawn) must not shadow the local endpoint; it stays known, unprogrammed. */
    struct remote_entry *shadowed = remote_table_find(&f->remotes, net->subnet, true, htonl(ep->ip));
    if (shadowed)
        remote_unprogram(f, shadowed);
    f->last_create_ms = clock_monotonic_ms();
    memcpy(mac_out, ep->mac, 6);
    log_info("endpoint created", "endpoint=%.12s network=%.12s", ep->id, net->id);
    rc = 0;
    goto out;

undo_alloc:
    free(ep);
out:
    pthread_mutex_unlock(&f->lock);
    if (rc == 0) { /* after unlocking: a thread woken under the lock would only wait for it */
        pthread_cond_signal(&f->publish_work);
        pthread_cond_signal(&f->spare_work);
    }
    return rc;
}

static int endpoint_remove_locked(struct fabric *f, struct local_network *net,
                                  struct local_endpoint *ep, struct weft_err *err)
{
    /* A write of its records under way would land after our delete: let it finish.
     * The wait releases the lock, so a second removal of ep must not start meanwhile. */
    if (ep->removing)
        return weft_errf(err, "endpoint %.12s is being removed already", ep->id);
    ep->removing = true;
    while (ep->publication == PUBLICATION_IN_FLIGHT)
        pthread_cond_wait(&f->publish_done, &f->lock);
    /* Withdraw and forget in one transaction: one round trip, nothing half-done.
     * Keys never written (still pending) are simply not there to delete; the peer
     * record of an endpoint in conflict is the allocation owner's, not ours. */
    char ip[CIDR_STR_MAX], peer_key[WEFT_KEY_MAX], host_key[WEFT_KEY_MAX];
    cidr_format_ip(ep->ip, ip);
    key_peer(peer_key, net->subnet, ip);
    key_host_endpoint(host_key, f->host, ep->id);
    struct etcd_txn *txn = etcd_txn_new();
    int rc = -1;
    bool succeeded;
    if (!txn)
        weft_errf(err, "out of memory");
    else {
        if (ep->publication != PUBLICATION_CONFLICT)
            etcd_txn_delete(txn, peer_key);
        etcd_txn_delete(txn, host_key);
        rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
        etcd_txn_free(txn);
    }
    if (rc < 0) {
        ep->removing = false; /* still whole: a retried DeleteEndpoint may remove it */
        return -1;
    }
    struct weft_err kernel_err;
    if (overlay_endpoint_delete(f->nl, ep->ifname, &kernel_err) < 0)
        log_warn("removing endpoint veth failed", "endpoint=%.12s error=\"%s\"", ep->id,
                 kernel_err.msg);
    for (struct local_endpoint **p = &net->endpoints; *p; p = &(*p)->next) {
        if (*p == ep) {
            *p = ep->next;
            break;
        }
    }
    log_info("endpoint deleted", "endpoint=%.12s network=%.12s", ep->id, net->id);
    uint32_t addr = htonl(ep->ip);
    free(ep);
    /* Another host's record of the address, kept while it was held here. */
    struct remote_entry *other = remote_table_find(&f->remotes, net->subnet, true, addr);
    if (other && !net->closing)
        remote_program(f, other);
    return 0;
}

int fabric_endpoint_delete(struct fabric *f, const char *network_id, const char *endpoint_id,
                           struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    struct local_network *net;
    struct local_endpoint *ep;
    int rc = find_endpoint(f, network_id, endpoint_id, &net, &ep, err);
    if (rc == 0)
        rc = endpoint_remove_locked(f, net, ep, err);
    pthread_mutex_unlock(&f->lock);
    return rc;
}

int fabric_join(struct fabric *f, const char *network_id, const char *endpoint_id,
                struct fabric_join_info *out, struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    struct local_network *net;
    struct local_endpoint *ep;
    int rc = find_endpoint(f, network_id, endpoint_id, &net, &ep, err);
    if (rc == 0)
        overlay_peer_name(ep->ifname, out->src_name);
    pthread_mutex_unlock(&f->lock);
    return rc;
}

int fabric_leave(struct fabric *f, const char *network_id, const char *endpoint_id,
                 struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    struct local_network *net;
    struct local_endpoint *ep;
    int rc = find_endpoint(f, network_id, endpoint_id, &net, &ep, err);
    pthread_mutex_unlock(&f->lock);
    return rc;
}

int fabric_endpoint_info(struct fabric *f, const char *network_id, const char *endpoint_id,
                         struct fabric_endpoint_info *out, struct weft_err *err)
{
    pthread_mutex_lock(&f->lock);
    struct local_network *net;
    struct local_endpoint *ep;
    int rc = find_endpoint(f, network_id, endpoint_id, &net, &ep, err);
    if (rc == 0) {
        memset(out, 0, sizeof(*out));
        char ip[CIDR_STR_MAX];
        cidr_format_ip(ep->ip, ip);
        snprintf(out->ip, sizeof(out->ip), "%.15s/%d", ip, ep->prefix_len & 63);
        cidr_format_mac(ep->mac, out->mac);
        snprintf(out->vtep, sizeof(out->vtep), "%s", f->host);
        snprintf(out->bridge, sizeof(out->bridge), "%s", net->devices.bridge);
        snprintf(out->vxlan, sizeof(out->vxlan), "%s", net->devices.vxlan);
        out->vni = net->vni;
        out->mtu = net->mtu;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

/* ---------- restart: adopt what this host had ---------- */

static int restore_networks(struct fabric *f, struct weft_err *err)
{
    char prefix[WEFT_KEY_MAX];
    key_host_networks_prefix(prefix, f->host);
    struct etcd_kvs kvs;
    if (etcd_get_prefix(f->etcd, prefix, &kvs, err) < 0)
        return -1;
    for (size_t i = 0; i < kvs.count; i++) {
        struct host_network_record rec;
        struct weft_err item_err;
        struct local_network *net = calloc(1, sizeof(*net));
        if (!net)
            break;
        if (record_check_host_network(kvs.items[i].key, kvs.items[i].value, &rec, &net->cidr,
                                      &item_err) < 0) {
            char key[160], reason[WEFT_ERR_MAX];
            record_check_printable(kvs.items[i].key, key, sizeof(key));
            record_check_printable(item_err.msg, reason, sizeof(reason));
            log_error("skipping damaged network record", "key=\"%s\" error=\"%s\"", key, reason);
            free(net);
            continue;
        }
        snprintf(net->id, sizeof(net->id), "%.64s", rec.network_id);
        snprintf(net->subnet, sizeof(net->subnet), "%.31s", rec.subnet);
        net->vni = rec.vni;
        net->mtu = rec.mtu ? rec.mtu : effective_mtu(f, 0);
        if (overlay_ensure(f->nl, net->vni, f->host_ip, net->mtu, &net->devices, &item_err) < 0)
            log_error("restoring network devices failed", "network=%.12s error=\"%s\"", net->id,
                      item_err.msg);
        net->next = f->networks;
        f->networks = net;
        if (publish_member(f, net, &item_err) < 0)
            log_error("re-publishing member failed", "error=\"%s\"", item_err.msg);
        log_info("network adopted", "network=%.12s subnet=%s vni=%" PRIu32, net->id, net->subnet,
                 net->vni);
    }
    etcd_kvs_free(&kvs);
    return 0;
}

/* The host end of an endpoint's veth lives as long as the container's end. */
static bool endpoint_veth_exists(struct fabric *f, const struct local_endpoint *ep)
{
    int ifindex = 0;
    struct weft_err err;
    return nl_link_index(f->nl, ep->ifname, &ifindex, &err) == 0 && ifindex > 0;
}

/* A container that went away while the daemon was down: Docker's DeleteEndpoint
 * and ReleaseAddress failed then, so do their work now. */
static void forget_vanished_endpoint(struct fabric *f, struct local_network *net,
                                     struct local_endpoint *ep)
{
    struct weft_err err;
    char ip[CIDR_STR_MAX];
    cidr_format_ip(ep->ip, ip);
    if (withdraw_peer(f, net, ep, &err) < 0 ||
        delete_host_key(f, key_host_endpoint, ep->id, &err) < 0 ||
        ipam_release_address(f->etcd, net->subnet, ip, &err) < 0) {
        log_error("cleaning up a vanished endpoint failed", "endpoint=%.12s error=\"%s\"", ep->id,
                  err.msg);
        return;
    }
    log_info("endpoint vanished while the daemon was down; removed", "endpoint=%.12s ip=%s", ep->id,
             ip);
}

static int restore_endpoints(struct fabric *f, struct weft_err *err)
{
    char prefix[WEFT_KEY_MAX];
    key_host_endpoints_prefix(prefix, f->host);
    struct etcd_kvs kvs;
    if (etcd_get_prefix(f->etcd, prefix, &kvs, err) < 0)
        return -1;
    for (size_t i = 0; i < kvs.count; i++) {
        struct host_endpoint_record rec;
        struct weft_err item_err;
        struct local_endpoint *ep = calloc(1, sizeof(*ep));
        if (!ep)
            break;
        struct local_network *net = NULL;
        if (host_endpoint_record_decode(kvs.items[i].value, &rec, &item_err) == 0 &&
            !(net = network_by_id(f, rec.network_id)))
            weft_errf(&item_err, "its network is not on this host");
        if (!net || record_check_host_endpoint(kvs.items[i].key, kvs.items[i].value, &net->cidr,
                                               &rec, &ep->ip, &ep->prefix_len, ep->mac,
                                               &item_err) < 0) {
            char key[160], reason[WEFT_ERR_MAX];
            record_check_printable(kvs.items[i].key, key, sizeof(key));
            record_check_printable(item_err.msg, reason, sizeof(reason));
            log_error("skipping damaged endpoint record", "key=\"%s\" error=\"%s\"", key, reason);
            free(ep);
            continue;
        }
        snprintf(ep->id, sizeof(ep->id), "%.64s", rec.endpoint_id);
        if (rec.ifname[0]) {
            snprintf(ep->ifname, sizeof(ep->ifname), "%.15s", rec.ifname);
        } else { /* written before spares: the pair was named for the endpoint */
            char peer_name[IF_NAMESIZE];
            overlay_endpoint_names(ep->id, ep->ifname, peer_name);
        }
        if (!endpoint_veth_exists(f, ep)) {
            forget_vanished_endpoint(f, net, ep);
            free(ep);
            continue;
        }
        ep->next = net->endpoints;
        net->endpoints = ep;
        assert_address(f, net, ep);
        ep->publication = PUBLICATION_DONE;
        if (publish_peer(f, f->lease, net, ep, &item_err) < 0) {
            log_error("re-publishing endpoint failed; the publisher retries",
                      "endpoint=%.12s error=\"%s\"", ep->id, item_err.msg);
            ep->publication = PUBLICATION_PENDING; /* it tells a conflict from an outage */
        }
    }
    etcd_kvs_free(&kvs);
    return 0;
}

struct veth_record {
    char name[IF_NAMESIZE];
    char *alias; /* owned */
};

struct veth_records {
    struct veth_record *items;
    size_t count, cap;
    unsigned highest_spare_serial; /* of ws<n> names, which endpoints keep */
};

static void collect_alias(void *ctx, const char *name, const char *alias)
{
    struct veth_records *r = ctx;
    unsigned serial;
    char rest;
    if (sscanf(name, OVERLAY_SPARE_PREFIX "%u%c", &serial, &rest) == 1 &&
        serial > r->highest_spare_serial)
        r->highest_spare_serial = serial;
    if (strcmp(alias, OVERLAY_SPARE_ALIAS) == 0)
        return;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        struct veth_record *items = realloc(r->items, cap * sizeof(*items));
        if (!items)
            return;
        r->items = items;
        r->cap = cap;
    }
    struct veth_record *item = &r->items[r->count];
    snprintf(item->name, sizeof(item->name), "%s", name);
    if ((item->alias = strdup(alias)))
        r->count++;
}

/* Endpoints whose veth exists but whose records the store lacks: the daemon died
 * between answering CreateEndpoint and publishing. Their veth aliases hold the
 * record; they are adopted as pending, and the publisher writes them. The same
 * listing numbers new spares above the ws<n> names endpoints kept. */
static void adopt_unpublished_endpoints(struct fabric *f)
{
    struct veth_records found = {0};
    struct weft_err err;
    if (nl_link_aliases(f->nl, "w", collect_alias, &found, &err) < 0)
        log_error("listing endpoint veths failed", "error=\"%s\"", err.msg);
    for (size_t i = 0; i < found.count; i++) {
        struct host_endpoint_record rec;
        struct local_network *net = NULL;
        struct local_endpoint *ep = NULL;
        if (host_endpoint_record_decode(found.items[i].alias, &rec, NULL) < 0 ||
            !(net = network_by_id(f, rec.network_id)) || endpoint_by_id(net, rec.endpoint_id))
            goto next; /* not ours, a network we do not have, or restored from the store */
        if (!(ep = calloc(1, sizeof(*ep))))
            goto next;
        if (cidr_parse_ip_prefix(rec.ip, &ep->ip, &ep->prefix_len, &err) < 0 ||
            cidr_parse_mac(rec.mac, ep->mac, &err) < 0) {
            log_error("skipping damaged veth alias", "alias=\"%s\"", found.items[i].alias);
            free(ep);
            goto next;
        }
        snprintf(ep->id, sizeof(ep->id), "%.64s", rec.endpoint_id);
        snprintf(ep->ifname, sizeof(ep->ifname), "%s", found.items[i].name);
        ep->publication = PUBLICATION_PENDING;
        ep->next = net->endpoints;
        net->endpoints = ep;
        log_info("endpoint adopted from its veth; publishing it", "endpoint=%.12s ip=%s", ep->id,
                 rec.ip);
    next:
        free(found.items[i].alias);
    }
    free(found.items);
    f->spare_serial = found.highest_spare_serial;
}

/* ---------- lifecycle ---------- */

int fabric_open(struct fabric **out, const struct fabric_config *config, struct weft_err *err)
{
    struct fabric *f = calloc(1, sizeof(*f));
    if (!f)
        return weft_errf(err, "out of memory");
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->wake, NULL);
    pthread_cond_init(&f->publish_work, NULL);
    pthread_cond_init(&f->publish_done, NULL);
    pthread_cond_init(&f->spare_work, NULL);
    pthread_cond_init(&f->spare_done, NULL);
    if (remote_table_init(&f->remotes) < 0 || rejected_records_init(&f->rejected) < 0) {
        weft_errf(err, "out of memory");
        goto fail; /* fabric_close undoes whatever part of the fabric exists */
    }
    f->etcd = config->etcd;
    snprintf(f->host, sizeof(f->host), "%s", config->host);
    uint32_t host_order;
    if (cidr_parse_ip(config->host, &host_order, err) < 0) {
        weft_err_wrap(err, "advertise address");
        goto fail;
    }
    f->host_ip = htonl(host_order);
    f->underlay_mtu = config->underlay_mtu > 0 ? config->underlay_mtu : 1500;
    f->lease_ttl = config->lease_ttl > 0 ? config->lease_ttl : 15;
    int reclaim_after = config->reclaim_after > 0 ? config->reclaim_after : 600;
    f->reaper_interval = reclaim_after / 4 > 0 ? reclaim_after / 4 : 1;
    f->reaper = ipam_reaper_new(reclaim_after);
    if (!f->reaper) {
        weft_errf(err, "out of memory");
        goto fail;
    }
    if (nl_open(&f->nl, err) < 0 || nl_open(&f->spare_nl, err) < 0)
        goto fail;
    overlay_spares_delete_all(f->nl); /* an earlier run's, never taken */
    if (etcd_lease_grant(f->etcd, f->lease_ttl, &f->lease, err) < 0 || publish_alive(f, err) < 0)
        goto fail;
    if (restore_networks(f, err) < 0 || restore_endpoints(f, err) < 0)
        goto fail;
    adopt_unpublished_endpoints(f);
    if (etcd_watch_start(f->etcd, WEFT_KEY_FABRIC, watch_callback, f, &f->watch, err) < 0)
        goto fail;
    if (pthread_create(&f->keeper, NULL, lease_keeper, f) != 0) {
        weft_errf(err, "cannot start the lease keeper thread");
        goto fail;
    }
    f->keeper_running = true;
    if (pthread_create(&f->publisher, NULL, publisher_main, f) != 0) {
        weft_errf(err, "cannot start the publisher thread");
        goto fail;
    }
    f->publisher_running = true;
    if (pthread_create(&f->spare_maker, NULL, spare_maker_main, f) != 0) {
        weft_errf(err, "cannot start the spare veth thread");
        goto fail;
    }
    f->spare_maker_running = true;
    *out = f;
    return 0;
fail:
    fabric_close(f);
    return -1;
}

void fabric_close(struct fabric *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->lock);
    f->stopping = true;
    pthread_cond_broadcast(&f->wake);
    pthread_cond_broadcast(&f->publish_work);
    pthread_cond_broadcast(&f->spare_work);
    pthread_mutex_unlock(&f->lock);
    if (f->spare_maker_running)
        pthread_join(f->spare_maker, NULL);
    if (f->publisher_running) /* first: it publishes what is pending before it ends */
        pthread_join(f->publisher, NULL);
    if (f->keeper_running)
        pthread_join(f->keeper, NULL);
    if (f->watch)
        etcd_watch_stop(f->watch); /* outside the lock: its callback takes it */
    while (f->networks) {
        struct local_network *net = f->networks;
        f->networks = net->next;
        for (int i = 0; i < net->spare_count; i++) /* the data plane stays; spares need not */
            overlay_endpoint_delete(f->nl, net->spares[i], NULL);
        network_free(net);
    }
    remote_table_clear(&f->remotes);
    rejected_records_clear(&f->rejected);
    if (f->nl)
        nl_close(f->nl);
    if (f->spare_nl)
        nl_close(f->spare_nl);
    ipam_reaper_free(f->reaper);
    pthread_cond_destroy(&f->spare_done);
    pthread_cond_destroy(&f->spare_work);
    pthread_cond_destroy(&f->publish_done);
    pthread_cond_destroy(&f->publish_work);
    pthread_cond_destroy(&f->wake);
    pthread_mutex_destroy(&f->lock);
    free(f);
}
