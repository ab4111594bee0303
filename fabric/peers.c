/*
 * peers.c: watch events to kernel entries. Each PUT or DELETE under fabric/ is
 * checked (record_check), applied to the remote table (remote_table.c), and
 * programmed into the segment of the local network on the same overlay; the end
 * of a listing drops what it did not mention and sweeps the kernel (stale_sweep.c).
 * With per-member watches (member_watch.c) a batch concerns one host's records of one
 * subnet (its scope): its listing marks and drops only those, and sweeps nothing.
 * A record is one host's claim (its key lies under that host's prefix, its body
 * names that host): of two claims of one address, every host programs the older
 * (the smaller create revision of its key), the next one once it goes.
 * This host's own records (under fabric/<host>/) are guarded: one changed by
 * someone else is written back.
 */
#include "fabric/fabric_internal.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/weft_metrics.h"
#include "fabric/record_check.h"
#include "fabric/stale_sweep.h"

static void remote_remove(struct fabric *f, struct remote_entry *victim);

/* Whether a peer's IPv6 address goes to the kernel too: its overlay is dual-stack
 * here and the address is one of its IPv6 pool's (a record naming another is
 * programmed for IPv4 only). On the VXLAN device, or an encrypted overlay's bridge. */
bool peer6_wanted(const struct local_network *net, const struct remote_entry *r)
{
    return r->is_peer && r->has_addr6 && network_subnet6_of(net, &r->addr6, NULL) != NULL;
}

/* A peer on a VXLAN segment: its FDB and neighbour entries, IPv6 too where wanted. */
static int peer_add(struct fabric *f, const struct local_network *net, const struct remote_entry *r,
                    struct weft_err *err)
{
    int ifindex = net->devices.vxlan_ifindex;
    if (segment_peer_add(f->nl, ifindex, r->addr, r->mac, &r->vtep, err) < 0)
        return -1;
    if (peer6_wanted(net, r) && segment_peer6_add(f->nl, ifindex, r->addr6.bytes, r->mac, err) < 0) {
        struct weft_err undo_err;
        cleanup_logged(segment_peer_del(f->nl, ifindex, r->addr, r->mac, &r->vtep, &undo_err),
                       "removing a peer's IPv4 entries", r->subnet, &undo_err);
        return -1;
    }
    return 0;
}

static int peer_del(struct fabric *f, const struct local_network *net, const struct remote_entry *r,
                    struct weft_err *err)
{
    int ifindex = net->devices.vxlan_ifindex;
    int rc = 0;
    if (peer6_wanted(net, r))
        rc = segment_peer6_del(f->nl, ifindex, r->addr6.bytes, err);
    struct weft_err err4;
    if (segment_peer_del(f->nl, ifindex, r->addr, r->mac, &r->vtep, &err4) < 0 && rc == 0) {
        *err = err4;
        rc = -1;
    }
    return rc;
}

void remote_unprogram(struct fabric *f, struct remote_entry *r)
{
    struct local_network *net = network_by_subnet(f, r->subnet);
    if (!r->programmed || !net)
        return;
    struct weft_err err;
    int rc = net->encrypted ? encrypted_entry_del(f, net, r, &err)
             : r->is_peer   ? peer_del(f, net, r, &err)
                            : segment_flood_del(f->nl, net->devices.vxlan_ifindex, &r->vtep, &err);
    if (rc < 0)
        log_warn("removing remote entry failed", "error=\"%s\"", err.msg);
    r->programmed = false;
    weft_metrics_remote_programmed(-1);
}

/* Whether the remote table knows vtep as a member of subnet. */
static bool is_member(struct fabric *f, const char *subnet, const struct ip_addr *vtep)
{
    return remote_table_find_member(&f->remotes, subnet, vtep) != NULL;
}

void remote_program(struct fabric *f, struct remote_entry *r)
{
    if (ip_addr_equal(&r->vtep, &f->host_vtep))
        return; /* our own endpoints sit on the local bridge */
    struct local_network *net = network_by_subnet(f, r->subnet);
    if (!net || r->programmed)
        return;
    /* A peer goes to the kernel if it is its address's winning (oldest) claim, once
     * its host is a member (its member record may come later: member_peers_follow
     * programs it then), and never over a local address. A claim made at allocation
     * has no endpoint (no MAC) yet: it wins, so nothing younger is programmed, but
     * has nothing to program itself. */
    if (r->is_peer && (r->claim_only || !remote_table_wins(&f->remotes, r) ||
                       !is_member(f, net->subnet, &r->vtep) || endpoint_by_ip(f, r->subnet, r->addr)))
        return;
    struct weft_err err;
    int rc = net->encrypted ? encrypted_entry_add(f, net, r, &err)
             : r->is_peer   ? peer_add(f, net, r, &err)
                            : segment_flood_add(f->nl, net->devices.vxlan_ifindex, &r->vtep, &err);
    if (rc < 0) {
        log_error("programming remote entry failed", "subnet=%s error=\"%s\"", r->subnet, err.msg);
        return;
    }
    r->programmed = true;
    weft_metrics_remote_programmed(+1);
}

/* A batch failed: which entry is not known, and each was marked programmed when
 * queued. Sends them again one at a time (adds replace, so the ones that got
 * through are unchanged); one failing again stays unprogrammed, for the next
 * listing. A failed deletion leaves a kernel entry for the sweep after the next
 * listing.
 * subnet NULL: every subnet. Under the lock, outside a batch. */
static void resend_programmed(struct fabric *f, const char *subnet, const struct weft_err *err)
{
    log_error("programming remote entries failed; retrying them one at a time",
              "subnet=%s error=\"%s\"", subnet ? subnet : "all", err->msg);
    const struct local_network *net = subnet ? network_by_subnet(f, subnet) : NULL;
    for (struct remote_entry *r = f->remotes.head; r; r = r->next) {
        if ((!subnet || in_overlay(net, subnet, r->subnet)) && r->programmed) {
            r->programmed = false;
            weft_metrics_remote_programmed(-1);
            remote_program(f, r);
        }
    }
}

/* A local network appeared: program what the cluster already has for it,
 * in one netlink batch. */
void program_subnet(struct fabric *f, const char *subnet)
{
    struct weft_err err;
    bool batched = segment_batch_begin(f->nl) == 0;
    const struct local_network *net = network_by_subnet(f, subnet);
    for (struct remote_entry *r = f->remotes.head; r; r = r->next)
        if (in_overlay(net, subnet, r->subnet))
            remote_program(f, r);
    if (batched && segment_batch_end(f->nl, &err) < 0)
        resend_programmed(f, subnet, &err);
}

/* The devices of a subnet are gone, and their entries with them (those of its network's
 * extra subnets too, while the network is still linked). */
void forget_programmed(struct fabric *f, const char *subnet)
{
    const struct local_network *net = network_by_subnet(f, subnet);
    for (struct remote_entry *r = f->remotes.head; r; r = r->next)
        if (in_overlay(net, subnet, r->subnet) && r->programmed) {
            r->programmed = false;
            weft_metrics_remote_programmed(-1);
        }
}

/* A member's peers follow it into and out of the kernel. */
static void member_peers_follow(struct fabric *f, const struct ip_addr *vtep, const char *subnet,
                                bool present)
{
    const struct local_network *net = network_by_subnet(f, subnet);
    for (struct remote_entry *r = f->remotes.head; r; r = r->next) {
        if (!r->is_peer || !ip_addr_equal(&r->vtep, vtep) || !in_overlay(net, subnet, r->subnet))
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
    struct ip_addr vtep = victim->vtep;
    char subnet[ADDR_STR_MAX];
    snprintf(subnet, sizeof(subnet), "%s", victim->subnet);
    remote_table_remove(&f->remotes, victim);
    if (member)
        member_peers_follow(f, &vtep, subnet, false);
}

void remote_drop(struct fabric *f, struct remote_entry *r, bool settle)
{
    char subnet[ADDR_STR_MAX];
    uint32_t addr = r->addr;
    bool peer = r->is_peer;
    snprintf(subnet, sizeof(subnet), "%s", r->subnet);
    remote_remove(f, r);
    if (peer && settle) /* the next oldest claim, if any, wins now */
        claims_settle(f, subnet, addr);
}

static bool in_scope(const struct watch_scope *scope, const struct remote_entry *r)
{
    return !scope ||
           (ip_addr_equal(&r->vtep, &scope->host) && strcmp(r->subnet, scope->subnet) == 0);
}

void drop_scope_entries(struct fabric *f, const struct watch_scope *scope)
{
    struct remote_entry *r = f->remotes.head;
    while (r) {
        struct remote_entry *next = r->next;
        if (in_scope(scope, r)) {
            remote_drop(f, r, true);
            next = f->remotes.head; /* settling may have touched any entry: walk again */
        }
        r = next;
    }
}

/* A claim that does not go to the kernel because another holds its address: logged
 * and counted once per claim (so per subnet, address and claiming host). */
static void note_contested(struct fabric *f, struct remote_entry *claim,
                           const struct remote_entry *winner)
{
    if (claim->contested)
        return;
    claim->contested = true;
    f->claims_contested++;
    char ip[ADDR_STR_MAX], vtep[ADDR_STR_MAX], other[ADDR_STR_MAX];
    ipv4_format(ntohl(claim->addr), ip);
    ip_addr_format(&claim->vtep, vtep);
    if (!winner) {
        log_warn("address of an endpoint on this host claimed by another host; not programmed",
                 "subnet=%s ip=%s vtep=%s contested=%lu", claim->subnet, ip, vtep,
                 f->claims_contested);
        return;
    }
    ip_addr_format(&winner->vtep, other);
    log_warn("address claimed by two hosts; the older claim wins",
             "subnet=%s ip=%s winner=%s loser=%s contested=%lu", claim->subnet, ip, other, vtep,
             f->claims_contested);
}

/* Of an address's claims only the winner (the oldest) may be in the kernel, and
 * none while an endpoint here holds the address: the others' entries go first
 * (deleting one removes the address's neighbour entry, which the winner's then
 * writes again), then the winner's. Each claim that loses, to an older one or to
 * an endpoint of this host, is noted once. */
void claims_settle(struct fabric *f, const char *subnet, uint32_t addr)
{
    struct remote_entry *winner = remote_table_find_peer(&f->remotes, subnet, addr);
    if (!winner)
        return;
    bool local = endpoint_by_ip(f, subnet, addr) != NULL;
    for (struct remote_entry *c = winner; c; c = c->next_claim) {
        if (c != winner || local)
            remote_unprogram(f, c);
        if (c != winner)
            note_contested(f, c, winner);
    }
    if (local)
        note_contested(f, winner, NULL);
    else
        remote_program(f, winner);
}

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

/* A record of a host whose VTEP is of the other family: a vxlan device sends over
 * one family only (its local VTEP's), so it can reach no such host. Refused (logged
 * once, counted) rather than programmed; a DELETE of one is forgotten. */
static void refuse_other_family(struct fabric *f, const struct etcd_event *ev,
                                const struct fabric_record *rec)
{
    if (ev->type != ETCD_EVENT_PUT) {
        rejected_records_forget(&f->rejected, ev->key);
        return;
    }
    char why[WEFT_ERR_MAX], vtep[ADDR_STR_MAX];
    ip_addr_format(&rec->host, vtep);
    snprintf(why, sizeof(why), "VTEP %s is %s, this host's underlay is %s", vtep,
             ip_addr_family_name(&rec->host), ip_addr_family_name(&f->host_vtep));
    refuse_record(f, ev, why);
}

/* Whether a PUT of a record this host owns says exactly what this host wrote. */
static bool is_own_record(const struct fabric *f, const struct fabric_record *key_part,
                          const struct local_network *net, const struct local_endpoint *ep,
                          const char *value)
{
    struct fabric_record rec = *key_part;
    if (!value || record_check_body(value, &rec, NULL) < 0)
        return false; /* a body that passes names the key's host: this one */
    if (net) /* a member record: an encrypted overlay's carries this run's key and ciphers */
        return strcmp(rec.key, net->encrypted ? f->public_key : "") == 0 &&
               (!net->encrypted || (rec.ciphers == f->ciphers && rec.partial_csum));
    /* A claim made at allocation: this host's, read back maybe after its endpoint's
     * full record was written (events come in order, the publisher's DONE earlier). */
    return !ep || rec.claim_only || memcmp(rec.mac, ep->mac, 6) == 0;
}

/* This host is the authority for its own records, exactly those under
 * fabric/<host>/ (another host's prefix is never ours): the member record of each
 * of its overlays and the peer record of each of its endpoints. None enters the
 * remote table. One changed or deleted by someone else is logged and written back
 * (by the publisher: outside the watch). One for nothing this host has (a network
 * or endpoint just removed, whose DELETE follows, or forged) is checked like any
 * record, and otherwise left alone: there is nothing to program for it. Another
 * host's claim of an address held here stays in the table, never programmed while
 * the address is held here (remote_program), and programmed once it is not
 * (endpoint_remove_locked), should it still stand then. */
static void guard_own_record(struct fabric *f, const struct etcd_event *ev,
                             const struct fabric_record *key_part)
{
    struct local_network *net = NULL;
    struct local_endpoint *ep = NULL;
    if (key_part->is_peer)
        ep = endpoint_by_ip(f, key_part->subnet, key_part->addr);
    else
        net = network_by_subnet(f, key_part->subnet);
    const char *value = ev->type == ETCD_EVENT_PUT ? ev->value : NULL;
    if (key_part->is_peer)
        claims_note_own(f, ev, key_part);
    if (!ep && !net) {
        struct fabric_record rec = *key_part;
        struct weft_err err;
        if (value && record_check_body(value, &rec, &err) < 0)
            refuse_record(f, ev, err.msg);
        else
            rejected_records_forget(&f->rejected, ev->key);
        return;
    }
    if (is_own_record(f, key_part, net, ep, value)) {
        rejected_records_forget(&f->rejected, ev->key);
        return;
    }
    bool rewrite = net ? !net->closing : !ep->removing;
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
}

/* Whether a record's body moves its entry (or gives it a new key). */
static bool body_differs(const struct remote_entry *r, const struct fabric_record *rec)
{
    return memcmp(r->mac, rec->mac, 6) != 0 || r->claim_only != rec->claim_only ||
           !remote_table_key_is(r, rec->key) || r->ciphers != rec->ciphers ||
           r->partial_csum != rec->partial_csum || r->has_addr6 != rec->has_addr6 ||
           memcmp(&r->addr6, &rec->addr6, sizeof(rec->addr6)) != 0;
}

/* The body of rec into its entry r. -1 when its key could not be kept (out of memory):
 * the caller drops the entry. */
static int take_body(struct fabric *f, struct remote_entry *r, const struct fabric_record *rec)
{
    if (remote_table_set_key(r, rec->key) < 0) {
        log_error("out of memory for a member's key", "subnet=%s", rec->subnet);
        return -1;
    }
    memcpy(r->mac, rec->mac, 6);
    r->has_addr6 = rec->has_addr6;
    r->addr6 = rec->addr6;
    r->claim_only = rec->claim_only;
    r->ciphers = (uint8_t)rec->ciphers;
    r->partial_csum = rec->partial_csum;
    if (remote_table_set_names(&f->remotes, r, rec->names) < 0)
        log_error("out of memory for a peer's names", "subnet=%s", rec->subnet);
    r->stale = false;
    return 0;
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
    if (ip_addr_equal(&rec.host, &f->host_vtep)) {
        guard_own_record(f, ev, &rec);
        return;
    }
    if (rec.host.family != f->host_vtep.family) {
        refuse_other_family(f, ev, &rec);
        return;
    }
    struct remote_entry *r =
        remote_table_find_claim(&f->remotes, rec.subnet, rec.is_peer, rec.addr, &rec.host);
    if (ev->type == ETCD_EVENT_DELETE) {
        rejected_records_forget(&f->rejected, ev->key);
        if (r)
            remote_drop(f, r, true);
        return;
    }
    if (f->member_watch && rec.is_peer && claim_predates_member(f, &rec, ev->create_revision)) {
        refuse_record(f, ev, "claim older than its host's member record of the overlay");
        if (r)
            remote_drop(f, r, !listing);
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
    rejected_records_forget(&f->rejected, ev->key);
    if (r && body_differs(r, &rec))
        remote_unprogram(f, r); /* moved (or a new key): drop the old entry, write the new */
    bool new_member = !r && !rec.is_peer;
    if (!r && !(r = remote_table_add(&f->remotes, rec.subnet, rec.is_peer, rec.addr, &rec.host,
                                     ev->create_revision))) {
        log_error("out of memory for a remote entry", "subnet=%s", rec.subnet);
        return;
    }
    /* Created again (a listing after missed events): it may lose, or win, now. */
    bool created_again = r->created != ev->create_revision;
    remote_table_set_created(&f->remotes, r, ev->create_revision);
    if (f->member_watch && !rec.is_peer && (new_member || created_again))
        member_drop_older_claims(f, r, listing);
    if (take_body(f, r, &rec) < 0) { /* never programmed without its key */
        remote_drop(f, r, !listing);
        return;
    }
    if (listing)
        return;
    if (r->is_peer)
        claims_settle(f, r->subnet, r->addr);
    else
        remote_program(f, r);
    if (new_member) /* its peers may have come first */
        member_peers_follow(f, &r->vtep, r->subnet, true);
}

/* The end of a listing: what it did not mention is gone. Stale entries are
 * removed, and claims that lose now (an older one was listed) taken out, before
 * anything is added, so a MAC or address that moved is not deleted again after
 * its new entry was written. */
static void sync_end(struct fabric *f, const struct watch_scope *scope, int64_t revision)
{
    struct remote_entry *r = f->remotes.head;
    while (r) {
        struct remote_entry *next = r->next;
        if (r->stale)
            remote_remove(f, r);
        r = next;
    }
    for (r = f->remotes.head; r; r = r->next)
        if (r->is_peer && !remote_table_wins(&f->remotes, r))
            remote_unprogram(f, r);
    for (r = f->remotes.head; r; r = r->next) {
        if (r->is_peer && remote_table_wins(&f->remotes, r))
            claims_settle(f, r->subnet, r->addr);
        else if (!r->is_peer)
            remote_program(f, r);
    }
    if (!scope) {
        log_info("fabric in sync", "revision=%" PRId64, revision);
        return;
    }
    char host[ADDR_STR_MAX];
    ip_addr_format(&scope->host, host);
    log_debug("member's records in sync", "host=%s subnet=%s revision=%" PRId64, host,
              scope->subnet, revision);
}

/* After a listing, the kernel holds exactly what the table holds as programmed:
 * entries an earlier run of the daemon programmed for peers that left while it
 * was down are named by no event, so they are found in the kernel and removed. */
void sweep_network(struct fabric *f, struct local_network *net)
{
    struct weft_err err;
    size_t removed;
    /* An encrypted overlay's map and sessions start empty each run, but its TAP and
     * bridge persist with their entries as the VXLAN device does (devices.vxlan is its
     * TAP). Without a data path its peers cannot be programmed: its entries stay for
     * when it has one again. */
    if (net->encrypted && !net->vteps)
        return;
    const char *subnets[1 + FABRIC_EXTRA_SUBNETS_MAX] = {net->subnet};
    for (int i = 0; i < net->extra_count; i++)
        subnets[1 + i] = net->extra_subnets[i];
    const struct segment_sweep_target at =
        net->encrypted ? segment_sweep_tap(net->devices.bridge_ifindex, net->devices.vxlan_ifindex)
                       : segment_sweep_vxlan(net->devices.vxlan_ifindex);
    if (fabric_sweep_segment(f->nl, &at, &f->remotes, subnets, 1 + (size_t)net->extra_count,
                             &removed, &err) < 0)
        log_warn("sweeping stale remote entries failed", "subnet=%s error=\"%s\"", net->subnet,
                 err.msg);
    else if (removed > 0)
        log_info("removed stale remote entries", "subnet=%s count=%zu", net->subnet, removed);
}

/* One batch of the watch: a whole listing, or a burst of changes. It is applied
 * under one hold of the lock and sent to the kernel as one netlink batch, so a
 * burst of N peers costs one round trip rather than N. No batch stays open
 * after the callback: a request thread takes the lock next and needs netlink
 * answered at once. */
bool watch_batch_locked(struct fabric *f, const struct watch_scope *scope,
                        const struct etcd_event *events, size_t count)
{
    struct weft_err err;
    bool batched = segment_batch_begin(f->nl) == 0;
    bool listing = false, synced = false;
    for (size_t i = 0; i < count; i++) {
        const struct etcd_event *ev = &events[i];
        switch (ev->type) {
        case ETCD_EVENT_SYNC_BEGIN:
            weft_metrics_watch_resync();
            for (struct remote_entry *r = f->remotes.head; r; r = r->next)
                r->stale = r->stale || in_scope(scope, r);
            if (!scope) /* a per-member listing keeps the others' notes */
                rejected_records_mark_stale(&f->rejected);
            listing = true;
            break;
        case ETCD_EVENT_SYNC_END:
            if (!scope)
                rejected_records_drop_stale(&f->rejected);
            sync_end(f, scope, ev->revision);
            listing = false;
            synced = true;
            /* The sweep reads the kernel, which a batch cannot: send what is queued. */
            if (batched && segment_batch_end(f->nl, &err) < 0)
                resend_programmed(f, NULL, &err);
            for (struct local_network *net = f->networks; net && !scope; net = net->next)
                sweep_network(f, net);
            batched = segment_batch_begin(f->nl) == 0;
            break;
        case ETCD_EVENT_DISCONNECTED:
            log_warn("store unreachable; keeping the data plane as it is", NULL);
            break;
        case ETCD_EVENT_PUT:
        case ETCD_EVENT_DELETE:
            weft_metrics_watch_event(ev->type == ETCD_EVENT_DELETE);
            on_fabric_event(f, ev, listing);
            break;
        }
    }
    if (batched && segment_batch_end(f->nl, &err) < 0)
        resend_programmed(f, NULL, &err);
    return synced;
}

void watch_callback(void *ctx, const struct etcd_event *events, size_t count)
{
    struct fabric *f = ctx;
    pthread_mutex_lock(&f->lock);
    watch_batch_locked(f, NULL, events, count);
    claims_watch_progress(f, events, count);
    pthread_mutex_unlock(&f->lock);
}
