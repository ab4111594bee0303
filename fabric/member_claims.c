/*
 * member_claims.c: an address claim's check with per-member watches
 * (fabric_config.member_watch; address_claims.c has the claim and the gateway's check).
 *
 * With one watch of all fabric/, a claim read back by the watch comes with every older
 * record (etcd delivers in revision order). With a watch per member that holds for one
 * member's records only, and etcd 3.4.23's progress answer is no barrier (docs/scale.md).
 * So, after writing its claim, the claim reads its competitors from the store in one
 * transaction (one revision): its own claim (its create revision C), joined/<sk>/ (sk: the
 * overlay's first subnet) and, for each other member m the watches know, m's claim of the
 * address fabric/<m>/<s>/peers/<ip> (s: the address's subnet) and m's member record
 * fabric/<m>/<sk>/member. A member in joined/ the watches did not know yet is read in a
 * second transaction. A claim of m older than C loses this host the address, as in the
 * gateway's check, unless it is older than m's member record (then it is no claim: below).
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
    if (peer && (record_check_key(kv->key, &rec, NULL) < 0 ||
                 record_check_body(kv->value, &rec, NULL) < 0))
        return 0;
    return kv->create_revision;
}

struct claim_read {
    struct pending_claim *claim;
    const char *overlay, *ip;
    struct etcd_kvs joined;  /* joined/<sk>/, read with this host's claim */
    struct ip_addr holder;   /* the older claim's host, once found */
};

/* Reads, in one transaction, the claims of the address and the member records of hosts
 * (with, first, this host's claim and joined/<sk>/ when head), and judges each. */
static int read_hosts(struct fabric *f, struct claim_read *cr, char (*hosts)[ADDR_STR_MAX],
                      size_t n, bool head, struct weft_err *err)
{
    size_t first = head ? HEAD_READS : 0, count = first + 2 * n;
    char(*keys)[WEFT_KEY_MAX] = calloc(count, sizeof(*keys));
    struct etcd_read *reads = calloc(count, sizeof(*reads));
    struct etcd_kvs *kvs = calloc(count, sizeof(*kvs));
    int rc = keys && reads && kvs ? 0 : weft_err_set(err, -ENOMEM, "out of memory");
    if (rc == 0 && head) {
        key_peer(keys[0], f->host, cr->claim->subnet, cr->ip);
        key_joined_prefix(keys[1], cr->overlay);
        reads[1].prefix = true;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        key_peer(keys[first + 2 * i], hosts[i], cr->claim->subnet, cr->ip);
        key_member(keys[first + 2 * i + 1], hosts[i], cr->overlay);
    }
    for (size_t i = 0; rc == 0 && i < count; i++)
        reads[i].key = keys[i];
    if (rc == 0)
        rc = etcd_read_many(f->etcd, reads, count, kvs, err);
    if (rc == 0 && head && (cr->claim->created = created_in(&kvs[0], false)) == 0)
        rc = weft_err_set(err, -EAGAIN, "this host's claim of %s vanished from the store", cr->ip);
    if (rc == 0 && head) {
        cr->joined = kvs[1];
        memset(&kvs[1], 0, sizeof(kvs[1]));
    }
    for (size_t i = 0; rc == 0 && i < n && !cr->holder.family; i++) {
        int64_t theirs = created_in(&kvs[first + 2 * i], true);
        int64_t member = created_in(&kvs[first + 2 * i + 1], false);
        /* Older than its member record: made before its host joined (above). */
        if (theirs > 0 && theirs < cr->claim->created && (member == 0 || member < theirs))
            ip_addr_parse(hosts[i], &cr->holder, NULL);
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
                            char (*known)[ADDR_STR_MAX], size_t n, char (**out)[ADDR_STR_MAX])
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
        ip_addr_format(&vtep, (*out)[m]);
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(known[k], (*out)[m]) == 0;
        m += !seen;
    }
    return m;
}

int claim_check_members(struct fabric *f, struct pending_claim *claim, const char *ip,
                        struct weft_err *err)
{
    char overlay[ADDR_STR_MAX];
    char(*known)[ADDR_STR_MAX] = NULL, (*unknown)[ADDR_STR_MAX] = NULL;
    pthread_mutex_lock(&f->lock);
    const struct local_network *net = network_by_subnet(f, claim->subnet);
    snprintf(overlay, sizeof(overlay), "%s", net ? net->subnet : claim->subnet);
    size_t n = member_watch_members(f, overlay, &known);
    pthread_mutex_unlock(&f->lock);
    if (!known)
        return weft_err_set(err, -ENOMEM, "out of memory");
    struct claim_read cr = {.claim = claim, .overlay = overlay, .ip = ip};
    int rc = read_hosts(f, &cr, known, n, true, err);
    long m = rc == 0 && !cr.holder.family ? unknown_members(f, &cr, known, n, &unknown) : 0;
    if (m < 0)
        rc = weft_err_set(err, -ENOMEM, "out of memory");
    else if (m > 0) /* joined since the watches last heard: read them too */
        rc = read_hosts(f, &cr, unknown, (size_t)m, false, err);
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
