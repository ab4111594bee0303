/*
 * overlay_claim.c: the cluster's overlay records (overlays/<sk>, vnis/<vni>, and
 * the joined/<sk>/ index of the hosts that have joined): the first host claims a VNI
 * by compare-and-swap, later hosts join the record they read, and the last one out
 * releases it (see docs/design.md). The joined/ index serves this lifecycle only;
 * what the data plane believes is each host's member record under fabric/<host>/.
 */
#include "fabric/fabric_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "fabric/record_check.h"
#include "store/keys.h"

/* A hash of the subnet: different overlays start their VNI search at
 * different places, so hosts creating different networks rarely collide. */
static uint32_t vni_hint(const char *subnet)
{
    return 1 + hash_string(HASH_SEED, subnet) % 4096;
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
    return weft_err_set(err, -ENOSPC, "no free VNI left");
}

/* A host joining an existing overlay asks for what its first host fixed: VNI, MTU
 * (when both name one) and encryption. */
static int overlay_matches(const struct fabric_network_spec *spec, const struct overlay_record *out,
                           struct weft_err *err)
{
    if (spec->vni && spec->vni != out->vni)
        return weft_err_set(err, -EEXIST,
                            "overlay %s already uses VNI %" PRIu32
                            " on other hosts; -o vni=%" PRIu32
                            " conflicts (use -o vni=%" PRIu32 " or leave it out)",
                            spec->subnet, out->vni, spec->vni, out->vni);
    if (spec->encrypted != out->encrypted)
        return weft_err_set(err, -EEXIST,
                            out->encrypted
                                ? "overlay %s is encrypted on other hosts (its first host "
                                  "created it with -o encrypted); pass -o encrypted here too"
                                : "overlay %s is not encrypted on other hosts (its first "
                                  "host created it without -o encrypted); leave "
                                  "-o encrypted out, or use another subnet",
                            spec->subnet);
    if (!out->subnet6[0] && spec->subnet6[0])
        return weft_err_set(err, -EEXIST,
                            "overlay %s carries no IPv6 on other hosts (its first host created "
                            "it without --ipv6); leave --ipv6 and the IPv6 --subnet out, or use "
                            "another subnet",
                            spec->subnet);
    if (strcmp(spec->subnet6, out->subnet6) != 0)
        return weft_err_set(err, -EEXIST,
                            "overlay %s is dual-stack on other hosts with IPv6 subnet %s; pass "
                            "--ipv6 --subnet %s here too",
                            spec->subnet, out->subnet6, out->subnet6);
    char extra[RECORD_TEXT_MAX], extra6[RECORD_TEXT_MAX];
    extra_subnets_join(spec->extra_subnets, spec->extra_count, extra, sizeof(extra));
    extra_subnets_join(spec->extra_subnets6, spec->extra6_count, extra6, sizeof(extra6));
    if (strcmp(extra6, out->extra_subnets6) != 0)
        return weft_err_set(err, -EEXIST,
                            "overlay %s has the IPv6 subnets %s%s%s on other hosts; pass those "
                            "(and no other IPv6 --subnet) here too",
                            spec->subnet, out->subnet6, out->extra_subnets6[0] ? " " : "",
                            out->extra_subnets6);
    if (strcmp(extra, out->extra_subnets) != 0)
        return weft_err_set(err, -EEXIST,
                            out->extra_subnets[0]
                                ? "overlay %s has more subnets on other hosts: %s; pass each "
                                  "of them as --subnet here too, besides %s"
                                : "overlay %s has no other subnet on other hosts%s; pass only "
                                  "--subnet %s here",
                            spec->subnet, out->extra_subnets, spec->subnet);
    if (spec->mtu && out->mtu && spec->mtu != out->mtu)
        return weft_err_set(err, -EEXIST,
                            "overlay %s already uses MTU %d on other hosts; -o mtu=%d "
                            "conflicts (use -o mtu=%d or leave it out)",
                            spec->subnet, out->mtu, spec->mtu, out->mtu);
    return 0;
}

/* Finds the overlay of spec->subnet, or creates it with a VNI claimed by
 * compare-and-swap. *created tells whether this call made it. */
int claim_overlay(struct fabric *f, const struct fabric_network_spec *spec,
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
            return overlay_matches(spec, out, err);
        }
        uint32_t vni = spec->vni;
        if (!vni && pick_free_vni(f, spec->subnet, &vni, err) < 0)
            return -1;
        struct overlay_record rec = {.vni = vni, .mtu = spec->mtu, .encrypted = spec->encrypted};
        snprintf(rec.subnet, sizeof(rec.subnet), "%s", spec->subnet);
        snprintf(rec.subnet6, sizeof(rec.subnet6), "%s", spec->subnet6);
        extra_subnets_join(spec->extra_subnets, spec->extra_count, rec.extra_subnets,
                           sizeof(rec.extra_subnets));
        extra_subnets_join(spec->extra_subnets6, spec->extra6_count, rec.extra_subnets6,
                           sizeof(rec.extra_subnets6));
        char vni_key[WEFT_KEY_MAX];
        key_vni(vni_key, vni);
        char *text = overlay_record_encode(&rec);
        struct etcd_txn *txn = etcd_txn_new();
        if (!text || !txn) {
            free(text);
            etcd_txn_free(txn);
            return weft_err_set(err, -ENOMEM, "out of memory");
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
            char owner_subnet[ADDR_STR_MAX];
            snprintf(owner_subnet, sizeof(owner_subnet), "%s", found ? owner.value : "");
            etcd_kv_clear(&owner);
            if (other)
                return weft_err_set(err, -EEXIST, "VNI %" PRIu32 " is already used by overlay %s",
                                    spec->vni, owner_subnet);
        }
    }
    return weft_err_set(
        err, -EAGAIN, "could not claim a VNI for %s: too much contention, try again", spec->subnet);
}

/* Drops the overlay record, its VNI and its gateway once no host has the
 * overlay and no endpoint address is left, so the subnet can be reused with
 * other options. The deletes commit only if no joined/<sk>/ key exists (member
 * records are under each host's own prefix, so no one prefix holds them all; every
 * member record is written and withdrawn together with its joined/ key), and a
 * joining host publishes both only if the overlay record is unchanged (see
 * publish_member_joining), so a host joining at the same moment either keeps the
 * overlay alive or sees it gone and starts afresh. Best effort otherwise: a
 * failure leaves a harmless record behind. */
void release_overlay_if_unused(struct fabric *f, const char *subnet,
                               const char (*pools)[ADDR_STR_MAX], int pool_count, uint32_t vni)
{
    struct weft_err err;
    int addresses = 0;
    if (ipam_count_addresses(f->etcd, subnet, &addresses, &err) < 0 || addresses > 0)
        return;
    for (int i = 0; i < pool_count; i++)
        if (ipam_count_addresses(f->etcd, pools[i], &addresses, &err) < 0 || addresses > 0)
            return;
    char joined[WEFT_KEY_MAX], overlay[WEFT_KEY_MAX], vni_key[WEFT_KEY_MAX], addrs[WEFT_KEY_MAX];
    key_joined_prefix(joined, subnet);
    key_overlay(overlay, subnet);
    key_vni(vni_key, vni);
    key_addr_prefix(addrs, subnet);
    struct etcd_txn *txn = etcd_txn_new();
    if (!txn)
        return;
    etcd_txn_cmp_prefix_absent(txn, joined);
    etcd_txn_cmp_value(txn, vni_key, subnet);
    etcd_txn_delete(txn, overlay);
    etcd_txn_delete(txn, vni_key);
    /* The gateway reservation goes with the overlay (endpoint addresses were none), in
     * the same transaction: a retry of it, after a timeout that hid its success, finds
     * the VNI gone and does nothing, and a separate delete after it would never run. */
    etcd_txn_delete_prefix(txn, addrs);
    for (int i = 0; i < pool_count; i++) { /* each other pool's gateway and record, likewise */
        char pool_addrs[WEFT_KEY_MAX];
        key_addr_prefix(pool_addrs, pools[i]);
        etcd_txn_delete_prefix(txn, pool_addrs);
    }
    bool succeeded = false;
    int rc = etcd_txn_commit(f->etcd, txn, &succeeded, &err);
    etcd_txn_free(txn);
    if (rc < 0 || !succeeded)
        return;
    log_info("overlay released", "subnet=%s vni=%" PRIu32, subnet, vni);
}

/* Publishes this host as a member of overlay (its member record and joined/ key),
 * only if the overlay record is still the one this host read (or wrote): never a
 * member of an overlay just released. */
int publish_member_joining(struct fabric *f, int64_t lease, const struct local_network *net,
                           const struct overlay_record *overlay, struct weft_err *err)
{
    char overlay_key[WEFT_KEY_MAX];
    key_overlay(overlay_key, net->subnet);
    char *overlay_text = overlay_record_encode(overlay);
    struct etcd_txn *txn = etcd_txn_new();
    int rc = -1;
    bool succeeded = false;
    if (!overlay_text || !txn || txn_add_member(txn, f, lease, net) < 0) {
        weft_err_set(err, -ENOMEM, "out of memory");
        goto out;
    }
    etcd_txn_cmp_value(txn, overlay_key, overlay_text);
    rc = etcd_txn_commit(f->etcd, txn, &succeeded, err);
    if (rc == 0 && !succeeded)
        rc = weft_err_set(err, -EAGAIN, "overlay %s changed while this host joined it; try again",
                          net->subnet);
out:
    etcd_txn_free(txn);
    free(overlay_text);
    return rc;
}
