/*
 * ipam6.c: IPv6 address allocation shared by every host through etcd (see
 * ipam6.h). One key per allocated address, created if absent, exactly as
 * ipam.c does for IPv4: whichever host's transaction commits first owns it.
 *
 * Finding a free address: blind random probes first (in a /64
 * with any realistic number of containers the first one is free). A pool of at
 * most 2^LISTED_HOST_BITS addresses (/112 to /120) that keeps missing is then
 * read whole (one range read), and a random free address of what is left is
 * taken, or the pool is full: so a nearly full /120 answers in a few round
 * trips, never after hundreds of probes. A larger pool that misses that often is
 * counted once to tell "full" from "too much contention".
 *
 * With --ip-range the pool ID carries the range (pool_id.h): dynamic addresses
 * are probed and listed inside it only, by the same rules applied to the range's
 * size, and the gateway defaults to its first host address (as Docker's own
 * IPAM and ipam.c do); --ip6 and --aux-address may name any host address of
 * the subnet. Keys are always named by the subnet.
 */
#include "ipam/ipam6.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr6.h"
#include "ipam/ipam_internal.h"
#include "store/keys.h"
#include "store/records.h"

/* Blind probes before a small pool is read whole (one read then beats more misses). */
#define LISTED_POOL_PROBES 4
#define LISTED_HOST_BITS 16 /* up to a /112: the taken set is an 8 KiB bitmap */
/* Random probes in a larger pool before it is counted. */
#define LARGE_POOL_PROBES 64
/* Picks from a listing, and lost races before the listing is read again. */
#define MAX_PICKS 256
#define PICKS_BEFORE_REFRESH 8

/* A parsed pool ID: the subnet (id, what keys are named by) and the dynamic span. */
struct pool6 {
    struct ipv6_subnet subnet;
    const char *id; /* canonical subnet, in parsed */
    uint64_t first, count; /* host offsets handed out dynamically */
    struct ipam_pool6 parsed;
};

int ipam6_request_pool(const char *requested, const char *sub_pool,
                       char pool_id[IPAM_POOL_ID_MAX], struct weft_err *err)
{
    struct ipam_pool6 pool;
    if (!requested || !*requested)
        return weft_err_set(err, -EINVAL,
                            "weft needs an IPv6 --subnet with --ipv6: every host must name the same "
                            "overlay by its subnets (docker network create --ipv6 --subnet "
                            "10.77.0.0/24 --subnet fd77::/64 ...)");
    if (ipam_pool6_new(requested, sub_pool, &pool, err) < 0)
        return -1;
    ipam_pool6_format(&pool, pool_id);
    return 0;
}

/* A pool ID that does not parse names no pool weft handed out: -ENOENT. */
static int parse_pool(const char *pool_id, struct pool6 *pool, struct weft_err *err)
{
    if (ipam_pool6_parse(pool_id, &pool->parsed, err) < 0)
        return -1;
    pool->subnet = pool->parsed.subnet;
    pool->id = pool->parsed.subnet_text;
    ipam_pool6_span(&pool->parsed, &pool->first, &pool->count);
    return 0;
}

/* A host address of the pool: inside it and not its anycast (offset 0). */
static int parse_host(const struct pool6 *pool, const char *text, struct ipv6_addr *out,
                      struct weft_err *err)
{
    if (ipv6_parse(text, out, err) < 0)
        return -1;
    if (!ipv6_subnet_contains(&pool->subnet, out) || ipv6_subnet_offset(&pool->subnet, out) == 0)
        return weft_err_set(err, -ERANGE, "address %.64s is not a host address of %s", text,
                            pool->id);
    return 0;
}

static void format_answer(const struct pool6 *pool, const struct ipv6_addr *a,
                          char out[ADDR_STR_MAX])
{
    char text[ADDR_STR_MAX];
    ipv6_format(a, text);
    snprintf(out, ADDR_STR_MAX, "%.39s/%d", text, pool->subnet.prefix_len & 255);
}

/* Uniform in 0 .. n-1, n >= 1 (the bias of the 64-bit modulo is below 2^-32 for
 * any n above 2^32). */
static uint64_t random_below(uint64_t n)
{
    if (n <= UINT32_MAX)
        return randombytes_uniform((uint32_t)n);
    uint64_t r;
    randombytes_buf(&r, sizeof(r));
    return r % n;
}

/* Tries to take a for host: ipam_try_claim_text (ipam_internal.h) for an IPv6 address. */
static int try_claim(struct etcd *etcd, const struct pool6 *pool, const struct ipv6_addr *a,
                     const char *host, const char *kind, bool *taken, struct addr_record *owner,
                     struct weft_err *err)
{
    char text[ADDR_STR_MAX];
    ipv6_format(a, text);
    return ipam_try_claim_text(etcd, pool->id, text, host, kind, taken, owner, err);
}

/* Refuses what (a text naming the request) because owner holds a, as ipam.c words it. */
static int refuse_taken(const struct pool6 *pool, const struct ipv6_addr *a, const char *what,
                        const struct addr_record *owner, struct weft_err *err)
{
    char text[ADDR_STR_MAX];
    ipv6_format(a, text);
    if (strcmp(owner->kind, KIND_GATEWAY) == 0)
        return weft_err_set(err, -EEXIST, "%s %s is the gateway of %s", what, text, pool->id);
    if (strcmp(owner->kind, KIND_AUX) == 0)
        return weft_err_set(err, -EEXIST, "%s %s of %s is reserved by --aux-address", what, text,
                            pool->id);
    return weft_err_set(err, -EEXIST, "%s %s is already in use by an endpoint on host %s", what,
                        text, owner->host);
}

/* A shared reservation (gateway or aux): the first host writes it, the others find
 * it of the same kind and answer it too. */
static int request_shared(struct etcd *etcd, const struct pool6 *pool, const char *host,
                          const struct ipv6_addr *a, const char *kind, const char *what,
                          char out[ADDR_STR_MAX], struct weft_err *err)
{
    bool taken;
    struct addr_record owner;
    if (try_claim(etcd, pool, a, host, kind, &taken, &owner, err) < 0)
        return -1;
    if (taken && strcmp(owner.kind, kind) != 0)
        return refuse_taken(pool, a, what, &owner, err);
    format_answer(pool, a, out);
    return 0;
}

static int request_wanted(struct etcd *etcd, const struct pool6 *pool, const char *host,
                          const struct ipv6_addr *a, char out[ADDR_STR_MAX], struct weft_err *err)
{
    bool taken;
    struct addr_record owner;
    if (try_claim(etcd, pool, a, host, KIND_ENDPOINT, &taken, &owner, err) < 0)
        return -1;
    if (taken)
        return refuse_taken(pool, a, "address", &owner, err);
    format_answer(pool, a, out);
    return 0;
}

/* Reads the pool's allocations inside its span: *in_use counts them (gateway
 * included) and, when taken is not NULL, bit (offset - first) is set for each.
 * One range read. */
static int read_taken(struct etcd *etcd, const struct pool6 *pool, uint8_t *taken,
                      uint64_t *in_use, struct weft_err *err)
{
    char prefix[WEFT_KEY_MAX];
    key_addr_prefix(prefix, pool->id);
    struct etcd_kvs kvs;
    if (etcd_get_prefix(etcd, prefix, &kvs, err) < 0)
        return -1;
    if (taken)
        memset(taken, 0, (size_t)((pool->count + 7) / 8));
    *in_use = 0;
    for (size_t i = 0; i < kvs.count; i++) {
        char text[WEFT_KEY_PART_MAX];
        struct ipv6_addr a;
        /* A yes/no test: a key that names no host address of the span takes none. */
        if (key_parse_addr(kvs.items[i].key, pool->id, text) < 0 || parse_host(pool, text, &a, NULL) < 0)
            continue;
        uint64_t bit = ipv6_subnet_offset(&pool->subnet, &a) - pool->first;
        if (bit >= pool->count) /* below first wraps around too */
            continue;
        if (taken)
            taken[bit / 8] |= (uint8_t)(1u << (bit % 8));
        (*in_use)++;
    }
    etcd_kvs_free(&kvs);
    return 0;
}

static int pool_full(const struct pool6 *pool, uint64_t in_use, struct weft_err *err)
{
    if (pool->parsed.ranged)
        return weft_err_set(err, -ENOSPC,
                            "--ip-range %s of pool %s has no free address (%" PRIu64 " in use)",
                            pool->parsed.range_text, pool->id, in_use);
    return weft_err_set(err, -ENOSPC, "pool %s has no free address (%" PRIu64 " in use)",
                        pool->id, in_use);
}

/* The bit of the pick-th free address (0-based) in the taken bitmap; false when
 * there are not that many. */
static bool nth_free(const uint8_t *taken, uint64_t bits, uint64_t pick, uint64_t *bit)
{
    for (uint64_t b = 0; b < bits; b++) {
        if (taken[b / 8] & (1u << (b % 8)))
            continue;
        if (pick-- == 0) {
            *bit = b;
            return true;
        }
    }
    return false;
}

/* A small span whose probes missed: pick among the free addresses a listing shows. */
static int request_from_listing(struct etcd *etcd, const struct pool6 *pool, const char *host,
                                char out[ADDR_STR_MAX], struct weft_err *err)
{
    uint64_t in_use = 0;
    uint8_t *taken = malloc((size_t)((pool->count + 7) / 8));
    if (!taken)
        return weft_err_set(err, -ENOMEM, "out of memory");
    int rc = -1;
    for (int pick = 0; pick < MAX_PICKS; pick++) {
        if (pick % PICKS_BEFORE_REFRESH == 0 && read_taken(etcd, pool, taken, &in_use, err) < 0)
            goto out;
        if (in_use >= pool->count) {
            pool_full(pool, in_use, err);
            goto out;
        }
        uint64_t bit;
        if (!nth_free(taken, pool->count, random_below(pool->count - in_use), &bit)) {
            /* the count and the bitmap disagree: read both again */
            pick += PICKS_BEFORE_REFRESH - 1 - pick % PICKS_BEFORE_REFRESH;
            continue;
        }
        struct ipv6_addr a;
        ipv6_subnet_host(&pool->subnet, pool->first + bit, &a);
        bool lost;
        if (try_claim(etcd, pool, &a, host, KIND_ENDPOINT, &lost, NULL, err) < 0)
            goto out;
        if (!lost) {
            format_answer(pool, &a, out);
            rc = 0;
            goto out;
        }
        taken[bit / 8] |= (uint8_t)(1u << (bit % 8));
        in_use++;
    }
    weft_err_set(err, -EAGAIN,
                 "could not allocate an address in %s: too much contention, try again", pool->id);
out:
    free(taken);
    return rc;
}

static int request_any(struct etcd *etcd, const struct pool6 *pool, const char *host,
                       char out[ADDR_STR_MAX], struct weft_err *err)
{
    bool listed = pool->count <= (UINT64_C(1) << LISTED_HOST_BITS);
    int probes = listed ? LISTED_POOL_PROBES : LARGE_POOL_PROBES;
    for (int probe = 0; probe < probes; probe++) {
        struct ipv6_addr a;
        ipv6_subnet_host(&pool->subnet, pool->first + random_below(pool->count), &a);
        bool lost;
        if (try_claim(etcd, pool, &a, host, KIND_ENDPOINT, &lost, NULL, err) < 0)
            return -1;
        if (!lost) {
            format_answer(pool, &a, out);
            return 0;
        }
    }
    if (listed)
        return request_from_listing(etcd, pool, host, out, err);
    uint64_t in_use;
    if (read_taken(etcd, pool, NULL, &in_use, err) < 0)
        return -1;
    if (in_use >= pool->count)
        return pool_full(pool, in_use, err);
    return weft_err_set(err, -EAGAIN,
                        "could not allocate an address in %s after %d random probes (%" PRIu64
                        " addresses in use): try again",
                        pool->id, probes, in_use);
}

int ipam6_request_address(struct etcd *etcd, const char *pool_id, const char *host,
                          const char *wanted, bool gateway, char out[ADDR_STR_MAX],
                          struct weft_err *err)
{
    struct pool6 pool;
    if (parse_pool(pool_id, &pool, err) < 0)
        return -1;
    if (sodium_init() < 0)
        return weft_err_set(err, -EAGAIN, "no random bytes for an address (libsodium failed)");
    struct ipv6_addr a;
    bool exact = wanted && *wanted;
    if (exact && parse_host(&pool, wanted, &a, err) < 0)
        return -1;
    if (gateway) {
        if (!exact) /* the first of the span: of the range, if there is one */
            ipv6_subnet_host(&pool.subnet, pool.first, &a);
        return request_shared(etcd, &pool, host, &a, KIND_GATEWAY, "gateway", out, err);
    }
    if (exact)
        return request_wanted(etcd, &pool, host, &a, out, err);
    return request_any(etcd, &pool, host, out, err);
}

int ipam6_reserve_aux(struct etcd *etcd, const char *pool_id, const char *host,
                      const char *wanted, char out[ADDR_STR_MAX], struct weft_err *err)
{
    struct pool6 pool;
    struct ipv6_addr a;
    struct weft_err why = {0};
    if (parse_pool(pool_id, &pool, err) < 0)
        return -1;
    if (parse_host(&pool, wanted, &a, &why) < 0)
        return weft_err_set(err, why.code, "--aux-address %s", why.msg);
    return request_shared(etcd, &pool, host, &a, KIND_AUX, "--aux-address", out, err);
}

int ipam6_release_address(struct etcd *etcd, const char *pool_id, const char *host,
                          const char *ip, struct weft_err *err)
{
    struct pool6 pool;
    struct ipv6_addr a;
    if (parse_pool(pool_id, &pool, err) < 0 || ipv6_parse(ip, &a, err) < 0)
        return -1;
    if (!ipv6_subnet_contains(&pool.subnet, &a))
        return weft_err_set(err, -ERANGE, "address %.64s is not in pool %s", ip, pool.id);
    char text[ADDR_STR_MAX], key[WEFT_KEY_MAX];
    ipv6_format(&a, text);
    key_addr(key, pool.id, text);
    return ipam_release_key(etcd, key, host, err);
}

int ipam6_assert_address(struct etcd *etcd, const char *pool_id, const char *host, const char *ip,
                         struct weft_err *err)
{
    struct pool6 pool;
    struct ipv6_addr a;
    if (parse_pool(pool_id, &pool, err) < 0 || parse_host(&pool, ip, &a, err) < 0)
        return -1;
    bool taken;
    struct addr_record owner = {0};
    if (try_claim(etcd, &pool, &a, host, KIND_ENDPOINT, &taken, &owner, err) < 0)
        return -1;
    bool shared = taken && ipam_kind_is_shared(owner.kind);
    if (taken && (strcmp(owner.host, host) != 0 || strcmp(owner.kind, KIND_ENDPOINT) != 0))
        return weft_err_set(err, -EEXIST,
                            "address conflict: %s, in use here, is allocated to %s %s", ip,
                            !shared ? "host"
                            : strcmp(owner.kind, KIND_GATEWAY) == 0 ? "the gateway of"
                                                                     : "an --aux-address of",
                            shared ? pool.id : owner.host);
    return 0;
}

int ipam6_count_addresses(struct etcd *etcd, const char *pool_id, int *count, struct weft_err *err)
{
    struct pool6 pool;
    if (parse_pool(pool_id, &pool, err) < 0)
        return -1;
    return ipam_count_endpoints(etcd, pool.id, count, err);
}
