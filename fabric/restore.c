/*
 * restore.c: adoption after a restart. Docker never replays CreateNetwork or
 * CreateEndpoint, so a restarted daemon reads its hosts/<host>/ records, adopts
 * the devices that exist, withdraws endpoints whose veth is gone, and adopts
 * endpoints whose veth exists but whose record never reached the store.
 */
#include "fabric/fabric_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "fabric/record_check.h"
#include "fabric/veth_alias.h"
#include "store/keys.h"

/* What adopting one record came to. */
enum adopt_result {
    ADOPTED,       /* in the fabric now, or dealt with (a vanished endpoint withdrawn) */
    ADOPT_SKIPPED, /* not this host's to adopt: nothing to say */
    ADOPT_DAMAGED, /* refused: logged with its key */
    ADOPT_NO_MEMORY,
    ADOPT_FAILED, /* could not be made whole: the start fails with err */
};

/* Adopts one record: kv->key is its store key, or a veth's host end name. */
typedef enum adopt_result (*adopt_fn)(struct fabric *f, const struct etcd_kv *kv,
                                      struct weft_err *err);

/* The loop every kind of restored record goes through: each is adopted on its
 * own, a damaged one is logged (quoted safely: it is input) and skipped; one that
 * failed (ADOPT_FAILED) stops the loop and fails it with its error. */
static int adopt_each(struct fabric *f, const struct etcd_kvs *kvs, const char *damaged,
                      adopt_fn adopt, struct weft_err *err)
{
    for (size_t i = 0; i < kvs->count; i++) {
        struct weft_err item_err = {0};
        enum adopt_result rc = adopt(f, &kvs->items[i], &item_err);
        if (rc == ADOPT_FAILED) {
            *err = item_err;
            return -1;
        }
        if (rc == ADOPT_NO_MEMORY)
            break;
        if (rc != ADOPT_DAMAGED)
            continue;
        char key[160], reason[WEFT_ERR_MAX];
        record_check_printable(kvs->items[i].key, key, sizeof(key));
        record_check_printable(item_err.msg, reason, sizeof(reason));
        log_error(damaged, "key=\"%s\" error=\"%s\"", key, reason);
    }
    return 0;
}

/* Reads this host's records under prefix_fn's prefix and adopts each. */
static int adopt_host_records(struct fabric *f, void (*prefix_fn)(char *, const char *),
                              const char *damaged, adopt_fn adopt, struct weft_err *err)
{
    char prefix[WEFT_KEY_MAX];
    prefix_fn(prefix, f->host);
    struct etcd_kvs kvs;
    if (etcd_get_prefix(f->etcd, prefix, &kvs, err) < 0)
        return -1;
    int rc = adopt_each(f, &kvs, damaged, adopt, err);
    etcd_kvs_free(&kvs);
    return rc;
}

/* A hosts/<host>/networks/<nid> record: its segment made or adopted, its member
 * re-published. A segment that cannot be made fails the start (ADOPT_FAILED) rather
 * than adopting a network with no devices, which would answer requests and program
 * remote entries as if it worked: a restart restores the network or says it could
 * not (fabric_open's error names the network, and the daemon's start fails with it). */
static enum adopt_result adopt_network(struct fabric *f, const struct etcd_kv *kv,
                                       struct weft_err *err)
{
    struct host_network_record rec;
    struct local_network *net = calloc(1, sizeof(*net));
    if (!net)
        return ADOPT_NO_MEMORY;
    if (record_check_host_network(kv->key, kv->value, &rec, &net->cidr, err) < 0) {
        free(net);
        return ADOPT_DAMAGED;
    }
    snprintf(net->id, sizeof(net->id), "%.64s", rec.network_id);
    snprintf(net->subnet, sizeof(net->subnet), "%.31s", rec.subnet);
    if (rec.subnet6[0] && ipv6_subnet_parse(rec.subnet6, &net->cidr6, err) < 0) {
        weft_err_wrap(err, "network record's IPv6 subnet");
        free(net);
        return ADOPT_DAMAGED;
    }
    if (rec.subnet6[0])
        ipv6_subnet_format(&net->cidr6, net->subnet6);
    if (network_parse_extra_subnets(net, rec.extra_subnets, rec.extra_subnets6, err) < 0) {
        weft_err_wrap(err, "network record's extra subnets");
        free(net);
        return ADOPT_DAMAGED;
    }
    net->vni = rec.vni;
    net->encrypted = rec.encrypted;
    net->mtu = rec.mtu ? rec.mtu : effective_mtu(f, 0);
    if (net->encrypted && !f->tunnel) {
        weft_err_set(err, -EOPNOTSUPP,
                     "network %.12s is encrypted and this daemon has no cluster secret: start "
                     "it with --secret-file, as before",
                     net->id);
        free(net);
        return ADOPT_FAILED;
    }
    if (network_segment_ensure(f, net, err) < 0) {
        weft_err_wrap(err, "restoring network %.12s", net->id);
        free(net);
        return ADOPT_FAILED;
    }
    struct weft_err item_err;
    net->gateway = ipv4_subnet_first_host(&net->cidr);
    uint32_t gateway;
    if (rec.gateway[0] && ipv4_parse(rec.gateway, &gateway, NULL) == 0 &&
        ipv4_subnet_contains(&net->cidr, gateway) && !ipv4_subnet_is_reserved(&net->cidr, gateway))
        net->gateway = gateway;
    /* Names are a service: a network whose port cannot be made still carries traffic. */
    if (overlay_hooks_up(f, net, &item_err) < 0)
        log_error("the overlay's service port could not be made again; its names do not "
                  "resolve here",
                  "network=%.12s error=\"%s\"", net->id, item_err.msg);
    net->next = f->networks;
    f->networks = net;
    if (publish_member(f, f->lease, net, &item_err) < 0)
        log_error("re-publishing member failed", "error=\"%s\"", item_err.msg);
    log_info("network adopted", "network=%.12s subnet=%s vni=%" PRIu32, net->id, net->subnet,
             net->vni);
    return ADOPTED;
}

/* A dual-stack endpoint's "addr/len", a host address of its network's IPv6 pool. */
static int endpoint_ip6_from_record(const struct local_network *net, const char *text,
                                    struct local_endpoint *ep, struct weft_err *err)
{
    if (ipv6_parse_with_prefix(text, &ep->ip6, &ep->prefix6_len, err) < 0)
        return weft_err_wrap(err, "endpoint record's IPv6 address");
    const struct ipv6_subnet *cidr6;
    if (!network_subnet6_of(net, &ep->ip6, &cidr6) || ep->prefix6_len != cidr6->prefix_len)
        return weft_err_set(err, -EPROTO,
                            "endpoint IPv6 address %s is not a host address of its network", text);
    ep->has_ip6 = true;
    return 0;
}

/* A local endpoint from a hosts/<host>/endpoints/<eid> record, checked as strictly
 * whether it comes from the store or from a veth's alias (key: the one it would
 * have in the store). Not linked into its network yet. */
static enum adopt_result endpoint_from_record(struct fabric *f, const char *key, const char *text,
                                              struct local_network **net_out,
                                              struct local_endpoint **ep_out, struct weft_err *err)
{
    struct host_endpoint_record rec;
    struct local_network *net = NULL;
    if (host_endpoint_record_decode(text, &rec, err) < 0)
        return ADOPT_DAMAGED;
    if (!(net = network_by_id(f, rec.network_id))) {
        weft_err_set(err, -ENOENT, "its network is not on this host");
        return ADOPT_DAMAGED;
    }
    struct local_endpoint *ep = calloc(1, sizeof(*ep));
    if (!ep)
        return ADOPT_NO_MEMORY;
    /* Checked against the subnet of its address, when it is one of the network's. */
    const struct ipv4_subnet *cidr = NULL;
    uint32_t ip;
    int prefix_len;
    if (ipv4_parse_with_prefix(rec.ip, &ip, &prefix_len, NULL) == 0)
        network_subnet_of(net, ip, &cidr);
    if (record_check_host_endpoint(key, text, cidr ? cidr : &net->cidr, &rec, &ep->ip,
                                   &ep->prefix_len, ep->mac, err) < 0) {
        free(ep);
        return ADOPT_DAMAGED;
    }
    if (rec.ip6[0] && endpoint_ip6_from_record(net, rec.ip6, ep, err) < 0) {
        free(ep);
        return ADOPT_DAMAGED;
    }
    snprintf(ep->id, sizeof(ep->id), "%.64s", rec.endpoint_id);
    /* Names kept across the restart (the follower reads them again from dockerd);
     * ones that do not check are dropped, not the endpoint. */
    if (record_check_names(rec.names, NULL) == 0)
        memcpy(ep->names, rec.names, sizeof(ep->names));
    if (rec.ifname[0]) {
        snprintf(ep->ifname, sizeof(ep->ifname), "%.15s", rec.ifname);
    } else { /* written before spares: the pair was named for the endpoint */
        char ctr_name[IF_NAMESIZE];
        segment_endpoint_names(ep->id, ep->ifname, ctr_name);
    }
    *net_out = net;
    *ep_out = ep;
    return ADOPTED;
}

/* A container that went away while the daemon was down: Docker's DeleteEndpoint
 * and ReleaseAddress failed then, so do their work now. */
static void forget_vanished_endpoint(struct fabric *f, struct local_network *net,
                                     struct local_endpoint *ep)
{
    struct weft_err err;
    char ip[ADDR_STR_MAX];
    ipv4_format(ep->ip, ip);
    char ip6[ADDR_STR_MAX];
    ipv6_format(&ep->ip6, ip6);
    /* Each address goes back to its own pool (a network may have several of each family). */
    const char *pool = network_subnet_of(net, ep->ip, NULL);
    const char *pool6 = ep->has_ip6 ? network_subnet6_of(net, &ep->ip6, NULL) : NULL;
    if (withdraw_peer(f, net, ep, &err) < 0 ||
        delete_host_key(f, key_host_endpoint, ep->id, &err) < 0 ||
        ipam_release_address(f->etcd, pool ? pool : net->subnet, f->host, ip, &err) < 0 ||
        (pool6 && ipam_release_address(f->etcd, pool6, f->host, ip6, &err) < 0)) {
        log_error("cleaning up a vanished endpoint failed", "endpoint=%.12s error=\"%s\"", ep->id,
                  err.msg);
        return;
    }
    log_info("endpoint vanished while the daemon was down; removed", "endpoint=%.12s ip=%s", ep->id,
             ip);
}

/* A hosts/<host>/endpoints/<eid> record: adopted and re-published if its veth
 * still exists, else withdrawn. */
static enum adopt_result adopt_endpoint(struct fabric *f, const struct etcd_kv *kv,
                                        struct weft_err *err)
{
    struct local_network *net;
    struct local_endpoint *ep;
    enum adopt_result rc = endpoint_from_record(f, kv->key, kv->value, &net, &ep, err);
    if (rc != ADOPTED)
        return rc;
    bool exists;
    struct weft_err item_err;
    if (segment_endpoint_exists(f->nl, ep->ifname, &exists, &item_err) < 0)
        log_warn("looking up an endpoint's veth failed; keeping the endpoint",
                 "endpoint=%.12s veth=%s error=\"%s\"", ep->id, ep->ifname, item_err.msg);
    if (!exists) { /* the kernel said so: a failed lookup is no proof it vanished */
        forget_vanished_endpoint(f, net, ep);
        free(ep);
        return ADOPTED;
    }
    ep->next = net->endpoints;
    net->endpoints = ep;
    assert_address(f, net, ep);
    ep->publication = PUBLICATION_DONE;
    if (publish_peer(f, f->lease, net, ep, &item_err) < 0) {
        log_error("re-publishing endpoint failed; the publisher retries",
                  "endpoint=%.12s error=\"%s\"", ep->id, item_err.msg);
        ep->publication = PUBLICATION_PENDING; /* the publisher retries */
    }
    return ADOPTED;
}

/* A veth whose alias is an endpoint's record, but whose endpoint the store lacks:
 * the daemon died between answering CreateEndpoint and publishing. It is adopted
 * as pending, and the publisher writes it. */
static enum adopt_result adopt_veth(struct fabric *f, const struct etcd_kv *kv,
                                    struct weft_err *err)
{
    struct host_endpoint_record rec;
    struct local_network *net;
    struct local_endpoint *ep;
    if (host_endpoint_record_decode(kv->value, &rec, NULL) < 0 ||
        !(net = network_by_id(f, rec.network_id)) || endpoint_by_id(net, rec.endpoint_id))
        return ADOPT_SKIPPED; /* not ours, a network we do not have, or restored from the store */
    char key[WEFT_KEY_MAX];
    key_host_endpoint(key, f->host, rec.endpoint_id);
    enum adopt_result rc = endpoint_from_record(f, key, kv->value, &net, &ep, err);
    if (rc != ADOPTED)
        return rc;
    snprintf(ep->ifname, sizeof(ep->ifname), "%s", kv->key);
    ep->publication = PUBLICATION_PENDING;
    ep->next = net->endpoints;
    net->endpoints = ep;
    log_info("endpoint adopted from its veth; publishing it", "endpoint=%.12s ip=%s", ep->id,
             rec.ip);
    return ADOPTED;
}

/* The veths' host ends and aliases, as a listing (key: the name, value: the alias),
 * spares left out; and the highest spare serial seen, which endpoints keep. */
struct veth_listing {
    struct etcd_kvs kvs;
    size_t cap;
    unsigned highest_spare_serial;
};

static void collect_alias(void *ctx, const char *name, const char *alias)
{
    struct veth_listing *l = ctx;
    unsigned serial;
    if (segment_spare_serial(name, &serial) && serial > l->highest_spare_serial)
        l->highest_spare_serial = serial;
    if (strcmp(alias, SEGMENT_SPARE_ALIAS) == 0)
        return;
    if (l->kvs.count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct etcd_kv *items = realloc(l->kvs.items, cap * sizeof(*items));
        if (!items)
            return;
        l->kvs.items = items;
        l->cap = cap;
    }
    struct etcd_kv *item = &l->kvs.items[l->kvs.count];
    memset(item, 0, sizeof(*item));
    item->key = strdup(name);
    item->value = veth_alias_record_text(alias); /* NULL (skipped): no record of weft's */
    if (item->key && item->value)
        l->kvs.count++;
    else
        etcd_kv_clear(item);
}

/* Every adopted endpoint gets its fast path filters again (fast_path_ensure cleared
 * the earlier run's), then remote-bound frames skip the bridge: not before, or a
 * local endpoint not yet added would see its frames sent to the VXLAN device. */
static void restore_fast_paths(struct fabric *f)
{
    for (struct local_network *net = f->networks; net; net = net->next) {
        struct weft_err err = {0};
        for (struct local_endpoint *ep = net->endpoints; ep && net->fast.on; ep = ep->next)
            if (fast_path_endpoint_add(f->nl, &net->fast, ep->ifname, ep->mac, &ep->fast_prio,
                                       &err) < 0)
                fast_path_off(f->nl, &net->fast, &err);
        fast_path_start(f->nl, &net->fast);
    }
}

int restore_host(struct fabric *f, struct weft_err *err)
{
    if (adopt_host_records(f, key_host_networks_prefix, "skipping damaged network record",
                           adopt_network, err) < 0 ||
        adopt_host_records(f, key_host_endpoints_prefix, "skipping damaged endpoint record",
                           adopt_endpoint, err) < 0)
        return -1;
    /* The same listing numbers new spares above the ws<n> names endpoints kept. */
    struct veth_listing found = {0};
    struct weft_err list_err;
    if (segment_veth_list(f->nl, collect_alias, &found, &list_err) < 0)
        log_error("listing endpoint veths failed", "error=\"%s\"", list_err.msg);
    int rc = adopt_each(f, &found.kvs, "skipping damaged veth alias", adopt_veth, err);
    etcd_kvs_free(&found.kvs);
    f->spare_serial = found.highest_spare_serial;
    if (rc == 0)
        restore_fast_paths(f);
    return rc;
}
