/*
 * member_watch.c: per-member watches (issue 14 part 4, docs/scale.md), the fabric's
 * list+watch when fabric_config.member_watch is set (`--store-watch grpc`): a host
 * receives the records of the overlays it has a network on, not every overlay's.
 *
 * The key layout is host-first (fabric/<host>/<sk>/...), so no prefix holds one
 * overlay's records. Instead, on one gRPC stream (store/etcd_watch_set.h):
 *   - joined/<sk>/ of each local network's overlay (sk: its first subnet): who the
 *     members are;
 *   - fabric/<m>/<s>/ for each member m (this host too: its own records are guarded,
 *     peers.c) and each IPv4 subnet s of the local network (peer records of an extra
 *     --subnet lie under that subnet's key; members' under the first).
 * fabric/ holds nothing else (store/keys.h: member and peer records only, a member
 * record carrying an encrypted overlay's public key), so nothing else is watched.
 * A member's joined/ PUT adds its prefixes, its DELETE (or its absence from a listing
 * of joined/) removes them and drops its entries from table and kernel; this host's
 * network going removes the overlay's prefixes. A listing of one prefix marks and
 * drops only its (host, subnet)'s entries; an overlay's segment is swept of what the
 * table does not hold once each of its prefixes has been listed (a member listed
 * before another would otherwise lose the other's entries left by an earlier run).
 *
 * Claims: in this mode a claim read back by one watch says nothing of the others, so
 * claims read their competitors from the store (member_claims.c). And a claim older
 * than its host's member record of the overlay is no claim (claim_predates_member):
 * see member_claims.c for why a non-member's claim cannot matter.
 *
 * Locks: the prefix list (f->watched) is under f->lock. The set's callback takes
 * f->lock; etcd_watch_set_add never waits, so it is called under the lock;
 * etcd_watch_set_remove waits for a batch in delivery, so it is called without the
 * lock, except from the callback itself (where it does not wait).
 */
#include "fabric/fabric_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/weft_metrics.h"
#include "store/etcd_watch_set.h"
#include "store/keys.h"

/* One per member host and subnet: sized to its prefix (about 45 bytes, not the 256 a
 * key may take), since a host holds one for every member of its overlays. */
struct watched_prefix {
    struct watched_prefix *next;
    char overlay[ADDR_STR_MAX]; /* the local network's first subnet */
    bool joined;                /* joined/<overlay>/; else a member's fabric prefix: */
    struct watch_scope scope;   /* whose records, of which subnet */
    bool listed;                /* its first listing (since an outage) was applied */
    bool stale;                 /* a member prefix a listing of joined/ did not name (yet) */
    bool told_synced;           /* joined/: "fabric in sync" logged for its overlay */
    char prefix[];
};

static struct watched_prefix *watched_find(struct fabric *f, const char *prefix)
{
    for (struct watched_prefix *w = f->watched; w; w = w->next)
        if (strcmp(w->prefix, prefix) == 0)
            return w;
    return NULL;
}

/* Links and watches a new prefix (or finds it: then it is not stale); from_rev > 0:
 * watched from that revision without a listing (member_add). Under the lock. */
static void watch_add(struct fabric *f, const char *prefix, const char *overlay,
                      const struct watch_scope *scope, int64_t from_rev)
{
    struct watched_prefix *w = watched_find(f, prefix);
    if (w) {
        w->stale = false;
        return;
    }
    struct weft_err err;
    size_t len = strlen(prefix);
    if (!(w = calloc(1, sizeof(*w) + len + 1))) {
        log_error("out of memory for a member's watch", "prefix=%s", prefix);
        return;
    }
    memcpy(w->prefix, prefix, len + 1);
    snprintf(w->overlay, sizeof(w->overlay), "%s", overlay);
    w->joined = scope == NULL;
    if (scope)
        w->scope = *scope;
    int rc = from_rev > 0 ? etcd_watch_set_add_from(f->set, prefix, from_rev, &err)
                          : etcd_watch_set_add(f->set, prefix, &err);
    if (rc < 0) {
        log_error("cannot watch a member's records", "prefix=%s error=\"%s\"", prefix, err.msg);
        free(w);
        return;
    }
    w->next = f->watched;
    f->watched = w;
}

/* host's prefixes of net's subnets. joined_rev: the revision of the live joined/ PUT
 * that named host, or 0 (named by a listing: its records may be older than anything
 * this host has seen). A member writes its member record in the transaction that
 * writes its joined/ entry (own_records.c) and every other record of its under the
 * overlay after it (peers after the member record, claims after it or no claims: a
 * lost lease takes them all), so its prefixes held nothing before joined_rev and are
 * watched from there, without a listing each: at n hosts joining one overlay, n²/2
 * listings saved (docs/scale.md). Under the lock. */
static void member_add(struct fabric *f, const struct local_network *net,
                       const struct ip_addr *host, int64_t joined_rev)
{
    char text[ADDR_STR_MAX], prefix[WEFT_KEY_MAX];
    ip_addr_format(host, text);
    struct watch_scope scope = {.host = *host};
    for (int i = -1; i < net->extra_count; i++) {
        const char *subnet = i < 0 ? net->subnet : net->extra_subnets[i];
        snprintf(scope.subnet, sizeof(scope.subnet), "%s", subnet);
        key_fabric_overlay_prefix(prefix, text, subnet);
        watch_add(f, prefix, net->subnet, &scope, joined_rev);
    }
}

/* Unlinks the prefixes of overlay that match (host NULL: all of them, joined/ too),
 * and returns them as a list. Under the lock. */
static struct watched_prefix *watched_unlink(struct fabric *f, const char *overlay,
                                             const struct ip_addr *host, bool stale_only)
{
    struct watched_prefix *gone = NULL, **p = &f->watched;
    while (*p) {
        struct watched_prefix *w = *p;
        bool match = strcmp(w->overlay, overlay) == 0 &&
                     (!host || (!w->joined && ip_addr_equal(&w->scope.host, host))) &&
                     (!stale_only || w->stale);
        if (!match) {
            p = &w->next;
            continue;
        }
        *p = w->next;
        w->next = gone;
        gone = w;
    }
    return gone;
}

/* From the callback, under the lock: the members' prefixes in gone stop, and what
 * they brought goes from table and kernel. Frees gone. */
static void members_gone(struct fabric *f, struct watched_prefix *gone)
{
    while (gone) {
        struct watched_prefix *next = gone->next;
        char host[ADDR_STR_MAX];
        ip_addr_format(&gone->scope.host, host);
        log_info("member left an overlay; no longer watching its records", "host=%s subnet=%s",
                 host, gone->scope.subnet);
        etcd_watch_set_remove(f->set, gone->prefix); /* from the callback: does not wait */
        drop_scope_entries(f, &gone->scope);
        free(gone);
        gone = next;
    }
}

/* One event of joined/<overlay>/: a member came or went; live: from the watch, not
 * from a listing. Under the lock. */
static void on_joined_event(struct fabric *f, const struct local_network *net,
                            const struct watched_prefix *w, const struct etcd_event *ev,
                            bool live)
{
    char text[WEFT_KEY_PART_MAX];
    struct ip_addr host;
    struct weft_err err;
    weft_metrics_watch_event(ev->type == ETCD_EVENT_DELETE);
    if (key_parse_joined(ev->key, w->overlay, text) < 0 || ip_addr_parse(text, &host, &err) < 0 ||
        host.family != f->host_vtep.family)
        return; /* not a host weft could reach: no records of its to watch */
    if (ip_addr_equal(&host, &f->host_vtep))
        return; /* this host's own prefixes stay while its network does */
    if (ev->type == ETCD_EVENT_PUT)
        member_add(f, net, &host, live && ev->revision > 0 ? ev->revision : 0);
    else
        members_gone(f, watched_unlink(f, w->overlay, &host, false));
}

/* A batch of joined/<overlay>/. A listing marks the members' prefixes stale, each
 * member it names unmarks its own, and those left marked go at its end. */
static bool on_joined_batch(struct fabric *f, struct watched_prefix *w,
                            const struct etcd_event *events, size_t count)
{
    struct local_network *net = network_by_subnet(f, w->overlay);
    bool synced = false, listing = false;
    for (size_t i = 0; net && i < count; i++) {
        switch (events[i].type) {
        case ETCD_EVENT_SYNC_BEGIN:
            listing = true;
            for (struct watched_prefix *m = f->watched; m; m = m->next)
                m->stale = !m->joined && strcmp(m->overlay, w->overlay) == 0 &&
                           !ip_addr_equal(&m->scope.host, &f->host_vtep);
            break;
        case ETCD_EVENT_SYNC_END:
            members_gone(f, watched_unlink(f, w->overlay, NULL, true));
            synced = true;
            listing = false;
            break;
        case ETCD_EVENT_PUT:
        case ETCD_EVENT_DELETE:
            on_joined_event(f, net, w, &events[i], !listing);
            break;
        case ETCD_EVENT_DISCONNECTED:
            break;
        }
    }
    return synced;
}

/* Once every prefix of overlay has been listed, its segment is swept. The first
 * time (after a start or an outage) says so, as the gateway's listing does: once per
 * overlay, not again for each member that joins later. */
static void maybe_sweep(struct fabric *f, const char *overlay)
{
    struct watched_prefix *joined = NULL;
    for (struct watched_prefix *w = f->watched; w; w = w->next) {
        if (strcmp(w->overlay, overlay) != 0)
            continue;
        if (!w->listed)
            return;
        if (w->joined)
            joined = w;
    }
    struct local_network *net = network_by_subnet(f, overlay);
    if (net)
        sweep_network(f, net);
    if (joined && !joined->told_synced) {
        joined->told_synced = true;
        log_info("fabric in sync", "subnet=%s", overlay);
    }
}

static void on_set_batch(void *ctx, const char *prefix, const struct etcd_event *events,
                         size_t count)
{
    struct fabric *f = ctx;
    if (!prefix) { /* DISCONNECTED: the whole set, which lists every prefix again */
        log_warn("store unreachable; keeping the data plane as it is", NULL);
        pthread_mutex_lock(&f->lock);
        for (struct watched_prefix *w = f->watched; w; w = w->next)
            w->listed = w->told_synced = false;
        pthread_mutex_unlock(&f->lock);
        return;
    }
    pthread_mutex_lock(&f->lock);
    struct watched_prefix *w = watched_find(f, prefix);
    if (w) { /* else removed meanwhile: its network went */
        bool synced = w->joined ? on_joined_batch(f, w, events, count)
                                : watch_batch_locked(f, &w->scope, events, count);
        char overlay[ADDR_STR_MAX];
        snprintf(overlay, sizeof(overlay), "%s", w->overlay); /* w may be gone now */
        if (synced && (w = watched_find(f, prefix)) != NULL) {
            w->listed = true;
            maybe_sweep(f, overlay);
        }
    }
    pthread_mutex_unlock(&f->lock);
}

void member_watch_overlay_up(struct fabric *f, const struct local_network *net)
{
    if (!f->set)
        return;
    char prefix[WEFT_KEY_MAX];
    key_joined_prefix(prefix, net->subnet);
    watch_add(f, prefix, net->subnet, NULL, 0);
    member_add(f, net, &f->host_vtep, 0);
}

void member_watch_overlay_down(struct fabric *f, const char *overlay)
{
    if (!f->set)
        return;
    pthread_mutex_lock(&f->lock);
    struct watched_prefix *gone = watched_unlink(f, overlay, NULL, false);
    pthread_mutex_unlock(&f->lock);
    for (struct watched_prefix *w = gone; w; w = w->next) /* waits for a batch in delivery */
        etcd_watch_set_remove(f->set, w->prefix);
    pthread_mutex_lock(&f->lock);
    while (gone) {
        struct watched_prefix *next = gone->next;
        if (!gone->joined)
            drop_scope_entries(f, &gone->scope);
        free(gone);
        gone = next;
    }
    pthread_mutex_unlock(&f->lock);
}

int member_watch_open(struct fabric *f, struct weft_err *err)
{
    if (etcd_watch_set_start(f->etcd, on_set_batch, f, &f->set, err) < 0)
        return -1;
    pthread_mutex_lock(&f->lock);
    for (struct local_network *net = f->networks; net; net = net->next)
        member_watch_overlay_up(f, net);
    pthread_mutex_unlock(&f->lock);
    return 0;
}

void member_watch_close(struct fabric *f)
{
    etcd_watch_set_stop(f->set); /* NULL is fine */
    f->set = NULL;
    while (f->watched) {
        struct watched_prefix *next = f->watched->next;
        free(f->watched);
        f->watched = next;
    }
}

size_t member_watch_members(struct fabric *f, const char *overlay, char (**out)[ADDR_STR_MAX])
{
    size_t n = 0;
    for (const struct watched_prefix *w = f->watched; w; w = w->next)
        n += !w->joined && strcmp(w->scope.subnet, overlay) == 0 &&
             strcmp(w->overlay, overlay) == 0 && !ip_addr_equal(&w->scope.host, &f->host_vtep);
    *out = calloc(n ? n : 1, sizeof(**out));
    if (!*out)
        return 0;
    n = 0;
    for (const struct watched_prefix *w = f->watched; w; w = w->next)
        if (!w->joined && strcmp(w->scope.subnet, overlay) == 0 &&
            strcmp(w->overlay, overlay) == 0 && !ip_addr_equal(&w->scope.host, &f->host_vtep))
            ip_addr_format(&w->scope.host, (*out)[n++]);
    return n;
}

bool claim_predates_member(struct fabric *f, const struct fabric_record *rec, int64_t created)
{
    const struct local_network *net = network_by_subnet(f, rec->subnet);
    const struct remote_entry *member =
        remote_table_find_member(&f->remotes, net ? net->subnet : rec->subnet, &rec->host);
    return member && member->created > created;
}

void member_drop_older_claims(struct fabric *f, const struct remote_entry *member, bool listing)
{
    const struct local_network *net = network_by_subnet(f, member->subnet);
    struct remote_entry *r = f->remotes.head;
    while (r) {
        struct remote_entry *next = r->next;
        if (r->is_peer && ip_addr_equal(&r->vtep, &member->vtep) && r->created < member->created &&
            in_overlay(net, member->subnet, r->subnet)) {
            char ip[ADDR_STR_MAX], host[ADDR_STR_MAX];
            ipv4_format(ntohl(r->addr), ip);
            ip_addr_format(&r->vtep, host);
            log_warn("ignoring a claim older than its host's member record",
                     "subnet=%s ip=%s host=%s", r->subnet, ip, host);
            remote_drop(f, r, !listing);
            next = f->remotes.head; /* settling may have touched any entry: walk again */
        }
        r = next;
    }
}
