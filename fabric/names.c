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

size_t fabric_name_addresses(struct fabric *f, const char *subnet, const char *name,
                             uint32_t *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&f->lock);
    struct local_network *net = network_by_subnet(f, subnet);
    for (struct local_endpoint *ep = net ? net->endpoints : NULL; ep && n < max; ep = ep->next)
        if (!ep->removing && record_names_has(ep->names, name))
            out[n++] = htonl(ep->ip);
    for (struct remote_entry *r = f->remotes.head; r && n < max; r = r->next)
        if (r->is_peer && r->programmed && r->names && net && network_has_subnet(net, r->subnet) &&
            record_names_has(r->names, name))
            out[n++] = r->addr;
    pthread_mutex_unlock(&f->lock);
    return n;
}

size_t fabric_name_addresses6(struct fabric *f, const char *subnet, const char *name,
                              struct ipv6_addr *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&f->lock);
    struct local_network *net = network_by_subnet(f, subnet);
    for (struct local_endpoint *ep = net ? net->endpoints : NULL; ep && n < max; ep = ep->next)
        if (!ep->removing && ep->has_ip6 && record_names_has(ep->names, name))
            out[n++] = ep->ip6;
    /* What peers.c programs (peer6_wanted), no other IPv6 address. */
    for (struct remote_entry *r = f->remotes.head; net && net->subnet6[0] && r && n < max;
         r = r->next)
        if (r->programmed && r->names && network_has_subnet(net, r->subnet) &&
            peer6_wanted(net, r) && record_names_has(r->names, name))
            out[n++] = r->addr6;
    pthread_mutex_unlock(&f->lock);
    return n;
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
