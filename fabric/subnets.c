/*
 * subnets.c: a network's IPv4 subnets when it has several (--subnet given more than once,
 * issue 12). The first names the overlay: its records' keys, its VNI, its gateway. The
 * extra ones share its one VXLAN segment, each with its own IPAM pool, and containers
 * reach across them on-link (Join's connected routes). An address's claim and peer record
 * go under the subnet of its pool, so every record stays checkable by its key alone; these
 * lookups map such a subnet back to its network. A dual-stack network may likewise have
 * several IPv6 subnets: the lowest is its subnet6, the others extra_subnets6 (IPv6
 * addresses ride in their endpoint's IPv4-keyed peer record, so no key names them).
 * Callers: fabric/ only; the ones reading f->networks or the remote table under f->lock.
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

static bool overlaps6(const struct ipv6_subnet *a, const struct ipv6_subnet *b)
{
    return ipv6_subnet_contains(a, &b->network) || ipv6_subnet_contains(b, &a->network);
}

/* net's extra IPv6 subnets, as network_set_extra_subnets; net->cidr6 is set. */
int network_set_extra_subnets6(struct local_network *net, const char (*texts)[ADDR_STR_MAX],
                               int count, struct weft_err *err)
{
    if (count < 0 || count > FABRIC_EXTRA_SUBNETS_MAX)
        return weft_err_set(err, -EINVAL, "a weft network takes at most %d IPv6 subnets, not %d",
                            FABRIC_EXTRA_SUBNETS_MAX + 1, count + 1);
    if (count > 0 && !net->subnet6[0])
        return weft_err_set(err, -EINVAL, "extra IPv6 subnets on a network without IPv6");
    for (int i = 0; i < count; i++) {
        struct ipv6_subnet *cidr = &net->extra_cidrs6[i];
        char canonical[ADDR_STR_MAX];
        if (ipv6_subnet_parse(texts[i], cidr, err) < 0)
            return weft_err_wrap(err, "extra IPv6 subnet");
        ipv6_subnet_format(cidr, canonical);
        if (strcmp(canonical, texts[i]) != 0)
            return weft_err_set(err, -EINVAL, "extra subnet %s is not written canonically (%s)",
                                texts[i], canonical);
        if (overlaps6(cidr, &net->cidr6))
            return weft_err_set(err, -EINVAL, "subnet %s overlaps the network's first, %s",
                                texts[i], net->subnet6);
        for (int j = 0; j < i; j++)
            if (overlaps6(cidr, &net->extra_cidrs6[j]))
                return weft_err_set(err, -EINVAL, "subnets %s and %s overlap", texts[j],
                                    texts[i]);
        snprintf(net->extra_subnets6[i], sizeof(net->extra_subnets6[i]), "%s", canonical);
    }
    net->extra6_count = count;
    return 0;
}

/* A record's "a/n b/n" (or "") as words; -EPROTO when malformed or too many. */
static int split_words(const char *text, char (*words)[ADDR_STR_MAX], int *count,
                       struct weft_err *err)
{
    *count = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, " ");
        if (len == 0 || len >= ADDR_STR_MAX)
            return weft_err_set(err, -EPROTO, "extra subnets \"%.80s\" are malformed", text);
        if (*count >= FABRIC_EXTRA_SUBNETS_MAX)
            return weft_err_set(err, -EPROTO, "more than %d extra subnets in \"%.80s\"",
                                FABRIC_EXTRA_SUBNETS_MAX, text);
        snprintf(words[(*count)++], ADDR_STR_MAX, "%.*s", (int)len, p);
        p += len;
        if (*p == ' ' && !*++p)
            return weft_err_set(err, -EPROTO, "extra subnets \"%.80s\" are malformed", text);
    }
    return 0;
}

/* A host record's extra subnets of both families into net (its first ones set). */
int network_parse_extra_subnets(struct local_network *net, const char *text,
                                const char *text6, struct weft_err *err)
{
    char words[FABRIC_EXTRA_SUBNETS_MAX][ADDR_STR_MAX];
    int count;
    if (split_words(text, words, &count, err) < 0 ||
        network_set_extra_subnets(net, (const char (*)[ADDR_STR_MAX])words, count, err) < 0 ||
        split_words(text6, words, &count, err) < 0)
        return -1;
    return network_set_extra_subnets6(net, (const char (*)[ADDR_STR_MAX])words, count, err);
}

/* The words a record holds for count extra subnets ("" for none); false when they do
 * not fit in len bytes (IPv4 ones always fit RECORD_TEXT_MAX; long IPv6 ones may not). */
bool extra_subnets_join(const char (*texts)[ADDR_STR_MAX], int count, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < count; i++) {
        int n = snprintf(out + used, len - used, "%s%s", i ? " " : "", texts[i]);
        if (n < 0 || (size_t)n >= len - used) {
            out[0] = '\0';
            return false;
        }
        used += (size_t)n;
    }
    return true;
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

/* Which of net's IPv6 subnets holds ip as a host address, as network_subnet_of. */
const char *network_subnet6_of(const struct local_network *net, const struct ipv6_addr *ip,
                               const struct ipv6_subnet **cidr)
{
    const struct ipv6_subnet *found = NULL;
    const char *text = NULL;
    if (net->subnet6[0] && ipv6_subnet_is_host(&net->cidr6, ip)) {
        found = &net->cidr6;
        text = net->subnet6;
    }
    for (int i = 0; !found && i < net->extra6_count; i++)
        if (ipv6_subnet_is_host(&net->extra_cidrs6[i], ip)) {
            found = &net->extra_cidrs6[i];
            text = net->extra_subnets6[i];
        }
    if (cidr)
        *cidr = found;
    return text;
}

/* Whether a record under subnet b is of the overlay of subnet a: net is
 * network_by_subnet(f, a), looked up once by a caller that asks for many records (NULL:
 * no local network has a, so only a itself). */
bool in_overlay(const struct local_network *net, const char *a, const char *b)
{
    return net ? network_has_subnet(net, b) : strcmp(a, b) == 0;
}

static int other_pools(const char *subnet6, const char (*extra)[ADDR_STR_MAX], int extra_count,
                       const char (*extra6)[ADDR_STR_MAX], int extra6_count,
                       char (*out)[ADDR_STR_MAX])
{
    int n = 0;
    if (subnet6[0])
        snprintf(out[n++], ADDR_STR_MAX, "%s", subnet6);
    for (int i = 0; i < extra_count; i++)
        snprintf(out[n++], ADDR_STR_MAX, "%s", extra[i]);
    for (int i = 0; i < extra6_count; i++)
        snprintf(out[n++], ADDR_STR_MAX, "%s", extra6[i]);
    return n;
}

int spec_other_pools(const struct fabric_network_spec *spec, char (*out)[ADDR_STR_MAX])
{
    return other_pools(spec->subnet6, spec->extra_subnets, spec->extra_count,
                       spec->extra_subnets6, spec->extra6_count, out);
}

int network_other_pools(const struct local_network *net, char (*out)[ADDR_STR_MAX])
{
    return other_pools(net->subnet6, (const char (*)[ADDR_STR_MAX])net->extra_subnets,
                       net->extra_count, (const char (*)[ADDR_STR_MAX])net->extra_subnets6,
                       net->extra6_count, out);
}
