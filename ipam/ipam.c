/*
 * ipam.c: address allocation shared by every host through etcd (see ipam.h).
 *
 * One key per allocated address, created with a create-if-absent
 * transaction: whichever host's transaction commits first owns the address,
 * the others move on to another. Hosts start their search at random places in
 * the pool so that concurrent requests rarely want the same address.
 */
#include "ipam/ipam.h"
#include "ipam/ipam6.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/addr6.h"
#include "common/log.h"
#include "common/weft_metrics.h"
#include "ipam/ipam_internal.h"
#include "store/keys.h"
#include "store/records.h"

/* Lost races before the taken set is read again. */
#define MISSES_BEFORE_REFRESH 8
#define MAX_ATTEMPTS 256

int ipam_request_pool(const char *requested, const char *sub_pool, char pool_id[IPAM_POOL_ID_MAX],
                      struct weft_err *err)
{
    if (!requested || !*requested)
        return weft_err_set(err, -EINVAL,
                            "weft needs --subnet: every host must name the same overlay by its "
                            "subnet (docker network create --subnet 10.77.0.0/24 ...)");
    if (addr_text_is_ipv6(requested))
        return ipam6_request_pool(requested, sub_pool, pool_id, err);
    struct ipam_pool pool;
    if (ipam_pool_new(requested, sub_pool, &pool, err) < 0)
        return -1;
    ipam_pool_format(&pool, pool_id);
    return 0;
}

/* A pool ID that does not parse names no pool weft handed out: -ENOENT. *pool
 * gets the subnet (the dynamic span goes through ipam_pool_span). */
static int parse_pool(const char *pool_id, struct ipv4_subnet *pool, struct weft_err *err)
{
    struct ipam_pool parsed;
    if (ipam_pool_parse(pool_id, &parsed, err) < 0)
        return -1;
    *pool = parsed.subnet;
    return 0;
}

void ipam_format_answer(const struct ipv4_subnet *pool, uint32_t ip, char out[ADDR_STR_MAX])
{
    char text[ADDR_STR_MAX];
    ipv4_format(ip, text);
    snprintf(out, ADDR_STR_MAX, "%.15s/%d", text, pool->prefix_len & 63);
}

/* A random token for one allocation's record: 128 bits, so no two writes of any
 * host ever share one. */
static int claim_token(char out[RECORD_TEXT_MAX], struct weft_err *err)
{
    unsigned char bytes[16];
    if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
        return weft_err_set(err, -EAGAIN, "no random bytes for an address claim");
    for (size_t i = 0; i < sizeof(bytes); i++)
        snprintf(out + 2 * i, 3, "%02x", bytes[i]);
    return 0;
}

/* Tries to take ip for host. *taken is set when someone holds it; owner (may be
 * NULL) then receives the holder's record.
 * The store client retries a create that timed out on another member, and the
 * first try may have committed: the record carries a token unique to this call,
 * so etcd_create recognises the retry's "taken" as its own write and answers
 * created. Without the token a concurrent request of this same host for the same
 * address would look alike and both would get it. */
int ipam_try_claim_text(struct etcd *etcd, const char *pool_id, const char *ip_text,
                        const char *host, const char *kind, bool *taken,
                        struct addr_record *owner, struct weft_err *err)
{
    char key[WEFT_KEY_MAX];
    key_addr(key, pool_id, ip_text);
    struct addr_record rec = {0};
    snprintf(rec.host, sizeof(rec.host), "%s", host);
    snprintf(rec.kind, sizeof(rec.kind), "%s", kind);
    if (claim_token(rec.claim, err) < 0)
        return -1;
    char *value = addr_record_encode(&rec);
    if (!value)
        return weft_err_set(err, -ENOMEM, "out of memory");
    bool created = false;
    struct etcd_kv existing = {0};
    int rc = etcd_create(etcd, key, value, 0, &created, owner ? &existing : NULL, err);
    free(value);
    if (rc < 0)
        return -1;
    *taken = !created;
    weft_metrics_ipam_claim(kind, created);
    if (owner && !created) {
        /* A yes/no test: an unreadable holder is still a holder, named "unknown". */
        if (addr_record_decode(existing.value, owner, NULL) < 0) {
            memset(owner, 0, sizeof(*owner));
            snprintf(owner->kind, sizeof(owner->kind), "unknown");
            snprintf(owner->host, sizeof(owner->host), "unknown");
        }
    }
    etcd_kv_clear(&existing);
    return 0;
}

int ipam_try_claim(struct etcd *etcd, const char *pool_id, uint32_t ip, const char *host,
                   const char *kind, bool *taken, struct addr_record *owner, struct weft_err *err)
{
    char ip_text[ADDR_STR_MAX];
    ipv4_format(ip, ip_text);
    return ipam_try_claim_text(etcd, pool_id, ip_text, host, kind, taken, owner, err);
}

/* After try_claim took ip, the fabric's claim of it (ipam.h). 0: this host's.
 * 1: another host claimed it first; -1: failed. Unless 0, the allocation is freed
 * again, and err says why. */
static int claim_in_fabric(struct etcd *etcd, const char *pool_id, const char *host, uint32_t ip,
                           const struct ipam_claims *claims, struct weft_err *err)
{
    if (!claims || !claims->claim)
        return 0;
    char text[ADDR_STR_MAX];
    ipv4_format(ip, text);
    if (claims->claim(claims->ctx, pool_id, text, err) == 0)
        return 0;
    if (err->code == -EADDRINUSE)
        weft_metrics_ipam_conflict();
    struct weft_err undo = {0};
    if (ipam_release_address(etcd, pool_id, host, text, &undo) < 0)
        log_error("freeing an address the fabric refused failed", "pool=%s ip=%s error=\"%s\"",
                  pool_id, text, undo.msg);
    return err->code == -EADDRINUSE ? 1 : -1;
}

/* Whether the fabric already knows another host's claim of ip. */
static bool claimed_elsewhere(const struct ipam_claims *claims, const char *pool_id, uint32_t ip)
{
    return claims && claims->claimed_elsewhere &&
           claims->claimed_elsewhere(claims->ctx, pool_id, ip);
}

static int request_gateway(struct etcd *etcd, const char *pool_id, const struct ipv4_subnet *pool,
                           const char *host, uint32_t ip, char out[ADDR_STR_MAX],
                           struct weft_err *err)
{
    bool taken;
    struct addr_record owner;
    if (ipam_try_claim(etcd, pool_id, ip, host, KIND_GATEWAY, &taken, &owner, err) < 0)
        return -1;
    if (taken && strcmp(owner.kind, KIND_GATEWAY) != 0) {
        char text[ADDR_STR_MAX];
        ipv4_format(ip, text);
        if (strcmp(owner.kind, KIND_AUX) == 0)
            return weft_err_set(err, -EEXIST, "gateway %s of %s is reserved by --aux-address",
                                text, pool_id);
        return weft_err_set(err, -EEXIST,
                            "gateway %s of %s is already used by an endpoint on host %s", text,
                            pool_id, owner.host);
    }
    /* Taken as a gateway: another host reserved it, and it is shared by all. */
    ipam_format_answer(pool, ip, out);
    return 0;
}

static int request_wanted(struct etcd *etcd, const char *pool_id, const struct ipv4_subnet *pool,
                          const char *host, uint32_t ip, const struct ipam_claims *claims,
                          char out[ADDR_STR_MAX], struct weft_err *err)
{
    char text[ADDR_STR_MAX];
    ipv4_format(ip, text);
    bool taken;
    struct addr_record owner;
    if (ipam_try_claim(etcd, pool_id, ip, host, KIND_ENDPOINT, &taken, &owner, err) < 0)
        return -1;
    if (taken) {
        if (strcmp(owner.kind, KIND_GATEWAY) == 0)
            return weft_err_set(err, -EEXIST, "address %s is the gateway of %s", text, pool_id);
        if (strcmp(owner.kind, KIND_AUX) == 0)
            return weft_err_set(err, -EEXIST, "address %s of %s is reserved by --aux-address",
                                text, pool_id);
        return weft_err_set(err, -EEXIST, "address %s is already in use by an endpoint on host %s",
                            text, owner.host);
    }
    int claimed = claim_in_fabric(etcd, pool_id, host, ip, claims, err);
    if (claimed != 0) {
        if (claimed > 0)
            err->code = -EEXIST; /* an exact request is refused, as for a taken address */
        return -1;
    }
    ipam_format_answer(pool, ip, out);
    return 0;
}

/* The addresses request_any may hand out: [first, first + count). */
struct span {
    uint32_t first, count;
};

/* Reads which addresses of the span are taken, as a bitmap over offsets from its first. */
static int read_taken(struct etcd *etcd, const char *pool_id, const struct span *span,
                      uint8_t *taken, uint32_t *in_use, struct weft_err *err)
{
    char prefix[WEFT_KEY_MAX];
    key_addr_prefix(prefix, pool_id);
    struct etcd_kvs kvs;
    if (etcd_get_prefix(etcd, prefix, &kvs, err) < 0)
        return -1;
    memset(taken, 0, (span->count + 7) / 8);
    *in_use = 0;
    size_t prefix_len = strlen(prefix);
    for (size_t i = 0; i < kvs.count; i++) {
        uint32_t ip;
        /* A yes/no test: a key that names no address of the pool takes none. */
        if (ipv4_parse(kvs.items[i].key + prefix_len, &ip, NULL) < 0 || ip < span->first ||
            ip - span->first >= span->count)
            continue;
        uint32_t offset = ip - span->first;
        taken[offset / 8] |= (uint8_t)(1u << (offset % 8));
        (*in_use)++;
    }
    etcd_kvs_free(&kvs);
    return 0;
}

static uint32_t random_below(uint32_t n)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (uint32_t)rand();
    return n ? r % n : 0;
}

/* Blind probes first: in a pool that is mostly free, a random address is almost
 * always free, and one transaction beats reading the whole pool. */
#define BLIND_PROBES 3

static int request_any(struct etcd *etcd, const char *pool_id, const struct ipv4_subnet *pool,
                       const struct span *span, const char *host, const struct ipam_claims *claims,
                       char out[ADDR_STR_MAX], struct weft_err *err)
{
    uint32_t hosts = span->count;
    bool lost;
    for (int probe = 0; probe < BLIND_PROBES && hosts >= 64; probe++) {
        uint32_t ip = span->first + random_below(hosts);
        if (claimed_elsewhere(claims, pool_id, ip))
            continue;
        if (ipam_try_claim(etcd, pool_id, ip, host, KIND_ENDPOINT, &lost, NULL, err) < 0)
            return -1;
        if (lost)
            continue;
        int claimed = claim_in_fabric(etcd, pool_id, host, ip, claims, err);
        if (claimed < 0)
            return -1;
        if (claimed == 0) {
            ipam_format_answer(pool, ip, out);
            return 0;
        }
    }
    uint8_t *taken = malloc((hosts + 7) / 8);
    if (!taken)
        return weft_err_set(err, -ENOMEM, "out of memory");
    int rc = -1;
    uint32_t in_use = 0, cursor = random_below(hosts);
    int misses = MISSES_BEFORE_REFRESH;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (misses >= MISSES_BEFORE_REFRESH) {
            if (read_taken(etcd, pool_id, span, taken, &in_use, err) < 0)
                goto out;
            misses = 0;
        }
        uint32_t offset = cursor, scanned = 0, foreign = 0;
        while (scanned < hosts) {
            if (!(taken[offset / 8] & (1u << (offset % 8)))) {
                if (!claimed_elsewhere(claims, pool_id, span->first + offset))
                    break;
                foreign++;
            }
            offset = (offset + 1) % hosts;
            scanned++;
        }
        if (scanned == hosts && foreign) {
            weft_err_set(err, -ENOSPC,
                         "pool %s has no free address (%u in use; %u more claimed in the fabric "
                         "by hosts that hold no allocation of them: see the log)",
                         pool_id, in_use, foreign);
            goto out;
        }
        if (scanned == hosts) {
            weft_err_set(err, -ENOSPC, "pool %s has no free address (%u in use)", pool_id, in_use);
            goto out;
        }
        uint32_t ip = span->first + offset;
        if (ipam_try_claim(etcd, pool_id, ip, host, KIND_ENDPOINT, &lost, NULL, err) < 0)
            goto out;
        int claimed = lost ? 1 : claim_in_fabric(etcd, pool_id, host, ip, claims, err);
        if (claimed < 0)
            goto out;
        if (claimed == 0) {
            ipam_format_answer(pool, ip, out);
            rc = 0;
            goto out;
        }
        /* Another host won it (or claimed it first in the fabric): mark it and jump
         * elsewhere to stop trailing the winner. */
        taken[offset / 8] |= (uint8_t)(1u << (offset % 8));
        in_use++;
        cursor = random_below(hosts);
        misses++;
    }
    weft_err_set(err, -EAGAIN,
                 "could not allocate an address in %s: too much contention, try again", pool_id);
out:
    free(taken);
    return rc;
}

int ipam_request_address(struct etcd *etcd, const char *pool_id, const char *host,
                         const char *wanted, bool gateway, char out[ADDR_STR_MAX],
                         struct weft_err *err)
{
    return ipam_request_address_claimed(etcd, pool_id, host, wanted, gateway, NULL, out, err);
}

int ipam_request_address_claimed(struct etcd *etcd, const char *pool_id, const char *host,
                                 const char *wanted, bool gateway, const struct ipam_claims *claims,
                                 char out[ADDR_STR_MAX], struct weft_err *err)
{
    if (addr_text_is_ipv6(pool_id)) /* no fabric claims for IPv6 yet (ipam6.h) */
        return ipam6_request_address(etcd, pool_id, host, wanted, gateway, out, err);
    struct ipam_pool parsed;
    if (ipam_pool_parse(pool_id, &parsed, err) < 0)
        return -1;
    const struct ipv4_subnet pool = parsed.subnet;
    const char *canonical = parsed.subnet_text;
    struct span span;
    ipam_pool_span(&parsed, &span.first, &span.count);
    uint32_t ip = 0;
    if (wanted && *wanted) {
        if (ipv4_parse(wanted, &ip, err) < 0)
            return -1;
        if (!ipv4_subnet_contains(&pool, ip) || ipv4_subnet_is_reserved(&pool, ip))
            return weft_err_set(err, -ERANGE, "address %.64s is not a host address of %s", wanted,
                                canonical);
    }
    if (gateway)
        return request_gateway(etcd, canonical, &pool, host, ip ? ip : span.first, out, err);
    if (ip)
        return request_wanted(etcd, canonical, &pool, host, ip, claims, out, err);
    return request_any(etcd, canonical, &pool, &span, host, claims, out, err);
}

int ipam_release_address(struct etcd *etcd, const char *pool_id, const char *host,
                         const char *ip_text, struct weft_err *err)
{
    if (addr_text_is_ipv6(pool_id))
        return ipam6_release_address(etcd, pool_id, host, ip_text, err);
    struct ipv4_subnet pool;
    if (parse_pool(pool_id, &pool, err) < 0)
        return -1;
    uint32_t ip;
    if (ipv4_parse(ip_text, &ip, err) < 0)
        return -1;
    char canonical[ADDR_STR_MAX], text[ADDR_STR_MAX], key[WEFT_KEY_MAX];
    ipv4_subnet_format(&pool, canonical);
    if (!ipv4_subnet_contains(&pool, ip))
        return weft_err_set(err, -ERANGE, "address %.64s is not in pool %s", ip_text, canonical);
    ipv4_format(ip, text);
    key_addr(key, canonical, text);
    return ipam_release_key(etcd, key, host, err);
}

int ipam_count_addresses(struct etcd *etcd, const char *pool_id, int *count, struct weft_err *err)
{
    if (addr_text_is_ipv6(pool_id))
        return ipam6_count_addresses(etcd, pool_id, count, err);
    struct ipv4_subnet pool;
    if (parse_pool(pool_id, &pool, err) < 0)
        return -1;
    char canonical[ADDR_STR_MAX];
    ipv4_subnet_format(&pool, canonical);
    return ipam_count_endpoints(etcd, canonical, count, err);
}

int ipam_assert_address(struct etcd *etcd, const char *pool_id, const char *host, const char *ip,
                        struct weft_err *err)
{
    if (addr_text_is_ipv6(pool_id))
        return ipam6_assert_address(etcd, pool_id, host, ip, err);
    struct ipv4_subnet pool;
    uint32_t addr;
    if (parse_pool(pool_id, &pool, err) < 0 || ipv4_parse(ip, &addr, err) < 0)
        return -1;
    char canonical[ADDR_STR_MAX];
    ipv4_subnet_format(&pool, canonical);
    bool taken;
    struct addr_record owner;
    if (ipam_try_claim(etcd, canonical, addr, host, KIND_ENDPOINT, &taken, &owner, err) < 0)
        return -1;
    bool shared = taken && ipam_kind_is_shared(owner.kind);
    if (taken && (strcmp(owner.host, host) != 0 || strcmp(owner.kind, KIND_ENDPOINT) != 0))
        return weft_err_set(err, -EEXIST,
                            "address conflict: %s, in use here, is allocated to %s %s", ip,
                            !shared ? "host"
                            : strcmp(owner.kind, KIND_GATEWAY) == 0 ? "the gateway of"
                                                                     : "an --aux-address of",
                            shared ? canonical : owner.host);
    return 0;
}
