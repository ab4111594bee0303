/*
 * dns_query.c: the DNS message rules of dns_query.h. A query is parsed with
 * ldns_wire2pkt, its question read into a lowercase name (struct question), the
 * overlay's part decided into a struct reply (what to say, no ldns in it), and
 * the response built and written with ldns, dropping answers from the end until
 * the message fits the client's size.
 */
#include "dns/dns_query.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message without EDNS fits in this (RFC 1035 4.2.1). */
#define DNS_UDP_PLAIN 512
/* The one zone of reverse names for IPv4 (RFC 1035 3.5), and for IPv6 (RFC 3596 2.5). */
#define REVERSE_ZONE "in-addr.arpa"
#define REVERSE_ZONE6 "ip6.arpa"
/* An IPv6 address is 32 nibbles, one label each. */
#define NIBBLES6 32
/* EDNS extended RCODE: BADVERS is 16, its upper 8 bits in the OPT TTL (RFC 6891). */
#define EDNS_BADVERS_HIGH 1
/* ldns_wire2pkt (1.8.3) loses a TSIG record when two come in 3 or more additional
 * records; a query carries at most an OPT and one TSIG, so more is not a query. */
#define QUERY_ADDITIONAL_MAX 2

/* The question of one query, as the rules read it. */
struct question {
    const ldns_rr *rr; /* borrowed from the parsed query */
    ldns_rr_type type;
    char name[DNS_NAME_MAX + 1]; /* lowercase, no final dot */
};

/* What the response says, decided before any of it is built. */
struct reply {
    uint8_t rcode;  /* LDNS_RCODE_NOERROR, _NXDOMAIN or _SERVFAIL */
    size_t n_addrs; /* A records, in answer order (network order) */
    uint32_t addrs[DNS_ADDRS_MAX];
    size_t n_addrs6; /* AAAA records, in answer order */
    struct ipv6_addr addrs6[DNS_ADDRS_MAX];
    char target[DNS_NAME_MAX + 2]; /* a PTR record's name with its final dot; "" none */
};

/* The text of dname (wire form, uncompressed as ldns keeps it), lowercase and
 * without the final dot. False for the root, for a name longer than DNS_NAME_MAX
 * and for labels no overlay name has: a dot, a backslash, a space or control byte
 * inside a label (their text would need escapes). */
static bool name_text(const ldns_rdf *dname, char *out, size_t out_cap)
{
    const uint8_t *wire = ldns_rdf_data(dname);
    size_t size = ldns_rdf_size(dname), pos = 0, len = 0;
    while (pos < size && wire[pos] != 0) {
        size_t label = wire[pos++];
        if (label > size - pos)
            return false;
        if (len > 0) {
            if (len + 1 >= out_cap)
                return false;
            out[len++] = '.';
        }
        for (size_t i = 0; i < label; i++) {
            uint8_t c = wire[pos + i];
            if (c <= ' ' || c >= 0x7f || c == '.' || c == '\\' || len + 1 >= out_cap)
                return false;
            out[len++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        pos += label;
    }
    out[len] = '\0';
    return len > 0 && len <= DNS_NAME_MAX;
}

/* One label of a reverse name as an octet: decimal 0..255 without leading zeros
 * (the form of every name this resolver gives out). */
static bool octet_parse(const char *label, size_t len, uint32_t *octet)
{
    if (len == 0 || len > 3 || (len > 1 && label[0] == '0'))
        return false;
    uint32_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (label[i] < '0' || label[i] > '9')
            return false;
        value = value * 10 + (uint32_t)(label[i] - '0');
    }
    *octet = value;
    return value <= 255;
}

/* One label of an ip6.arpa name as a nibble: a single hex digit (names come here
 * lowercase, so either case was asked). */
static bool nibble_parse(const char *label, size_t len, uint8_t *nibble)
{
    if (len != 1)
        return false;
    if (label[0] >= '0' && label[0] <= '9')
        *nibble = (uint8_t)(label[0] - '0');
    else if (label[0] >= 'a' && label[0] <= 'f')
        *nibble = (uint8_t)(label[0] - 'a' + 10);
    else
        return false;
    return true;
}

/* Whether name is zone or below it. */
static bool in_zone(const char *name, const char *zone)
{
    size_t zone_len = strlen(zone), len = strlen(name);
    if (len < zone_len || strcmp(name + len - zone_len, zone) != 0)
        return false;
    return len == zone_len || name[len - zone_len - 1] == '.';
}

/* Where the labels of name before ".zone" end: they are name[0..end). */
static size_t labels_end(const char *name, const char *zone)
{
    size_t zone_len = strlen(zone), len = strlen(name);
    return len > zone_len ? len - zone_len - 1 : 0;
}

/* The label just left of *end (its text and length), *end moved past it and its
 * dot. False when no label is left. */
static bool label_left(const char *name, size_t *end, const char **label, size_t *len)
{
    if (*end == 0)
        return false;
    size_t start = *end;
    while (start > 0 && name[start - 1] != '.')
        start--;
    *label = name + start;
    *len = *end - start;
    *end = start > 0 ? start - 1 : 0;
    return true;
}

/* The labels of a reverse name before ".in-addr.arpa", read from the right as
 * octets of an address: how many parse (0..4) into *octets and *addr (host order,
 * the missing ones zero), and whether labels are left over. */
static void reverse_parse(const char *name, size_t *octets, uint32_t *addr, bool *leftover)
{
    *octets = 0, *addr = 0, *leftover = false;
    size_t end = labels_end(name, REVERSE_ZONE), len;
    const char *label;
    while (label_left(name, &end, &label, &len)) {
        uint32_t octet;
        if (*octets == 4 || !octet_parse(label, len, &octet)) {
            *leftover = true;
            break;
        }
        *addr |= octet << (24 - 8 * *octets);
        (*octets)++;
    }
}

/* The same for ".ip6.arpa": labels read from the right as nibbles (0..32), the
 * first the high half of the address's first byte. */
static void reverse6_parse(const char *name, size_t *nibbles, struct ipv6_addr *addr,
                           bool *leftover)
{
    *nibbles = 0, *addr = (struct ipv6_addr){{0}}, *leftover = false;
    size_t end = labels_end(name, REVERSE_ZONE6), len;
    const char *label;
    while (label_left(name, &end, &label, &len)) {
        uint8_t nibble;
        if (*nibbles == NIBBLES6 || !nibble_parse(label, len, &nibble)) {
            *leftover = true;
            break;
        }
        addr->bytes[*nibbles / 2] |= (uint8_t)(*nibbles % 2 ? nibble : nibble << 4);
        (*nibbles)++;
    }
}

/* A whole address's answer: its name (target, from the caller's name_of) as PTR
 * (for PTR and ANY; NODATA for other types), NXDOMAIN when it has none (found
 * false): those addresses are nobody else's to answer. */
static enum dns_verdict address_reply(bool found, char *target, size_t target_cap,
                                      const struct question *q, struct reply *reply)
{
    if (!found) {
        reply->rcode = LDNS_RCODE_NXDOMAIN;
        return DNS_ANSWER;
    }
    target[target_cap - 1] = '\0';
    if (q->type == LDNS_RR_TYPE_PTR || q->type == LDNS_RR_TYPE_ANY)
        snprintf(reply->target, sizeof(reply->target), "%s.", target);
    return DNS_ANSWER;
}

/* A reverse name: the overlay's when it lies in one of its subnets' reverse zones
 * (its octets pin at least that subnet's prefix, inside it). A host address gets
 * its name (PTR) or NXDOMAIN; a shorter name inside the zone is an empty
 * non-terminal (NODATA: names below it may exist); anything else inside is
 * NXDOMAIN. */
static enum dns_verdict reverse_decide(const struct dns_names *names,
                                       const struct ipv4_subnet *overlay, size_t overlay_count,
                                       const struct question *q, struct reply *reply)
{
    size_t octets;
    uint32_t addr;
    bool leftover;
    reverse_parse(q->name, &octets, &addr, &leftover);
    size_t zone = 0;
    while (zone < overlay_count && ((int)(octets * 8) < overlay[zone].prefix_len ||
                                    !ipv4_subnet_contains(&overlay[zone], addr)))
        zone++;
    if (zone == overlay_count)
        return DNS_FORWARD;
    if (leftover) {
        reply->rcode = LDNS_RCODE_NXDOMAIN;
        return DNS_ANSWER;
    }
    if (octets < 4)
        return DNS_ANSWER;
    char target[DNS_NAME_MAX + 1] = "";
    bool found = names->name_of(names->ctx, htonl(addr), target, sizeof(target));
    return address_reply(found, target, sizeof(target), q, reply);
}

/* The same for an ip6.arpa name and the overlay's IPv6 subnet (overlay6; NULL: the
 * overlay has none, and the name is not its): nibbles instead of octets. */
static enum dns_verdict reverse6_decide(const struct dns_names *names,
                                        const struct ipv6_subnet *overlay6,
                                        const struct question *q, struct reply *reply)
{
    size_t nibbles;
    struct ipv6_addr addr;
    bool leftover;
    reverse6_parse(q->name, &nibbles, &addr, &leftover);
    if (!overlay6 || (int)(nibbles * 4) < overlay6->prefix_len ||
        !ipv6_subnet_contains(overlay6, &addr))
        return DNS_FORWARD;
    if (leftover) {
        reply->rcode = LDNS_RCODE_NXDOMAIN;
        return DNS_ANSWER;
    }
    if (nibbles < NIBBLES6)
        return DNS_ANSWER;
    char target[DNS_NAME_MAX + 1] = "";
    bool found = names->name_of6 && names->name_of6(names->ctx, &addr, target, sizeof(target));
    return address_reply(found, target, sizeof(target), q, reply);
}

/* A name of the overlay: its addresses for A, its IPv6 ones for AAAA (ANY: both;
 * RFC 8482 lets them stand for all), each starting at rotate (the names' own
 * rotation, over all of a name's addresses); NODATA for every
 * other type. A name is the overlay's if it has an address of either family. */
static enum dns_verdict name_decide(const struct dns_names *names, const struct question *q,
                                    unsigned rotate, struct reply *reply)
{
    uint32_t found[DNS_ADDRS_MAX];
    struct ipv6_addr found6[DNS_ADDRS_MAX];
    size_t n = names->addresses(names->ctx, q->name, rotate, found, DNS_ADDRS_MAX);
    size_t n6 = names->addresses6
                    ? names->addresses6(names->ctx, q->name, rotate, found6, DNS_ADDRS_MAX)
                    : 0;
    if (n == 0 && n6 == 0)
        return DNS_FORWARD;
    if (n > DNS_ADDRS_MAX)
        n = DNS_ADDRS_MAX;
    if (n6 > DNS_ADDRS_MAX)
        n6 = DNS_ADDRS_MAX;
    bool any = q->type == LDNS_RR_TYPE_ANY;
    if (q->type == LDNS_RR_TYPE_A || any) {
        memcpy(reply->addrs, found, n * sizeof(found[0]));
        reply->n_addrs = n;
    }
    if (q->type == LDNS_RR_TYPE_AAAA || any) {
        memcpy(reply->addrs6, found6, n6 * sizeof(found6[0]));
        reply->n_addrs6 = n6;
    }
    return DNS_ANSWER;
}

/* One answer record: owner (cloned) of type with one rdata (taken), TTL 0. */
static bool answer_push(ldns_pkt *response, const ldns_rdf *owner, ldns_rr_type type,
                        ldns_rdf *rdata)
{
    ldns_rr *rr = rdata ? ldns_rr_new() : NULL;
    ldns_rdf *name = rr ? ldns_rdf_clone(owner) : NULL;
    if (!name) {
        ldns_rr_free(rr);
        ldns_rdf_deep_free(rdata);
        return false;
    }
    ldns_rr_set_owner(rr, name);
    ldns_rr_set_type(rr, type);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, 0);
    if (!ldns_rr_push_rdf(rr, rdata)) {
        ldns_rdf_deep_free(rdata);
        ldns_rr_free(rr);
        return false;
    }
    if (!ldns_pkt_push_rr(response, LDNS_SECTION_ANSWER, rr)) {
        ldns_rr_free(rr);
        return false;
    }
    return true;
}

/* The answer section of reply. False when out of memory. A PTR target that is no
 * valid name turns the reply into SERVFAIL: the address is held, its name is
 * not sayable. */
static bool answers_push(ldns_pkt *response, const struct question *q, struct reply *reply)
{
    const ldns_rdf *owner = ldns_rr_owner(q->rr);
    for (size_t i = 0; i < reply->n_addrs; i++) {
        ldns_rdf *a = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, &reply->addrs[i]);
        if (!answer_push(response, owner, LDNS_RR_TYPE_A, a))
            return false;
    }
    for (size_t i = 0; i < reply->n_addrs6; i++) {
        ldns_rdf *aaaa = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, reply->addrs6[i].bytes);
        if (!answer_push(response, owner, LDNS_RR_TYPE_AAAA, aaaa))
            return false;
    }
    if (reply->target[0] != '\0') {
        ldns_rdf *target = ldns_dname_new_frm_str(reply->target);
        if (!target)
            reply->rcode = LDNS_RCODE_SERVFAIL;
        else if (!answer_push(response, owner, LDNS_RR_TYPE_PTR, target))
            return false;
    }
    ldns_pkt_set_rcode(response, reply->rcode);
    return true;
}

/* The response's header, question and OPT (with advertised, our UDP size, when
 * the query has EDNS). NULL when out of memory. */
static ldns_pkt *response_new(const ldns_pkt *query, const struct question *q, uint16_t advertised)
{
    ldns_pkt *response = ldns_pkt_new();
    ldns_rr *question = response ? ldns_rr_clone(q->rr) : NULL;
    if (!question || !ldns_pkt_push_rr(response, LDNS_SECTION_QUESTION, question)) {
        ldns_rr_free(question);
        ldns_pkt_free(response);
        return NULL;
    }
    ldns_pkt_set_id(response, ldns_pkt_id(query));
    ldns_pkt_set_opcode(response, LDNS_PACKET_QUERY);
    ldns_pkt_set_qr(response, true);
    ldns_pkt_set_aa(response, true);
    ldns_pkt_set_ra(response, true);
    ldns_pkt_set_rd(response, ldns_pkt_rd(query));
    ldns_pkt_set_cd(response, ldns_pkt_cd(query)); /* RFC 6840 5.9 */
    if (ldns_pkt_edns(query)) {
        ldns_pkt_set_edns_udp_size(response, advertised);
        ldns_pkt_set_edns_do(response, ldns_pkt_edns_do(query)); /* RFC 3225 3 */
    }
    return response;
}

/* Writes response into out, dropping answers from the end (and setting TC) until
 * it fits limit. False when out of memory or not even the question fits. */
static bool response_write(ldns_pkt *response, size_t limit, uint8_t *out, size_t *out_len)
{
    for (;;) {
        uint8_t *wire = NULL;
        size_t size = 0;
        if (ldns_pkt2wire(&wire, response, &size) != LDNS_STATUS_OK) {
            free(wire);
            return false;
        }
        if (size <= limit) {
            memcpy(out, wire, size);
            *out_len = size;
            free(wire);
            return true;
        }
        free(wire);
        ldns_rr *last = ldns_rr_list_pop_rr(ldns_pkt_answer(response));
        if (!last)
            return false;
        ldns_rr_free(last);
        ldns_pkt_set_ancount(response, ldns_pkt_ancount(response) - 1);
        ldns_pkt_set_tc(response, true);
    }
}

/* The UDP size the client takes (RFC 6891 6.2.5: below 512 means 512), at most
 * ours. */
static uint16_t udp_size(const ldns_pkt *query)
{
    uint16_t size = ldns_pkt_edns(query) ? ldns_pkt_edns_udp_size(query) : DNS_UDP_PLAIN;
    if (size < DNS_UDP_PLAIN)
        size = DNS_UDP_PLAIN;
    return size < DNS_MESSAGE_MAX ? size : DNS_MESSAGE_MAX;
}

/* Builds and writes the response of reply to query: within the client's UDP size,
 * or (stream: asked over TCP) out_cap. DNS_DROP when out of memory. */
static enum dns_verdict respond(const ldns_pkt *query, const struct question *q,
                                struct reply *reply, bool stream, uint8_t *out, size_t out_cap,
                                size_t *out_len)
{
    uint16_t size = udp_size(query);
    ldns_pkt *response = response_new(query, q, size);
    if (!response)
        return DNS_DROP;
    bool ok;
    if (ldns_pkt_edns(query) && ldns_pkt_edns_version(query) != 0) {
        /* An EDNS version we do not speak: BADVERS, answered in version 0. */
        ldns_pkt_set_edns_extended_rcode(response, EDNS_BADVERS_HIGH);
        ok = true;
    } else {
        ok = answers_push(response, q, reply);
    }
    ok = ok && response_write(response, !stream && size < out_cap ? size : out_cap, out, out_len);
    ldns_pkt_free(response);
    return ok ? DNS_ANSWER : DNS_DROP;
}

/* Whether query is one the rules read: a QUERY with one question. */
static bool query_acceptable(const ldns_pkt *query)
{
    return !ldns_pkt_qr(query) && ldns_pkt_get_opcode(query) == LDNS_PACKET_QUERY &&
           ldns_pkt_qdcount(query) == 1 && ldns_rr_list_rr_count(ldns_pkt_question(query)) == 1;
}

/* The verdict on a parsed query, and its response in out. */
static enum dns_verdict query_decide(const struct dns_names *names,
                                     const struct ipv4_subnet *overlay, size_t overlay_count,
                                     const struct ipv6_subnet *overlay6, const ldns_pkt *query,
                                     unsigned rotate, bool stream, uint8_t *out, size_t out_cap,
                                     size_t *out_len)
{
    if (!query_acceptable(query))
        return DNS_DROP;
    struct question q = {.rr = ldns_rr_list_rr(ldns_pkt_question(query), 0)};
    q.type = ldns_rr_get_type(q.rr);
    if (ldns_rr_get_class(q.rr) != LDNS_RR_CLASS_IN ||
        !name_text(ldns_rr_owner(q.rr), q.name, sizeof(q.name)))
        return DNS_FORWARD;
    struct reply reply = {.rcode = LDNS_RCODE_NOERROR};
    enum dns_verdict verdict;
    if (in_zone(q.name, REVERSE_ZONE))
        verdict = reverse_decide(names, overlay, overlay_count, &q, &reply);
    else if (in_zone(q.name, REVERSE_ZONE6))
        verdict = reverse6_decide(names, overlay6, &q, &reply);
    else
        verdict = name_decide(names, &q, rotate, &reply);
    if (verdict != DNS_ANSWER)
        return verdict;
    return respond(query, &q, &reply, stream, out, out_cap, out_len);
}

/* The parsed query, or NULL for what is dropped unread: too short, too many
 * additional records, or not parseable. */
static ldns_pkt *query_parse(const uint8_t *query, size_t query_len)
{
    if (!query || query_len < LDNS_HEADER_SIZE || LDNS_ARCOUNT(query) > QUERY_ADDITIONAL_MAX)
        return NULL;
    ldns_pkt *pkt = NULL;
    if (ldns_wire2pkt(&pkt, query, query_len) != LDNS_STATUS_OK)
        return NULL;
    return pkt;
}

enum dns_verdict dns_query_servfail(const uint8_t *query, size_t query_len, uint8_t *out,
                                    size_t out_cap, size_t *out_len)
{
    *out_len = 0;
    ldns_pkt *pkt = query_parse(query, query_len);
    if (!pkt)
        return DNS_DROP;
    enum dns_verdict verdict = DNS_DROP;
    if (query_acceptable(pkt)) {
        struct question q = {.rr = ldns_rr_list_rr(ldns_pkt_question(pkt), 0)};
        uint16_t size = udp_size(pkt);
        ldns_pkt *response = response_new(pkt, &q, size);
        if (response) {
            ldns_pkt_set_aa(response, false); /* the name is not ours: we only failed to ask */
            ldns_pkt_set_rcode(response, LDNS_RCODE_SERVFAIL);
            if (response_write(response, size < out_cap ? size : out_cap, out, out_len))
                verdict = DNS_ANSWER;
            ldns_pkt_free(response);
        }
    }
    ldns_pkt_free(pkt);
    return verdict;
}

/* dns_query_answer and its stream twin. */
static enum dns_verdict answer_query(const struct dns_names *names,
                                     const struct ipv4_subnet *overlay, size_t overlay_count,
                                     const struct ipv6_subnet *overlay6, const uint8_t *query,
                                     size_t query_len, unsigned rotate, bool stream, uint8_t *out,
                                     size_t out_cap, size_t *out_len)
{
    *out_len = 0;
    ldns_pkt *pkt = query_parse(query, query_len);
    if (!pkt)
        return DNS_DROP;
    enum dns_verdict verdict = query_decide(names, overlay, overlay_count, overlay6, pkt, rotate,
                                            stream, out, out_cap, out_len);
    ldns_pkt_free(pkt);
    return verdict;
}

enum dns_verdict dns_query_answer(const struct dns_names *names, const struct ipv4_subnet *overlay,
                                  size_t overlay_count, const struct ipv6_subnet *overlay6,
                                  const uint8_t *query, size_t query_len, unsigned rotate,
                                  uint8_t *out, size_t out_cap, size_t *out_len)
{
    return answer_query(names, overlay, overlay_count, overlay6, query, query_len, rotate, false,
                        out, out_cap, out_len);
}

enum dns_verdict dns_query_answer_stream(const struct dns_names *names,
                                         const struct ipv4_subnet *overlay, size_t overlay_count,
                                         const struct ipv6_subnet *overlay6, const uint8_t *query,
                                         size_t query_len, unsigned rotate, uint8_t *out,
                                         size_t out_cap, size_t *out_len)
{
    return answer_query(names, overlay, overlay_count, overlay6, query, query_len, rotate, true,
                        out, out_cap, out_len);
}

void dns_library_version(char *out, size_t size)
{
    snprintf(out, size, "ldns/%s", ldns_version());
}
