/*
 * member_claims.c: an address claim's check with per-member watches
 * (fabric_config.member_watch; address_claims.c has the claim and the gateway's check).
 *
 * With one watch of all fabric/, a claim read back by the watch comes with every older
 * record (etcd delivers in revision order). With a watch per member that holds for one
 * member's records only, and etcd 3.4.23's progress answer is no barrier (docs/scale.md).
 * So, after writing its claim at create revision C, the claim reads its competitors
 * from the store: joined/<sk>/ (sk: the overlay's first subnet), then, for each member
 * m but this host, m's member record fabric/<m>/<sk>/member and m's claim of the
 * address fabric/<m>/<s>/peers/<ip> (s: the address's subnet). A claim of m older
 * than C loses this host the address, as in the gateway's check, unless it is older
 * than m's member record (then it is no claim: below).
 *
 * Why reads one after another suffice (no transaction, no common revision): each is
 * made after C was written. A claim older than C that still stands when read is seen;
 * one deleted before it is read no longer wins anywhere. A host that joins after
 * joined/<sk>/ was read writes its member record after C, so its claims are either
 * younger than C or older than its member record: neither matters, so joined/ need
 * not be read again.
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
 * Shown by tests/integration/member_watch.sh.
 */
#include "fabric/fabric_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "store/keys.h"

/* The create revision of key, 0 when absent; a peer claim's is counted only when its
 * key and body pass the checks every reader applies (a refused record claims nothing). */
static int created_of(struct fabric *f, const char *key, bool peer, int64_t *created,
                      struct weft_err *err)
{
    struct etcd_kv kv = {0};
    bool found = false;
    *created = 0;
    if (etcd_get(f->etcd, key, &kv, &found, err) < 0)
        return -1;
    struct fabric_record rec;
    if (found && (!peer || (record_check_key(kv.key, &rec, NULL) == 0 &&
                            record_check_body(kv.value, &rec, NULL) == 0)))
        *created = kv.create_revision;
    etcd_kv_clear(&kv);
    return 0;
}

/* Whether member host holds an older live claim of the address than mine. */
static int member_older(struct fabric *f, const char *overlay, const struct pending_claim *claim,
                        const char *host, const char *ip, int64_t mine, bool *older,
                        struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    int64_t member = 0, theirs = 0;
    *older = false;
    key_peer(key, host, claim->subnet, ip);
    if (created_of(f, key, true, &theirs, err) < 0)
        return -1;
    if (theirs == 0 || theirs >= mine)
        return 0;
    key_member(key, host, overlay);
    if (created_of(f, key, false, &member, err) < 0)
        return -1;
    *older = member == 0 || member < theirs; /* else forged before its host joined */
    return 0;
}

int claim_check_members(struct fabric *f, struct pending_claim *claim, const char *ip,
                        struct weft_err *err)
{
    char overlay[ADDR_STR_MAX], key[WEFT_KEY_MAX];
    pthread_mutex_lock(&f->lock);
    const struct local_network *net = network_by_subnet(f, claim->subnet);
    snprintf(overlay, sizeof(overlay), "%s", net ? net->subnet : claim->subnet);
    pthread_mutex_unlock(&f->lock);
    int64_t mine;
    key_peer(key, f->host, claim->subnet, ip);
    if (created_of(f, key, false, &mine, err) < 0)
        return -1;
    if (mine == 0)
        return weft_err_set(err, -EAGAIN, "this host's claim of %s vanished from the store", ip);
    claim->created = mine;
    struct etcd_kvs members;
    key_joined_prefix(key, overlay);
    if (etcd_get_prefix(f->etcd, key, &members, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < members.count; i++) {
        char text[WEFT_KEY_PART_MAX], host[ADDR_STR_MAX];
        struct ip_addr vtep;
        bool older;
        if (key_parse_joined(members.items[i].key, overlay, text) < 0 ||
            ip_addr_parse(text, &vtep, NULL) < 0 || ip_addr_equal(&vtep, &f->host_vtep))
            continue;
        ip_addr_format(&vtep, host);
        rc = member_older(f, overlay, claim, host, ip, mine, &older, err);
        if (rc == 0 && older) {
            pthread_mutex_lock(&f->lock);
            rc = claim_refuse(f, claim, ip, &vtep, err);
            pthread_mutex_unlock(&f->lock);
        }
    }
    etcd_kvs_free(&members);
    return rc;
}
