/*
 * subnets.c: a network's IPv4 subnets when it has several (--subnet given more than once,
 * issue 12). The first names the overlay: its records' keys, its VNI, its gateway. The
 * extra ones share its one VXLAN segment, each with its own IPAM pool, and containers
 * reach across them on-link (Join's connected routes). An address's claim and peer record
 * go under the subnet of its pool, so every record stays checkable by its key alone; these
 * lookups map such a subnet back to its network. Callers: fabric/ only; the ones reading
 * f->networks or the remote table under f->lock.
 */
#include "fabric/fabric_internal.h"

#include <stdio.h>
#include <string.h>

static bool overlaps(const struct ipv4_subnet *a, const struct ipv4_subnet *b)
{
    return ipv4_subnet_contains(a, b->network) || ipv4_subnet_contains(b, a->network);
}

/* net's extra subnets from their canonical texts (a spec's, or a record's words):
 * each a canonical subnet overlapping neither the first nor another. */
int network_set_extra_subnets(struct local_network *net, const char (*texts)[ADDR_STR_MAX],
                              int count, struct weft_err *err)
{
    if (count < 0 || count > FABRIC_EXTRA_SUBNETS_MAX)
        return weft_err_set(err, -EINVAL, "a weft network takes at most %d subnets, not %d",
                            FABRIC_EXTRA_SUBNETS_MAX + 1, count + 1);
    for (int i = 0; i < count; i++) {
        struct ipv4_subnet *cidr = &net->extra_cidrs[i];
        char canonical[ADDR_STR_MAX];
        if (ipv4_subnet_parse(texts[i], cidr, err) < 0)
            return weft_err_wrap(err, "extra subnet");
        ipv4_subnet_format(cidr, canonical);
        if (strcmp(canonical, texts[i]) != 0)
            return weft_err_set(err, -EINVAL, "extra subnet %s is not written canonically (%s)",
                                texts[i], canonical);
        if (overlaps(cidr, &net->cidr))
            return weft_err_set(err, -EINVAL, "subnet %s overlaps the network's first, %s",
                                texts[i], net->subnet);
        for (int j = 0; j < i; j++)
            if (overlaps(cidr, &net->extra_cidrs[j]))
                return weft_err_set(err, -EINVAL, "subnets %s and %s overlap", texts[j],
                                    texts[i]);
        snprintf(net->extra_subnets[i], sizeof(net->extra_subnets[i]), "%s", canonical);
    }
    net->extra_count = count;
    return 0;
}

/* Splits a record's "a/n b/n" (or "") into words, then as network_set_extra_subnets. */
int network_parse_extra_subnets(struct local_network *net, const char *text,
                                struct weft_err *err)
{
    char words[FABRIC_EXTRA_SUBNETS_MAX + 1][ADDR_STR_MAX];
    int count = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, " ");
        if (len == 0 || len >= ADDR_STR_MAX)
            return weft_err_set(err, -EPROTO, "extra subnets \"%.80s\" are malformed", text);
        if (count > FABRIC_EXTRA_SUBNETS_MAX)
            return weft_err_set(err, -EPROTO, "more than %d extra subnets in \"%.80s\"",
                                FABRIC_EXTRA_SUBNETS_MAX, text);
        snprintf(words[count++], ADDR_STR_MAX, "%.*s", (int)len, p);
        p += len;
        if (*p == ' ' && !*++p)
            return weft_err_set(err, -EPROTO, "extra subnets \"%.80s\" are malformed", text);
    }
    return network_set_extra_subnets(net, (const char (*)[ADDR_STR_MAX])words, count, err);
}

/* The words a record holds for count extra subnets ("" for none); out holds
 * RECORD_TEXT_MAX bytes, which FABRIC_EXTRA_SUBNETS_MAX subnets fit. */
void extra_subnets_join(const char (*texts)[ADDR_STR_MAX], int count, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < count && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? " " : "", texts[i]);
}

bool network_has_subnet(const struct local_network *net, const char *subnet)
{
    if (strcmp(net->subnet, subnet) == 0)
        return true;
    for (int i = 0; i < net->extra_count; i++)
        if (strcmp(net->extra_subnets[i], subnet) == 0)
            return true;
    return false;
}

/* Which of net's subnets holds ip (host order) as a host address: its text and, when
 * cidr is not NULL, its prefix; NULL when none does. */
const char *network_subnet_of(const struct local_network *net, uint32_t ip,
                              const struct ipv4_subnet **cidr)
{
    const struct ipv4_subnet *found = NULL;
    const char *text = NULL;
    if (ipv4_subnet_contains(&net->cidr, ip) && !ipv4_subnet_is_reserved(&net->cidr, ip)) {
        found = &net->cidr;
        text = net->subnet;
    }
    for (int i = 0; !found && i < net->extra_count; i++)
        if (ipv4_subnet_contains(&net->extra_cidrs[i], ip) &&
            !ipv4_subnet_is_reserved(&net->extra_cidrs[i], ip)) {
            found = &net->extra_cidrs[i];
            text = net->extra_subnets[i];
        }
    if (cidr)
        *cidr = found;
    return text;
}

/* Whether records under subnets a and b are of one overlay here: the same subnet, or
 * two of one local network's. Under the lock. */
bool same_overlay(struct fabric *f, const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    const struct local_network *net = network_by_subnet(f, a);
    return net && network_has_subnet(net, b);
}
