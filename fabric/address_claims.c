/*
 * address_claims.c: an address is this host's in the fabric from the moment IPAM
 * allocates it (fabric.h). The claim is this host's peer record without a MAC,
 * written under its own prefix before Docker hears the address; the endpoint's
 * full record later replaces its body and keeps its create revision, the claim's
 * age. Another host's claim that is older (written while the address was still
 * free, by a host broken into) would win on every host, so the address is handed
 * out only once the watch has read this claim back, and with it every older
 * record, and found none of another host. Claims younger than this one lose
 * everywhere (peers.c), so once this check passes the address stays this host's.
 * When the watch lags (its member went silent), the claim reads instead the records
 * created after the revision the table is complete to: table and read together are
 * every live claim older than this one.
 * With per-member watches (fabric_config.member_watch) no one watch delivers every
 * older record, so the claim is written together with a read of its competitors
 * (member_claims.c); the rest of this file is the path of one watch of all fabric/.
 */
#include "fabric/fabric_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "store/keys.h"

/* How long a claim waits for the watch to read it back before reading what the watch
 * has not delivered yet itself (a watch on a member gone silent lags until the prober
 * moves it, which a container start should not wait for). */
#define CLAIM_READBACK_MS 300

void claims_note_own(struct fabric *f, const struct etcd_event *ev,
                     const struct fabric_record *key_part)
{
    if (ev->type != ETCD_EVENT_PUT)
        return;
    for (struct pending_claim *c = f->pending_claims; c; c = c->next)
        if (c->addr == key_part->addr && strcmp(c->subnet, key_part->subnet) == 0) {
            c->created = ev->create_revision;
            c->revision = ev->revision;
            pthread_cond_broadcast(&f->watch_progress);
        }
}

/* The table is complete up to the last revision of a batch of changes, or of a
 * whole listing (SYNC_END's); a listing not finished in this batch moves nothing. */
void claims_watch_progress(struct fabric *f, const struct etcd_event *events, size_t count)
{
    int64_t last = f->watch_revision;
    bool listing = false;
    for (size_t i = 0; i < count; i++) {
        switch (events[i].type) {
        case ETCD_EVENT_SYNC_BEGIN:
            listing = true;
            break;
        case ETCD_EVENT_SYNC_END:
            listing = false;
            if (events[i].revision > last)
                last = events[i].revision;
            break;
        case ETCD_EVENT_PUT:
        case ETCD_EVENT_DELETE:
            if (!listing && events[i].revision > last)
                last = events[i].revision;
            break;
        case ETCD_EVENT_DISCONNECTED:
            break;
        }
    }
    if (!listing && last > f->watch_revision) {
        f->watch_revision = last;
        pthread_cond_broadcast(&f->watch_progress);
    }
}

static bool read_back(const struct fabric *f, const struct pending_claim *c)
{
    return c->created > 0 && f->watch_revision >= c->revision;
}

/* Waits (lock held, released while waiting) until the watch has read c back and
 * everything before it. */
static bool wait_read_back(struct fabric *f, const struct pending_claim *c)
{
    long deadline = clock_monotonic_ms() + CLAIM_READBACK_MS;
    while (!read_back(f, c) && !f->stopping) {
        long left = deadline - clock_monotonic_ms();
        if (left <= 0)
            break;
        wait_on(f, &f->watch_progress, left);
    }
    return read_back(f, c);
}

static void unlink_claim(struct fabric *f, struct pending_claim *claim)
{
    for (struct pending_claim **p = &f->pending_claims; *p; p = &(*p)->next)
        if (*p == claim) {
            *p = claim->next;
            return;
        }
}

/* Another host's older claim holds the address: logged, counted, -EADDRINUSE. */
int claim_refuse(struct fabric *f, const struct pending_claim *claim, const char *ip,
                  const struct ip_addr *holder_vtep, struct weft_err *err)
{
    char holder[ADDR_STR_MAX];
    ip_addr_format(holder_vtep, holder);
    f->claims_contested++;
    log_warn("address allocated here was claimed earlier by another host; not using it",
             "subnet=%s ip=%s holder=%s contested=%lu", claim->subnet, ip, holder,
             f->claims_contested);
    return weft_err_set(err, -EADDRINUSE,
                        "address %s of %s is claimed by host %s, whose claim is older", ip,
                        claim->subnet, holder);
}

/* Under the lock, once read back: 0, or -EADDRINUSE naming the older claim's host. */
static int check_older(struct fabric *f, const struct pending_claim *claim, const char *ip,
                       struct weft_err *err)
{
    struct remote_entry *oldest = remote_table_find_peer(&f->remotes, claim->subnet, claim->addr);
    if (!oldest || oldest->created > claim->created)
        return 0;
    return claim_refuse(f, claim, ip, &oldest->vtep, err);
}

/* The canonical text of subnet, as keys and the remote table hold it. */
static int canonical_subnet(const char *subnet, char out[ADDR_STR_MAX], struct weft_err *err)
{
    struct ipv4_subnet parsed;
    if (ipv4_subnet_parse(subnet, &parsed, err) < 0)
        return -1;
    ipv4_subnet_format(&parsed, out);
    return 0;
}

/* Another host's live claim of claim's address in a listing, older than created: its
 * VTEP, or one of family 0. A record that readers would refuse claims nothing. */
static struct ip_addr older_in(const struct etcd_kvs *kvs, const struct fabric *f,
                               const struct pending_claim *claim, int64_t created)
{
    struct ip_addr none = {0};
    for (size_t i = 0; i < kvs->count; i++) {
        struct fabric_record rec;
        const struct etcd_kv *kv = &kvs->items[i];
        if (kv->create_revision >= created || record_check_key(kv->key, &rec, NULL) < 0 ||
            !rec.is_peer || ip_addr_equal(&rec.host, &f->host_vtep) || rec.addr != claim->addr ||
            strcmp(rec.subnet, claim->subnet) != 0 || record_check_body(kv->value, &rec, NULL) < 0)
            continue;
        return rec.host;
    }
    return none;
}

/* The watch has not read the claim back: reads the records created after the
 * revision the table is complete to, and checks both. Called and returns with the
 * lock held; releases it for the store. */
static int check_unread(struct fabric *f, struct pending_claim *claim, const char *key,
                        const char *ip, struct weft_err *err)
{
    int64_t complete_to = f->watch_revision;
    pthread_mutex_unlock(&f->lock);
    struct etcd_kvs kvs;
    struct etcd_kv mine = {0};
    bool found = false;
    if (etcd_get_prefix_created_after(f->etcd, WEFT_KEY_FABRIC, complete_to, &kvs, err) < 0) {
        pthread_mutex_lock(&f->lock);
        return -1;
    }
    int rc = etcd_get(f->etcd, key, &mine, &found, err);
    if (rc == 0 && !found)
        rc = weft_err_set(err, -EAGAIN, "this host's claim of %s vanished from the store", ip);
    pthread_mutex_lock(&f->lock);
    if (rc < 0) {
        etcd_kvs_free(&kvs);
        return -1;
    }
    claim->created = mine.create_revision;
    etcd_kv_clear(&mine);
    struct ip_addr holder = older_in(&kvs, f, claim, claim->created);
    etcd_kvs_free(&kvs);
    return holder.family ? claim_refuse(f, claim, ip, &holder, err) : check_older(f, claim, ip, err);
}

int fabric_claim_address(struct fabric *f, const char *subnet_text, const char *ip,
                         struct weft_err *err)
{
    uint32_t addr;
    char subnet[ADDR_STR_MAX];
    if (canonical_subnet(subnet_text, subnet, err) < 0 || ipv4_parse(ip, &addr, err) < 0)
        return -1;
    struct pending_claim *claim = calloc(1, sizeof(*claim));
    if (!claim)
        return weft_err_set(err, -ENOMEM, "out of memory");
    snprintf(claim->subnet, sizeof(claim->subnet), "%s", subnet);
    claim->addr = htonl(addr);
    struct peer_record rec = {0};
    snprintf(rec.ip, sizeof(rec.ip), "%s", ip);
    snprintf(rec.vtep, sizeof(rec.vtep), "%s", f->host);
    char key[WEFT_KEY_MAX];
    key_peer(key, f->host, claim->subnet, ip);

    pthread_mutex_lock(&f->lock);
    claim->next = f->pending_claims; /* before the write: its event may come at once */
    f->pending_claims = claim;
    int64_t lease = f->lease;
    pthread_mutex_unlock(&f->lock);

    char *text = peer_record_encode(&rec);
    int rc = !text              ? weft_err_set(err, -ENOMEM, "out of memory")
             : f->member_watch ? claim_write_members(f, claim, key, text, lease, ip, err)
                               : etcd_put(f->etcd, key, text, lease, err);
    free(text);

    pthread_mutex_lock(&f->lock);
    if (rc == 0 && !f->member_watch) /* check_unread releases the lock meanwhile */
        rc = wait_read_back(f, claim) ? check_older(f, claim, ip, err)
                                      : check_unread(f, claim, key, ip, err);
    unlink_claim(f, claim);
    /* Never an endpoint's record: IPAM handed this address to nobody here yet. */
    bool withdraw = rc < 0 && !endpoint_by_ip(f, claim->subnet, claim->addr);
    pthread_mutex_unlock(&f->lock);
    free(claim);
    if (withdraw) {
        struct weft_err undo = {0};
        cleanup_logged(etcd_delete(f->etcd, key, NULL, &undo), "withdrawing an address claim", ip,
                       &undo);
    }
    return rc;
}

int fabric_unclaim_address(struct fabric *f, const char *subnet_text, const char *ip,
                           struct weft_err *err)
{
    uint32_t addr;
    char subnet[ADDR_STR_MAX];
    if (canonical_subnet(subnet_text, subnet, err) < 0 || ipv4_parse(ip, &addr, err) < 0)
        return -1;
    pthread_mutex_lock(&f->lock);
    bool held = endpoint_by_ip(f, subnet, htonl(addr)) != NULL;
    pthread_mutex_unlock(&f->lock);
    if (held) /* its endpoint's record: DeleteEndpoint withdraws it */
        return 0;
    char key[WEFT_KEY_MAX];
    key_peer(key, f->host, subnet, ip);
    return etcd_delete(f->etcd, key, NULL, err);
}

bool fabric_address_claimed_elsewhere(struct fabric *f, const char *subnet, uint32_t ip)
{
    pthread_mutex_lock(&f->lock);
    bool claimed = remote_table_find_peer(&f->remotes, subnet, htonl(ip)) != NULL;
    pthread_mutex_unlock(&f->lock);
    return claimed;
}
