/*
 * fuzz_dns.c: libFuzzer target over the DNS message handler (dns/dns_query.c).
 *
 * The input is one query as it arrives on the resolver's socket; the overlay is
 * 10.77.0.0/24 with a few fake names (one address, three, DNS_ADDRS_MAX), and
 * reverse names for a short name, a 253-character one and one that is no valid
 * name (the same for fd77::/64 under ip6.arpa). The length of the input picks the
 * rotation, whether the overlay has its IPv6 subnet and whether the caller's
 * buffer is 512 bytes or DNS_MESSAGE_MAX. The fakes abort on a name the handler
 * should never ask about; every answer must fit, parse back with ldns and be a
 * response to this query; no other verdict may write anything.
 */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_query.h"

#define OVERLAY_NETWORK 0x0a4d0000u /* 10.77.0.0/24 */

/* Labels of 63, 63, 63 and 61: the longest name there is (253 characters). */
#define LABEL61 "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1"
#define LABEL63 LABEL61 "23"
static const char long_name[] = LABEL63 "." LABEL63 "." LABEL63 "." LABEL61;
_Static_assert(sizeof(long_name) - 1 == DNS_NAME_MAX, "the longest name");

/* A name the handler passes must be what dns_query.h promises. */
static void check_name(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > DNS_NAME_MAX || name[len - 1] == '.')
        abort();
    for (size_t i = 0; i < len; i++)
        if (name[i] >= 'A' && name[i] <= 'Z')
            abort();
}

static size_t fake_addresses(void *ctx, const char *name, size_t start, uint32_t *out, size_t max)
{
    (void)ctx, (void)start;
    check_name(name);
    if (max != DNS_ADDRS_MAX)
        abort();
    size_t n = 0;
    if (strcmp(name, "web") == 0)
        n = 1;
    else if (strcmp(name, "api") == 0)
        n = 3;
    else if (strcmp(name, "many") == 0)
        n = max + 5; /* more than fit: the handler caps */
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = htonl(OVERLAY_NETWORK | (uint32_t)(i + 2));
    return n;
}

static bool fake_name_of(void *ctx, uint32_t addr, char *out, size_t out_len)
{
    (void)ctx;
    if ((addr & htonl(0xffffff00u)) != htonl(OVERLAY_NETWORK))
        abort(); /* asked about an address outside the overlay */
    const char *name;
    switch (ntohl(addr)) {
    case OVERLAY_NETWORK | 2:
        name = "web";
        break;
    case OVERLAY_NETWORK | 4:
        name = long_name;
        break;
    case OVERLAY_NETWORK | 5:
        name = "bad..name";
        break;
    default:
        return false;
    }
    size_t len = strlen(name);
    if (len >= out_len) /* fill it all, unterminated: the handler must cope */
        len = out_len;
    memcpy(out, name, len);
    if (len < out_len)
        out[len] = '\0';
    return true;
}

static size_t fake_addresses6(void *ctx, const char *name, size_t start, struct ipv6_addr *out,
                              size_t max)
{
    (void)ctx, (void)start;
    check_name(name);
    if (max != DNS_ADDRS_MAX)
        abort();
    size_t n = strcmp(name, "api") == 0 ? 2 : strcmp(name, "many") == 0 ? max + 3 : 0;
    for (size_t i = 0; i < n && i < max; i++)
        out[i] = (struct ipv6_addr){{0xfd, 0x77, [15] = (uint8_t)(i + 2)}};
    return n;
}

/* Dual stack: fd77::/64; names as fake_name_of's, on the last byte. */
static bool fake_name_of6(void *ctx, const struct ipv6_addr *addr, char *out, size_t out_len)
{
    static const struct ipv6_addr network = {{0xfd, 0x77}};
    if (memcmp(addr->bytes, network.bytes, 8) != 0)
        abort(); /* asked about an address outside the overlay */
    if (memcmp(addr->bytes + 8, network.bytes + 8, 7) != 0)
        return false;
    return fake_name_of(ctx, htonl(OVERLAY_NETWORK | addr->bytes[15]), out, out_len);
}

static const struct dns_names names = {fake_addresses, fake_name_of, NULL, fake_addresses6,
                                       fake_name_of6};
static const struct ipv4_subnet overlay = {OVERLAY_NETWORK, 24};
static const struct ipv6_subnet overlay6 = {{{0xfd, 0x77}}, 64};

/* An answer: parses, is a response to query (ID, one question), and fits. */
static void check_answer(const uint8_t *query, size_t query_len, const uint8_t *out, size_t len)
{
    ldns_pkt *response = NULL;
    if (ldns_wire2pkt(&response, out, len) != LDNS_STATUS_OK)
        abort();
    if (!ldns_pkt_qr(response) || ldns_pkt_qdcount(response) != 1 ||
        ldns_pkt_id(response) != LDNS_ID_WIRE(query))
        abort();
    ldns_pkt *asked = NULL;
    if (ldns_wire2pkt(&asked, query, query_len) != LDNS_STATUS_OK)
        abort(); /* answered what does not parse */
    if (!ldns_pkt_edns(asked) && len > 512)
        abort();
    if (ldns_pkt_edns(asked) != ldns_pkt_edns(response))
        abort();
    ldns_pkt_free(asked);
    ldns_pkt_free(response);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[DNS_MESSAGE_MAX];
    size_t out_cap = size & 1 ? 512 : sizeof(out);
    unsigned rotate = (unsigned)size * 2654435761u;
    size_t out_len = 12345;
    enum dns_verdict verdict = dns_query_answer(&names, &overlay, 1, size & 2 ? &overlay6 : NULL,
                                                data, size, rotate, out, out_cap, &out_len);
    if (out_len > out_cap)
        abort();
    switch (verdict) {
    case DNS_ANSWER:
        check_answer(data, size, out, out_len);
        break;
    case DNS_FORWARD:
    case DNS_DROP:
        if (out_len != 0)
            abort();
        break;
    default:
        abort();
    }
    /* Over TCP: the same decision, an answer that parses (not bound by 512 bytes). */
    out_len = 12345;
    enum dns_verdict stream =
        dns_query_answer_stream(&names, &overlay, 1, size & 2 ? &overlay6 : NULL, data, size,
                                rotate, out, sizeof(out), &out_len);
    if (stream != verdict || out_len > sizeof(out) || (stream != DNS_ANSWER && out_len != 0))
        abort();
    if (stream == DNS_ANSWER) {
        ldns_pkt *response = NULL;
        if (ldns_wire2pkt(&response, out, out_len) != LDNS_STATUS_OK ||
            ldns_pkt_id(response) != LDNS_ID_WIRE(data))
            abort();
        ldns_pkt_free(response);
    }
    /* A forwarded question no resolver answered: SERVFAIL, for what is answered or
     * forwarded; dropped with the rest. */
    out_len = 12345;
    enum dns_verdict failed = dns_query_servfail(data, size, out, out_cap, &out_len);
    if ((failed == DNS_ANSWER) != (verdict != DNS_DROP))
        abort();
    if (failed == DNS_ANSWER)
        check_answer(data, size, out, out_len);
    else if (out_len != 0)
        abort();
    return 0;
}
