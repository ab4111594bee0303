/*
 * fake_nl.c: every function of netlink/nl.h, answered from the in-memory kernel
 * of fake_kernel.c. It keeps nl.h's documented behaviour: a create of an existing
 * link fails with "File exists", deleting what is missing is not an error, a veth
 * pair that cannot be set up is deleted again, changes inside a batch queue and
 * apply at nl_batch_end (which reports the first failure while the others apply),
 * queries other than nl_link_index are refused inside a batch. Each round trip
 * asks fault.h first; a batch is one round trip (none when empty).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fakes/fake_kernel_internal.h"
#include "tests/fakes/fault.h"

#define INJECTED_ERRNO ENOBUFS /* what a busy kernel answers */

enum op_type {
    OP_LINK_DELETE,
    OP_SET_UP,
    OP_SET_DOWN,
    OP_SET_MAC,
    OP_SET_MASTER,
    OP_SET_MTU,
    OP_BRIDGE,
    OP_VXLAN,
    OP_VETH,
    OP_FDB_ADD,
    OP_FDB_DEL,
    OP_BRIDGE_FDB_DEL,
    OP_NEIGH_ADD,
    OP_NEIGH_DEL,
    OP_BRIDGE_FDB_ADD,
    OP_NEIGH_SUPPRESS,
    OP_NEIGH6_ADD,
    OP_NEIGH6_DEL,
};

/* One change, as queued in a batch (strings copied: the caller's may go). */
struct op {
    enum op_type type;
    char name[IF_NAMESIZE];
    char peer_name[IF_NAMESIZE];
    char alias[NL_ALIAS_MAX];
    bool has_alias, has_mac, up, append;
    uint8_t mac[6];
    int ifindex, mtu, master;
    uint32_t ip, vni;
    uint8_t ip6[16]; /* OP_NEIGH6_* */
    char what[96];   /* "creating bridge wbr5", for the message */
};

struct nl {
    bool batching;
    struct op *queue;
    size_t count, cap;
};

int nl_open(struct nl **out, struct weft_err *err)
{
    if (fault_hit(FAULT_NETLINK))
        return weft_err_set(err, -INJECTED_ERRNO, "cannot open a netlink socket: %s",
                            strerror(INJECTED_ERRNO));
    *out = calloc(1, sizeof(**out));
    return *out ? 0 : weft_err_set(err, -ENOMEM, "out of memory");
}

void nl_close(struct nl *nl)
{
    if (!nl)
        return;
    free(nl->queue);
    free(nl);
}

int nl_batch_begin(struct nl *nl)
{
    if (nl->batching)
        return -1;
    nl->batching = true;
    nl->count = 0;
    return 0;
}

/* ---------- applying one change (under fk.lock): 0 or an errno ---------- */

static struct fake_link *existing(const char *name, int *code)
{
    struct fake_link *l = fk_by_name(name);
    if (!l)
        *code = ENODEV;
    return l;
}

static int apply_veth(const struct op *op)
{
    if (fk_by_name(op->name) || fk_by_name(op->peer_name))
        return EEXIST;
    if (op->master && !fk_by_index(op->master))
        return ENODEV;
    struct fake_link *host = fk_add_link(op->name, FAKE_LINK_VETH, op->mtu);
    struct fake_link *peer = host ? fk_add_link(op->peer_name, FAKE_LINK_VETH, op->mtu) : NULL;
    if (!peer) {
        if (host)
            fk_del_link(host);
        return ENOMEM;
    }
    host->peer = peer->ifindex;
    peer->peer = host->ifindex;
    host->master = op->master;
    if (op->has_mac)
        memcpy(peer->mac, op->mac, 6);
    host->up = op->up;
    if (op->has_alias)
        snprintf(host->alias, sizeof(host->alias), "%s", op->alias);
    return 0;
}

static int apply_create(const struct op *op)
{
    if (op->type == OP_VETH)
        return apply_veth(op);
    if (fk_by_name(op->name))
        return EEXIST;
    if (op->master && !fk_by_index(op->master))
        return ENODEV;
    struct fake_link *l =
        fk_add_link(op->name, op->type == OP_BRIDGE ? FAKE_LINK_BRIDGE : FAKE_LINK_VXLAN, op->mtu);
    if (!l)
        return ENOMEM;
    l->master = op->master;
    l->vni = op->vni;
    l->local = op->ip;
    return 0;
}

static int apply_link(const struct op *op)
{
    int code = 0;
    struct fake_link *l = fk_by_name(op->name);
    if (op->type == OP_LINK_DELETE) {
        if (l)
            fk_del_link(l);
        return 0;
    }
    if (!(l = existing(op->name, &code)))
        return code;
    if (op->type == OP_SET_UP || op->type == OP_SET_DOWN) {
        l->up = op->type == OP_SET_UP;
        if (op->has_alias)
            snprintf(l->alias, sizeof(l->alias), "%s", op->alias);
    } else if (op->type == OP_SET_MAC) {
        memcpy(l->mac, op->mac, 6);
    } else if (op->type == OP_SET_MASTER) {
        if (op->master && !fk_by_index(op->master))
            return ENODEV;
        l->master = op->master;
    } else if (op->type == OP_SET_MTU) {
        l->mtu = op->mtu;
    }
    return 0;
}

static int apply_entry(const struct op *op)
{
    if (!fk_by_index(op->ifindex))
        return ENODEV;
    int i;
    switch (op->type) {
    case OP_FDB_ADD:
        /* As the kernel: a replace rewrites the MAC's entry whatever its VTEP, an append
         * (flooding to one more VTEP) adds one per VTEP. */
        i = fk_fdb_find(op->ifindex, op->mac, op->ip, !op->append);
        if (i < 0 && fk.fdb_count == FK_ENTRIES_MAX)
            return ENOSPC;
        if (i < 0)
            i = fk.fdb_count++;
        fk.fdb[i] = (struct fk_fdb){.ifindex = op->ifindex, .dst = op->ip};
        memcpy(fk.fdb[i].mac, op->mac, 6);
        return 0;
    case OP_FDB_DEL:
        if ((i = fk_fdb_find(op->ifindex, op->mac, op->ip, false)) >= 0)
            fk.fdb[i] = fk.fdb[--fk.fdb_count];
        return 0;
    case OP_NEIGH_ADD:
        i = fk_neigh_find(op->ifindex, op->ip);
        if (i < 0 && fk.neigh_count == FK_ENTRIES_MAX)
            return ENOSPC;
        if (i < 0)
            i = fk.neigh_count++;
        fk.neigh[i] = (struct fk_neigh){.ifindex = op->ifindex, .ip = op->ip};
        memcpy(fk.neigh[i].mac, op->mac, 6);
        return 0;
    case OP_NEIGH_DEL:
        if ((i = fk_neigh_find(op->ifindex, op->ip)) >= 0)
            fk.neigh[i] = fk.neigh[--fk.neigh_count];
        return 0;
    case OP_NEIGH6_ADD:
        i = fk_neigh6_find(op->ifindex, op->ip6);
        if (i < 0 && fk.neigh6_count == FK_ENTRIES_MAX)
            return ENOSPC;
        if (i < 0)
            i = fk.neigh6_count++;
        fk.neigh6[i] = (struct fk_neigh6){.ifindex = op->ifindex};
        memcpy(fk.neigh6[i].ip6, op->ip6, 16);
        memcpy(fk.neigh6[i].mac, op->mac, 6);
        return 0;
    case OP_NEIGH6_DEL:
        if ((i = fk_neigh6_find(op->ifindex, op->ip6)) >= 0)
            fk.neigh6[i] = fk.neigh6[--fk.neigh6_count];
        return 0;
    case OP_BRIDGE_FDB_ADD: /* a bridge's static entry: kept as one with dst 0 */
        if ((i = fk_fdb_find(op->ifindex, op->mac, 0, false)) < 0 && fk.fdb_count == FK_ENTRIES_MAX)
            return ENOSPC;
        if (i < 0)
            i = fk.fdb_count++;
        fk.fdb[i] = (struct fk_fdb){.ifindex = op->ifindex, .dst = 0};
        memcpy(fk.fdb[i].mac, op->mac, 6);
        return 0;
    case OP_BRIDGE_FDB_DEL: /* the fake bridge learns nothing; static entries go */
        if ((i = fk_fdb_find(op->ifindex, op->mac, 0, false)) >= 0)
            fk.fdb[i] = fk.fdb[--fk.fdb_count];
        return 0;
    default: /* OP_NEIGH_SUPPRESS: the fake has no ARP to suppress */
        return 0;
    }
}

static int apply(const struct op *op)
{
    pthread_mutex_lock(&fk.lock);
    int code;
    if (op->type == OP_BRIDGE || op->type == OP_VXLAN || op->type == OP_VETH)
        code = apply_create(op);
    else if (op->type >= OP_FDB_ADD)
        code = apply_entry(op);
    else
        code = apply_link(op);
    fk_changed();
    pthread_mutex_unlock(&fk.lock);
    return code;
}

/* ---------- changes: queued in a batch, else one round trip ---------- */

static int change(struct nl *nl, const struct op *op, struct weft_err *err)
{
    if (nl->batching) {
        if (nl->count == nl->cap) {
            size_t cap = nl->cap ? nl->cap * 2 : 32;
            struct op *queue = realloc(nl->queue, cap * sizeof(*queue));
            if (!queue)
                return weft_err_set(err, -ENOMEM, "out of memory");
            nl->queue = queue;
            nl->cap = cap;
        }
        nl->queue[nl->count++] = *op;
        return 0;
    }
    int code = fault_hit(FAULT_NETLINK) ? INJECTED_ERRNO : apply(op);
    return code ? weft_err_set(err, -code, "%s: %s", op->what, strerror(code)) : 0;
}

int nl_batch_end(struct nl *nl, struct weft_err *err)
{
    if (!nl->batching)
        return weft_err_set(err, -EINVAL, "no netlink batch is open");
    nl->batching = false;
    if (nl->count == 0) /* nothing to send: no round trip */
        return 0;
    /* An injected failure hits the first entry; the others still apply. */
    bool injected = fault_hit(FAULT_NETLINK);
    char first[WEFT_ERR_MAX] = "";
    int first_code = 0;
    for (size_t i = 0; i < nl->count; i++) {
        int code = i == 0 && injected ? INJECTED_ERRNO : apply(&nl->queue[i]);
        if (code && !first[0]) {
            first_code = -code;
            snprintf(first, sizeof(first), "%s: %s (batch entry %zu of %zu)", nl->queue[i].what,
                     strerror(code), i + 1, nl->count);
        }
    }
    nl->count = 0;
    return first[0] ? weft_err_set(err, first_code, "%s", first) : 0;
}

static struct op link_op(enum op_type type, const char *name, const char *verb)
{
    struct op op = {.type = type};
    snprintf(op.name, sizeof(op.name), "%s", name);
    snprintf(op.what, sizeof(op.what), "%s %.15s", verb, name);
    return op;
}

int nl_link_delete(struct nl *nl, const char *name, struct weft_err *err)
{
    struct op op = link_op(OP_LINK_DELETE, name, "deleting link");
    return change(nl, &op, err);
}

int nl_link_set_up(struct nl *nl, const char *name, struct weft_err *err)
{
    struct op op = link_op(OP_SET_UP, name, "setting up link");
    return change(nl, &op, err);
}

/* Up or down (type) and the alias, when alias. */
static int link_state(struct nl *nl, enum op_type type, const char *name, const char *alias,
                      struct weft_err *err)
{
    if (alias && strlen(alias) >= NL_ALIAS_MAX)
        return weft_err_set(err, -ERANGE, "interface alias of %zu bytes is over the kernel's %d",
                            strlen(alias), NL_ALIAS_MAX - 1);
    struct op op = link_op(type, name, type == OP_SET_UP ? "setting up link" : "setting down link");
    op.has_alias = alias != NULL;
    snprintf(op.alias, sizeof(op.alias), "%s", alias ? alias : "");
    return change(nl, &op, err);
}

int nl_link_set_up_alias(struct nl *nl, const char *name, const char *alias, struct weft_err *err)
{
    return link_state(nl, OP_SET_UP, name, alias, err);
}

int nl_link_set_down_alias(struct nl *nl, const char *name, const char *alias, struct weft_err *err)
{
    return link_state(nl, OP_SET_DOWN, name, alias, err);
}

int nl_link_set_mac(struct nl *nl, const char *name, const uint8_t mac[6], struct weft_err *err)
{
    struct op op = link_op(OP_SET_MAC, name, "setting the MAC of");
    memcpy(op.mac, mac, 6);
    return change(nl, &op, err);
}

int nl_link_set_master(struct nl *nl, const char *name, int master_ifindex, struct weft_err *err)
{
    struct op op = link_op(OP_SET_MASTER, name, "setting the master of");
    op.master = master_ifindex;
    return change(nl, &op, err);
}

int nl_link_set_mtu(struct nl *nl, const char *name, int mtu, struct weft_err *err)
{
    struct op op = link_op(OP_SET_MTU, name, "setting the MTU of");
    op.mtu = mtu;
    return change(nl, &op, err);
}

static int check_name(const char *name, struct weft_err *err)
{
    if (!name || !name[0] || strlen(name) >= IF_NAMESIZE)
        return weft_err_set(err, -EINVAL, "interface name \"%s\" must have 1 to %d characters",
                            name ? name : "", IF_NAMESIZE - 1);
    return 0;
}

int nl_bridge_create(struct nl *nl, const char *name, int mtu, struct weft_err *err)
{
    if (check_name(name, err) < 0)
        return -1;
    struct op op = link_op(OP_BRIDGE, name, "creating bridge");
    op.mtu = mtu;
    return change(nl, &op, err);
}

int nl_vxlan_create(struct nl *nl, const struct nl_vxlan_spec *spec, struct weft_err *err)
{
    if (check_name(spec->name, err) < 0)
        return -1;
    struct op op = link_op(OP_VXLAN, spec->name, "creating vxlan");
    op.mtu = spec->mtu;
    op.master = spec->master_ifindex;
    op.vni = spec->vni;
    op.ip = ip_addr_ipv4(&spec->local); /* the fake kernel holds IPv4 VTEPs only */
    return change(nl, &op, err);
}

/* A spare's creation waits here while the test holds spares (fake_kernel_hold_spares). */
static void wait_unless_held(const struct nl_veth_spec *spec)
{
    if (!spec->down)
        return;
    pthread_mutex_lock(&fk.lock);
    if (fk.hold) {
        fk.held++;
        fk_changed();
        while (fk.hold)
            pthread_cond_wait(&fk.changed, &fk.lock);
        fk.held--;
    }
    pthread_mutex_unlock(&fk.lock);
}

/* As the real one: the creation, then (a second round trip) "up" with the alias; a
 * failure of the second deletes the pair again, so nothing is left behind. */
int nl_veth_create(struct nl *nl, const struct nl_veth_spec *spec, struct weft_err *err)
{
    if (check_name(spec->host_name, err) < 0 || check_name(spec->container_name, err) < 0)
        return -1;
    if (spec->host_alias && strlen(spec->host_alias) >= NL_ALIAS_MAX)
        return weft_err_set(err, -ERANGE, "interface alias of %zu bytes is over the kernel's %d",
                            strlen(spec->host_alias), NL_ALIAS_MAX - 1);
    wait_unless_held(spec);
    struct op op = link_op(OP_VETH, spec->host_name, "creating veth");
    snprintf(op.what, sizeof(op.what), "creating veth %.15s/%.15s", spec->host_name,
             spec->container_name);
    snprintf(op.peer_name, sizeof(op.peer_name), "%s", spec->container_name);
    op.mtu = spec->mtu;
    op.master = spec->master_ifindex;
    op.has_mac = spec->container_mac != NULL;
    if (spec->container_mac)
        memcpy(op.mac, spec->container_mac, 6);
    op.up = !spec->down;
    op.has_alias = spec->host_alias != NULL;
    snprintf(op.alias, sizeof(op.alias), "%s", spec->host_alias ? spec->host_alias : "");
    if (nl->batching)
        return change(nl, &op, err);
    bool second_trip = !spec->down || spec->host_alias;
    if (fault_hit(FAULT_NETLINK))
        return weft_err_set(err, -INJECTED_ERRNO, "%s: %s", op.what, strerror(INJECTED_ERRNO));
    int code = apply(&op);
    if (code)
        return weft_err_set(err, -code, "%s: %s", op.what, strerror(code));
    if (second_trip && fault_hit(FAULT_NETLINK)) {
        struct op undo = link_op(OP_LINK_DELETE, spec->host_name, "deleting link");
        apply(&undo);
        return weft_err_set(err, -INJECTED_ERRNO, "setting up link %.15s: %s", spec->host_name,
                            strerror(INJECTED_ERRNO));
    }
    return 0;
}

static struct op entry_op(enum op_type type, int ifindex, const uint8_t mac[6], uint32_t ip,
                          const char *verb)
{
    struct op op = {.type = type, .ifindex = ifindex, .ip = ip};
    if (mac)
        memcpy(op.mac, mac, 6);
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ip, text, sizeof(text));
    snprintf(op.what, sizeof(op.what), "%s on %d: %s", verb, ifindex, text);
    return op;
}

int nl_fdb_add(struct nl *nl, int ifindex, const uint8_t mac[6], const struct ip_addr *dst,
               bool append, struct weft_err *err)
{
    struct op op = entry_op(OP_FDB_ADD, ifindex, mac, ip_addr_ipv4(dst), "adding fdb entry");
    op.append = append;
    return change(nl, &op, err);
}

int nl_fdb_del(struct nl *nl, int ifindex, const uint8_t mac[6], const struct ip_addr *dst,
               struct weft_err *err)
{
    struct op op = entry_op(OP_FDB_DEL, ifindex, mac, ip_addr_ipv4(dst), "deleting fdb entry");
    return change(nl, &op, err);
}

int nl_bridge_fdb_del(struct nl *nl, int port_ifindex, const uint8_t mac[6], struct weft_err *err)
{
    struct op op = entry_op(OP_BRIDGE_FDB_DEL, port_ifindex, mac, 0, "deleting bridge fdb entry");
    return change(nl, &op, err);
}

int nl_bridge_fdb_add(struct nl *nl, int port_ifindex, const uint8_t mac[6], struct weft_err *err)
{
    struct op op = entry_op(OP_BRIDGE_FDB_ADD, port_ifindex, mac, 0, "adding bridge fdb entry");
    return change(nl, &op, err);
}

int nl_bridge_port_set_neigh_suppress(struct nl *nl, int port_ifindex, bool on,
                                      struct weft_err *err)
{
    struct op op = entry_op(OP_NEIGH_SUPPRESS, port_ifindex, NULL, 0, "setting neigh_suppress");
    op.up = on;
    return change(nl, &op, err);
}

int nl_neigh_add(struct nl *nl, int ifindex, uint32_t ip, const uint8_t mac[6],
                 struct weft_err *err)
{
    struct op op = entry_op(OP_NEIGH_ADD, ifindex, mac, ip, "adding neighbour");
    return change(nl, &op, err);
}

int nl_neigh_del(struct nl *nl, int ifindex, uint32_t ip, struct weft_err *err)
{
    struct op op = entry_op(OP_NEIGH_DEL, ifindex, NULL, ip, "deleting neighbour");
    return change(nl, &op, err);
}

static struct op neigh6_op(enum op_type type, int ifindex, const uint8_t ip6[16],
                           const uint8_t mac[6], const char *verb)
{
    struct op op = entry_op(type, ifindex, mac, 0, verb);
    memcpy(op.ip6, ip6, 16);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, ip6, text, sizeof(text));
    snprintf(op.what, sizeof(op.what), "%s on %d: %s", verb, ifindex, text);
    return op;
}

int nl_neigh6_add(struct nl *nl, int ifindex, const uint8_t ip6[16], const uint8_t mac[6],
                  struct weft_err *err)
{
    struct op op = neigh6_op(OP_NEIGH6_ADD, ifindex, ip6, mac, "adding neighbour");
    return change(nl, &op, err);
}

int nl_neigh6_del(struct nl *nl, int ifindex, const uint8_t ip6[16], struct weft_err *err)
{
    struct op op = neigh6_op(OP_NEIGH6_DEL, ifindex, ip6, NULL, "deleting neighbour");
    return change(nl, &op, err);
}

/* ---------- queries: one round trip each, refused in a batch but for nl_link_index ---------- */

static int query_start(struct nl *nl, bool in_batch_ok, const char *what, struct weft_err *err)
{
    if (nl->batching && !in_batch_ok)
        return weft_err_set(err, -EBUSY, "netlink query inside a batch");
    if (fault_hit(FAULT_NETLINK))
        return weft_err_set(err, -INJECTED_ERRNO, "%s: %s", what, strerror(INJECTED_ERRNO));
    pthread_mutex_lock(&fk.lock);
    return 0;
}

int nl_link_index(struct nl *nl, const char *name, int *ifindex, struct weft_err *err)
{
    char what[64];
    snprintf(what, sizeof(what), "looking up link %.15s", name);
    *ifindex = 0;
    if (query_start(nl, true, what, err) < 0)
        return -1;
    struct fake_link *l = fk_by_name(name);
    *ifindex = l ? l->ifindex : 0;
    pthread_mutex_unlock(&fk.lock);
    return 0;
}

/* A copy of link name, or ENODEV as "reading link <name>: No such device". */
static int link_get(struct nl *nl, const char *name, struct fake_link *out, struct weft_err *err)
{
    char what[64];
    snprintf(what, sizeof(what), "reading link %.15s", name);
    if (query_start(nl, false, what, err) < 0)
        return -1;
    struct fake_link *l = fk_by_name(name);
    if (l)
        *out = *l;
    pthread_mutex_unlock(&fk.lock);
    return l ? 0 : weft_err_set(err, -ENODEV, "%s: %s", what, strerror(ENODEV));
}

int nl_link_get_mtu(struct nl *nl, const char *name, int *mtu, struct weft_err *err)
{
    struct fake_link l;
    if (link_get(nl, name, &l, err) < 0)
        return -1;
    *mtu = l.mtu;
    return 0;
}

int nl_vxlan_get(struct nl *nl, const char *name, uint32_t *vni, struct ip_addr *local,
                 struct weft_err *err)
{
    struct fake_link l;
    if (link_get(nl, name, &l, err) < 0)
        return -1;
    if (l.kind != FAKE_LINK_VXLAN)
        return weft_err_set(err, -EEXIST, "link %.15s exists but is not a VXLAN device", name);
    *vni = l.vni;
    *local = ip_addr_from_ipv4(l.local);
    return 0;
}

/* The dumps copy under the lock and call fn after it, as the real ones read the
 * whole answer before fn sees it. */
int nl_link_aliases(struct nl *nl, const char *prefix, nl_link_alias_fn fn, void *ctx,
                    struct weft_err *err)
{
    if (query_start(nl, false, "listing links", err) < 0)
        return -1;
    struct fake_link *copy = malloc(sizeof(fk.links));
    int n = 0;
    for (int i = 0; copy && i < FK_LINKS_MAX; i++) {
        const struct fake_link *l = &fk.links[i];
        if (l->ifindex && l->alias[0] && strncmp(l->name, prefix, strlen(prefix)) == 0)
            copy[n++] = *l;
    }
    pthread_mutex_unlock(&fk.lock);
    if (!copy)
        return weft_err_set(err, -ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        fn(ctx, copy[i].name, copy[i].alias);
    free(copy);
    return 0;
}

int nl_fdb_list(struct nl *nl, int ifindex, nl_fdb_fn fn, void *ctx, struct weft_err *err)
{
    if (query_start(nl, false, "listing fdb entries", err) < 0)
        return -1;
    struct fk_fdb *copy = malloc(sizeof(fk.fdb));
    int n = 0;
    for (int i = 0; copy && i < fk.fdb_count; i++)
        if (fk.fdb[i].ifindex == ifindex)
            copy[n++] = fk.fdb[i];
    pthread_mutex_unlock(&fk.lock);
    if (!copy)
        return weft_err_set(err, -ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        struct ip_addr dst = ip_addr_from_ipv4(copy[i].dst);
        fn(ctx, copy[i].mac, &dst);
    }
    free(copy);
    return 0;
}

/* The fake keeps a bridge's static entries as FDB entries with destination 0. */
int nl_bridge_fdb_list(struct nl *nl, int port_ifindex, nl_bridge_fdb_fn fn, void *ctx,
                       struct weft_err *err)
{
    if (query_start(nl, false, "listing bridge fdb entries", err) < 0)
        return -1;
    struct fk_fdb *copy = malloc(sizeof(fk.fdb));
    int n = 0;
    for (int i = 0; copy && i < fk.fdb_count; i++)
        if (fk.fdb[i].ifindex == port_ifindex && fk.fdb[i].dst == 0)
            copy[n++] = fk.fdb[i];
    pthread_mutex_unlock(&fk.lock);
    if (!copy)
        return weft_err_set(err, -ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        fn(ctx, copy[i].mac);
    free(copy);
    return 0;
}

int nl_neigh_list(struct nl *nl, int ifindex, nl_neigh_fn fn, void *ctx, struct weft_err *err)
{
    if (query_start(nl, false, "listing neighbours", err) < 0)
        return -1;
    struct fk_neigh *copy = malloc(sizeof(fk.neigh));
    int n = 0;
    for (int i = 0; copy && i < fk.neigh_count; i++)
        if (fk.neigh[i].ifindex == ifindex)
            copy[n++] = fk.neigh[i];
    pthread_mutex_unlock(&fk.lock);
    if (!copy)
        return weft_err_set(err, -ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        fn(ctx, copy[i].ip, copy[i].mac);
    free(copy);
    return 0;
}

int nl_neigh6_list(struct nl *nl, int ifindex, nl_neigh6_fn fn, void *ctx, struct weft_err *err)
{
    if (query_start(nl, false, "listing IPv6 neighbours", err) < 0)
        return -1;
    struct fk_neigh6 *copy = malloc(sizeof(fk.neigh6));
    int n = 0;
    for (int i = 0; copy && i < fk.neigh6_count; i++)
        if (fk.neigh6[i].ifindex == ifindex)
            copy[n++] = fk.neigh6[i];
    pthread_mutex_unlock(&fk.lock);
    if (!copy)
        return weft_err_set(err, -ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        fn(ctx, copy[i].ip6, copy[i].mac);
    free(copy);
    return 0;
}

int nl_default_route_addr(struct nl *nl, struct ip_addr *ip, char *ifname, int ifname_len,
                          struct weft_err *err)
{
    if (query_start(nl, false, "reading the default route", err) < 0)
        return -1;
    bool have = fk.underlay_ip != 0;
    *ip = ip_addr_from_ipv4(fk.underlay_ip);
    if (have)
        snprintf(ifname, (size_t)ifname_len, "%s", fk.underlay_name);
    pthread_mutex_unlock(&fk.lock);
    return have ? 0 : weft_err_set(err, -ENOENT, "no default route");
}

int nl_addr_ifname(struct nl *nl, const struct ip_addr *addr, char *ifname, int ifname_len,
                   struct weft_err *err)
{
    if (query_start(nl, false, "listing addresses", err) < 0)
        return -1;
    uint32_t ip = ip_addr_ipv4(addr);
    bool have = fk.underlay_ip != 0 && fk.underlay_ip == ip;
    if (have)
        snprintf(ifname, (size_t)ifname_len, "%s", fk.underlay_name);
    pthread_mutex_unlock(&fk.lock);
    if (have)
        return 0;
    char text[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &ip, text, sizeof(text));
    return weft_err_set(err, -EADDRNOTAVAIL, "no interface holds %s", text);
}

/* Service ports (vxlan/service_port.c) are never made on fakes: the fabric there
 * runs without overlay hooks. */
int nl_link_set_netns(struct nl *nl, const char *name, int ns_fd, struct weft_err *err)
{
    (void)nl, (void)name, (void)ns_fd;
    return weft_err_set(err, -EOPNOTSUPP, "fake: no namespaces");
}

int nl_addr_add(struct nl *nl, const char *name, uint32_t ip, int prefix_len, struct weft_err *err)
{
    (void)nl, (void)name, (void)ip, (void)prefix_len;
    return weft_err_set(err, -EOPNOTSUPP, "fake: no addresses");
}

int nl_route_add_onlink(struct nl *nl, const char *name, uint32_t dst, int prefix_len,
                        struct weft_err *err)
{
    (void)nl, (void)name, (void)dst, (void)prefix_len;
    return weft_err_set(err, -EOPNOTSUPP, "fake: no routes");
}
