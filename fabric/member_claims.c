/*
 * member_claims.c: an address claim's check with per-member watches
 * (fabric_config.member_watch; address_claims.c has the claim and the gateway's check).
 *
 * With one watch of all fabric/, a claim read back by the watch comes with every older
 * record (etcd delivers in revision order). With a watch per member that holds for one
 * member's records only, and etcd 3.4.23's progress answer is no barrier (docs/scale.md).
 * So the claim is written in a transaction that also reads its competitors (after the
 * put; beyond etcd's 128 operations a transaction, in the next ones): its own claim back (its create revision C), joined/<sk>/ (sk: the
 * overlay's first subnet) and, for each other member m the watches know, m's claim of the
 * address fabric/<m>/<s>/peers/<ip> (s: the address's subnet), with m's member record
 * fabric/<m>/<sk>/member unless the table holds it. A member in joined/ the watches did
 * not know yet is read (claim and member record) in a second transaction. A claim of m
 * older than C loses this host the address, as in the gateway's check, unless it is older
 * than m's member record (then it is no claim: below).
 *
 * Why that suffices: every read comes after C was written. A claim older than C that still
 * stands is then seen (its host is in joined/: a member's joined/ entry and member record
 * are written together, before its claims); one deleted before the read no longer wins
 * anywhere. A host that joins after the read writes its member record after C, so its
 * claims are either younger than C or older than its member record: neither matters, and
 * joined/ need not be read again.
 *
 * Why a non-member's claim cannot matter. A host that is not in joined/<sk>/ is
 * watched by no member of the overlay (member_watch.c watches fabric/<m>/ of the
 * members only), so its claim enters no host's table: it is programmed nowhere and
 * makes no claim lose anywhere; this check does not read it either, so all agree.
 * Should that host join later, its member record (written with its joined/ entry,
 * and before any claim it makes as a member: CreateNetwork precedes RequestAddress,
 * restarts and lost leases write members before peers) is younger than the claim it
 * forged before, and every host refuses a claim older than its host's member record
 * (claim_predates_member, peers.c), as this check ignores it. A host in joined/ with
 * no member record is counted, here and in every table (its claim wins, unprogrammed):
 * the address is refused, as the gateway's check would. The cost: a member record
 * deleted by someone with write access to its host's prefix and written back is younger
 * than that host's standing claims, which then count for nothing until written again.
 * Shown by tests/fakes/test_fabric_members.c and tests/integration/member_watch.sh.
 */
#include "fabric/fabric_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "store/keys.h"

#define HEAD_READS 2 /* this host's claim, joined/<sk>/ */

/* The create revision of a read's key, 0 when absent; a peer claim's counts only when
 * its key and body pass the checks every reader applies (a refused record claims nothing). */
static int64_t created_in(const struct etcd_kvs *kvs, bool peer)
{
    if (kvs->count == 0)
        return 0;
    const struct etcd_kv *kv = &kvs->items[0];
    struct fabric_record rec;
    if (peer &&
        (record_check_key(kv->key, &rec, NULL) < 0 || record_check_body(kv->value, &rec, NULL) < 0))
        return 0;
    return kv->create_revision;
}

/* Another member: its VTEP's text, and its member record's create revision as the
 * table holds it (0: not known; read with its claim). */
struct competitor {
    char host[ADDR_STR_MAX];
    int64_t member;
};

struct claim_read {
    struct pending_claim *claim;
    const char *overlay, *ip;
    const char *key, *text; /* this host's claim, written by the first read */
    int64_t lease;
    struct etcd_kvs joined; /* joined/<sk>/, read with this host's claim */
    struct ip_addr holder;  /* the older claim's host, once found */
};

static size_t reads_of(const struct competitor *c)
{
    return c->member ? 1 : 2;
}

/* Reads, in one transaction, the competitors' claims of the address and the member
 * records the table does not know; with head, first writes this host's claim and reads
 * it back with joined/<sk>/. Judges each competitor. */
static int read_competitors(struct fabric *f, struct claim_read *cr, struct competitor *c, size_t n,
                            bool head, struct weft_err *err)
{
    size_t count = head ? HEAD_READS : 0;
    for (size_t i = 0; i < n; i++)
        count += reads_of(&c[i]);
    char(*keys)[WEFT_KEY_MAX] = calloc(count + 1, sizeof(*keys));
    struct etcd_read *reads = calloc(count + 1, sizeof(*reads));
    struct etcd_kvs *kvs = calloc(count + 1, sizeof(*kvs));
    int rc = keys && reads && kvs ? 0 : weft_err_set(err, -ENOMEM, "out of memory");
    size_t k = 0;
    if (rc == 0 && head) {
        key_peer(keys[k++], f->host, cr->claim->subnet, cr->ip);
        key_joined_prefix(keys[k], cr->overlay);
        reads[k++].prefix = true;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        key_peer(keys[k++], c[i].host, cr->claim->subnet, cr->ip);
        if (!c[i].member)
            key_member(keys[k++], c[i].host, cr->overlay);
    }
    for (size_t i = 0; rc == 0 && i < count; i++)
        reads[i].key = keys[i];
    if (rc == 0)
        rc = etcd_put_read_many(f->etcd, head ? cr->key : NULL, cr->text, cr->lease, reads, count,
                                kvs, err);
    if (rc == 0 && head && (cr->claim->created = created_in(&kvs[0], false)) == 0)
        rc = weft_err_set(err, -EAGAIN, "this host's claim of %s vanished from the store", cr->ip);
    if (rc == 0 && head) {
        cr->joined = kvs[1];
        memset(&kvs[1], 0, sizeof(kvs[1]));
    }
    k = head ? HEAD_READS : 0;
    for (size_t i = 0; rc == 0 && i < n; k += reads_of(&c[i]), i++) {
        int64_t theirs = created_in(&kvs[k], true);
        int64_t member = c[i].member ? c[i].member : created_in(&kvs[k + 1], false);
        /* Older than its member record: made before its host joined (above). */
        if (!cr->holder.family && theirs > 0 && theirs < cr->claim->created &&
            (member == 0 || member < theirs))
            ip_addr_parse(c[i].host, &cr->holder, NULL);
    }
    for (size_t i = 0; kvs && i < count; i++) /* zeroed where nothing was read */
        etcd_kvs_free(&kvs[i]);
    free(kvs);
    free(reads);
    free(keys);
    return rc;
}

/* The hosts of joined/<sk>/ (read with the claim) that are not in known[0..n) nor this
 * host, into *out (malloc'd); returns how many, -1 when out of memory. */
static long unknown_members(struct fabric *f, const struct claim_read *cr,
                            const struct competitor *known, size_t n, struct competitor **out)
{
    *out = calloc(cr->joined.count + 1, sizeof(**out));
    if (!*out)
        return -1;
    long m = 0;
    for (size_t i = 0; i < cr->joined.count; i++) {
        char text[WEFT_KEY_PART_MAX];
        struct ip_addr vtep;
        if (key_parse_joined(cr->joined.items[i].key, cr->overlay, text) < 0 ||
            ip_addr_parse(text, &vtep, NULL) < 0 || ip_addr_equal(&vtep, &f->host_vtep))
            continue;
        ip_addr_format(&vtep, (*out)[m].host);
        bool seen = false;
        for (size_t j = 0; j < n && !seen; j++)
            seen = strcmp(known[j].host, (*out)[m].host) == 0;
        m += !seen;
    }
    return m;
}

/* Under the lock: the other members the watches know, with their member records' ages. */
static struct competitor *known_members(struct fabric *f, const char *overlay, size_t *n)
{
    char(*hosts)[ADDR_STR_MAX] = NULL;
    *n = member_watch_members(f, overlay, &hosts);
    struct competitor *c = hosts ? calloc(*n + 1, sizeof(*c)) : NULL;
    for (size_t i = 0; c && i < *n; i++) {
        struct ip_addr vtep;
        snprintf(c[i].host, sizeof(c[i].host), "%s", hosts[i]);
        const struct remote_entry *member =
            ip_addr_parse(hosts[i], &vtep, NULL) == 0
                ? remote_table_find_member(&f->remotes, overlay, &vtep)
                : NULL;
        c[i].member = member ? member->created : 0;
    }
    free(hosts);
    return c;
}

int claim_write_members(struct fabric *f, struct pending_claim *claim, const char *key,
                        const char *text, int64_t lease, const char *ip, struct weft_err *err)
{
    char overlay[ADDR_STR_MAX];
    struct competitor *unknown = NULL;
    size_t n;
    pthread_mutex_lock(&f->lock);
    const struct local_network *net = network_by_subnet(f, claim->subnet);
    snprintf(overlay, sizeof(overlay), "%s", net ? net->subnet : claim->subnet);
    struct competitor *known = known_members(f, overlay, &n);
    pthread_mutex_unlock(&f->lock);
    if (!known)
        return weft_err_set(err, -ENOMEM, "out of memory");
    struct claim_read cr = {
        .claim = claim, .overlay = overlay, .ip = ip, .key = key, .text = text, .lease = lease};
    int rc = read_competitors(f, &cr, known, n, true, err);
    long m = rc == 0 && !cr.holder.family ? unknown_members(f, &cr, known, n, &unknown) : 0;
    if (m < 0)
        rc = weft_err_set(err, -ENOMEM, "out of memory");
    else if (m > 0) /* joined since the watches last heard: read them too */
        rc = read_competitors(f, &cr, unknown, (size_t)m, false, err);
    free(unknown);
    free(known);
    etcd_kvs_free(&cr.joined);
    if (rc == 0 && cr.holder.family) {
        pthread_mutex_lock(&f->lock);
        rc = claim_refuse(f, claim, ip, &cr.holder, err);
        pthread_mutex_unlock(&f->lock);
    }
    return rc;
}
