/*
 * names.c: the DNS names of endpoints (fabric.h). This host's come from the Docker
 * follower and ride in the endpoint's peer record (own_records.c writes them, the
 * publisher sends them); other hosts' arrive with their peer records (peers.c).
 * The resolver asks per overlay; a remote peer's names count only while it is
 * programmed here (the address's winning claim, its host a member), so a name
 * leads where the data plane does. Everything under the fabric lock.
 */
#include "fabric/fabric_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int fabric_endpoint_set_names(struct fabric *f, const char *network_id, const char *endpoint_id,
                              const char *names, struct weft_err *err)
{
    if (strlen(names) >= RECORD_NAMES_MAX)
        return weft_err_set(err, -EINVAL, "names of endpoint %.12s are longer than %d bytes",
                            endpoint_id, RECORD_NAMES_MAX - 1);
    if (record_check_names(names, err) < 0) {
        err->code = -EINVAL;
        return -1;
    }
    pthread_mutex_lock(&f->lock);
    struct local_network *net = network_by_id(f, network_id);
    struct local_endpoint *ep = net ? endpoint_by_id(net, endpoint_id) : NULL;
    int rc = 0;
    if (!net)
        rc = weft_err_set(err, -ENOENT, "network %.12s is not a weft network on this host",
                          network_id);
    else if (!ep || ep->removing)
        rc = weft_err_set(err, -EAGAIN, "endpoint %.12s is not on this host (yet)", endpoint_id);
    else if (strcmp(ep->names, names) != 0) {
        snprintf(ep->names, sizeof(ep->names), "%s", names);
        /* Its peer record carries the names: written again (protocol 1). */
        if (ep->publication == PUBLICATION_DONE)
            ep->publication = PUBLICATION_PENDING;
        else if (ep->publication == PUBLICATION_IN_FLIGHT)
            ep->rewrite = true;
        pthread_cond_signal(&f->publish_work);
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

/* Where the matches of a name go: the start-th (of total) first, then on, wrapping;
 * a pass with neither out nor out6 only counts. Every address of a name takes its turn at the
 * front, not only the first max found. */
struct rotation {
    size_t start, total, max, seen;
    uint32_t *out;
    struct ipv6_addr *out6;
};

static void rotation_take(struct rotation *rot, uint32_t addr, const struct ipv6_addr *addr6)
{
    size_t i = rot->seen++;
    if (!rot->out && !rot->out6)
        return;
    size_t at = (i + rot->total - rot->start) % rot->total;
    if (at >= rot->max)
        return;
    if (rot->out)
        rot->out[at] = addr;
    else
        rot->out6[at] = *addr6;
}

/* One pass over the IPv4 addresses named name on net: this host's endpoints, then the
 * peers programmed here (the remote table's index by name: not every claim). */
static void named_pass(struct fabric *f, const struct local_network *net, const char *name,
                       struct rotation *rot)
{
    for (struct local_endpoint *ep = net->endpoints; ep; ep = ep->next)
        if (!ep->removing && record_names_has(ep->names, name))
            rotation_take(rot, htonl(ep->ip), NULL);
    for (const struct remote_name_ref *n = remote_table_named(&f->remotes, name); n; n = n->next) {
        const struct remote_entry *r = n->entry;
        if (r->is_peer && r->programmed && network_has_subnet(net, r->subnet))
            rotation_take(rot, r->addr, NULL);
    }
}

/* The same for IPv6: what peers.c programs (peer6_wanted), no other IPv6 address. */
static void named_pass6(struct fabric *f, const struct local_network *net, const char *name,
                        struct rotation *rot)
{
    for (struct local_endpoint *ep = net->endpoints; ep; ep = ep->next)
        if (!ep->removing && ep->has_ip6 && record_names_has(ep->names, name))
            rotation_take(rot, 0, &ep->ip6);
    const struct remote_name_ref *n =
        net->subnet6[0] ? remote_table_named(&f->remotes, name) : NULL;
    for (; n; n = n->next) {
        const struct remote_entry *r = n->entry;
        if (r->programmed && network_has_subnet(net, r->subnet) && peer6_wanted(net, r))
            rotation_take(rot, 0, &r->addr6);
    }
}

/* Counts, then places; under the lock, so both passes see the same matches. */
static size_t name_addresses(struct fabric *f, const char *subnet, const char *name, size_t start,
                             uint32_t *out, struct ipv6_addr *out6, size_t max)
{
    void (*pass)(struct fabric *, const struct local_network *, const char *, struct rotation *) =
        out6 ? named_pass6 : named_pass;
    struct rotation rot = {0};
    pthread_mutex_lock(&f->lock);
    struct local_network *net = network_by_subnet(f, subnet);
    if (net) {
        pass(f, net, name, &rot);
        rot = (struct rotation){.start = rot.seen ? start % rot.seen : 0,
                                .total = rot.seen,
                                .max = max,
                                .out = out,
                                .out6 = out6};
        if (rot.total > 0 && max > 0)
            pass(f, net, name, &rot);
    }
    pthread_mutex_unlock(&f->lock);
    return rot.total;
}

size_t fabric_name_addresses(struct fabric *f, const char *subnet, const char *name, size_t start,
                             uint32_t *out, size_t max)
{
    return name_addresses(f, subnet, name, start, out, NULL, max);
}

size_t fabric_name_addresses6(struct fabric *f, const char *subnet, const char *name, size_t start,
                              struct ipv6_addr *out, size_t max)
{
    return name_addresses(f, subnet, name, start, NULL, out, max);
}

/* The first name of a names text into out; false when there is none. */
static bool first_name(const char *names, char *out, size_t out_len)
{
    if (!names || !*names || out_len == 0)
        return false;
    size_t len = strcspn(names, " ");
    if (len >= out_len)
        return false;
    memcpy(out, names, len);
    out[len] = '\0';
    return true;
}

bool fabric_address_name(struct fabric *f, const char *subnet, uint32_t addr, char *out,
                         size_t out_len)
{
    bool found = false;
    pthread_mutex_lock(&f->lock);
    struct local_endpoint *ep = endpoint_by_ip(f, subnet, addr);
    if (ep) {
        found = first_name(ep->names, out, out_len);
    } else {
        /* A peer is keyed under the subnet that holds its address: an extra one's own. */
        const struct local_network *net = network_by_subnet(f, subnet);
        const char *holder = net ? network_subnet_of(net, ntohl(addr), NULL) : NULL;
        struct remote_entry *r =
            remote_table_find_peer(&f->remotes, holder ? holder : subnet, addr);
        if (r && r->programmed)
            found = first_name(r->names, out, out_len);
    }
    pthread_mutex_unlock(&f->lock);
    return found;
}

bool fabric_address6_name(struct fabric *f, const char *subnet, const struct ipv6_addr *addr,
                          char *out, size_t out_len)
{
    bool found = false;
    pthread_mutex_lock(&f->lock);
    struct local_network *net = network_by_subnet(f, subnet);
    struct local_endpoint *ep = net ? net->endpoints : NULL;
    while (ep && !(ep->has_ip6 && memcmp(&ep->ip6, addr, sizeof(*addr)) == 0))
        ep = ep->next;
    if (ep) {
        found = first_name(ep->names, out, out_len);
    } else {
        /* The peers fabric_name_addresses6 counts: programmed here, peer6_wanted. */
        for (struct remote_entry *r = f->remotes.head; net && !found && r; r = r->next)
            if (r->programmed && strcmp(r->subnet, subnet) == 0 && peer6_wanted(net, r) &&
                memcmp(&r->addr6, addr, sizeof(*addr)) == 0)
                found = first_name(r->names, out, out_len);
    }
    pthread_mutex_unlock(&f->lock);
    return found;
}
