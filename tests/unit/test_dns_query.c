/* test_dns_query.c: the overlay's names answered by the rules of dns_query.h, on a
 * fake struct dns_names: A and AAAA in turns, NODATA for other types, PTR in the
 * subnets (in-addr.arpa, and ip6.arpa in the IPv6 subnet), everything else forwarded,
 * 512 bytes without EDNS, and no answer to what is no query. Queries are built and
 * responses read with ldns, as a client would. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>

#include "dns/dns_query.h"

#define MANY_N 60
#define CROWD_N 100

/* The fake overlay 10.77.0.0/24: web (10.77.0.2), api (10.77.0.3..5, one alias of
 * three containers), many (60 addresses of 10.77.1.x: outside, as names may be). */
/* Rotated as dns_names asks: of count addresses first + 0 .. first + count - 1 (host
 * order), the (start % count)-th first; at most max into out. */
static size_t rotated(uint32_t first, size_t count, size_t start, uint32_t *out, size_t max)
{
    for (size_t i = 0; i < count && i < max; i++)
        out[i] = htonl(first + (uint32_t)((start + i) % count));
    return count;
}

static size_t fake_addresses(void *ctx, const char *name, size_t start, uint32_t *out, size_t max)
{
    (void)ctx;
    if (strcmp(name, "web") == 0)
        return rotated(0x0a4d0002, 1, start, out, max);
    if (strcmp(name, "api") == 0)
        return rotated(0x0a4d0003, 3, start, out, max);
    if (strcmp(name, "many") == 0)
        return rotated(0x0a4d0101, MANY_N, start, out, max);
    if (strcmp(name, "crowd") == 0) /* more than DNS_ADDRS_MAX */
        return rotated(0x0a4d0201, CROWD_N, start, out, max);
    return 0;
}

/* web's 10.77.0.2 has a name, and far's 10.77.9.9 (in the extra subnet 10.77.8.0/22). */
static bool fake_name_of(void *ctx, uint32_t addr, char *out, size_t out_len)
{
    (void)ctx;
    if (ntohl(addr) == 0x0a4d0002)
        snprintf(out, out_len, "web");
    else if (ntohl(addr) == 0x0a4d0909)
        snprintf(out, out_len, "far");
    else
        return false;
    return true;
}

/* Dual stack: web also has fd77::2, six has only fd77::6 and fd77::7; api has none. */
static size_t fake_addresses6(void *ctx, const char *name, size_t start, struct ipv6_addr *out,
                              size_t max)
{
    (void)ctx;
    static const struct ipv6_addr web6 = {{0xfd, 0x77, [15] = 2}};
    static const struct ipv6_addr six6[2] = {{{0xfd, 0x77, [15] = 6}}, {{0xfd, 0x77, [15] = 7}}};
    if (strcmp(name, "web") == 0) {
        if (max > 0)
            out[0] = web6;
        return 1;
    }
    if (strcmp(name, "six") == 0) {
        for (size_t i = 0; i < 2 && i < max; i++)
            out[i] = six6[(start + i) % 2];
        return 2;
    }
    return 0;
}

/* web's IPv6 address fd77::2 has a name, and fd77::ab is hex's; no other has. */
static bool fake_name_of6(void *ctx, const struct ipv6_addr *addr, char *out, size_t out_len)
{
    (void)ctx;
    static const struct ipv6_addr web6 = {{0xfd, 0x77, [15] = 2}};
    static const struct ipv6_addr hex6 = {{0xfd, 0x77, [15] = 0xab}};
    if (memcmp(addr, &web6, sizeof(web6)) == 0)
        snprintf(out, out_len, "web");
    else if (memcmp(addr, &hex6, sizeof(hex6)) == 0)
        snprintf(out, out_len, "hex");
    else
        return false;
    return true;
}

static const struct dns_names names = {fake_addresses, fake_name_of, NULL, fake_addresses6,
                                       fake_name_of6};
/* The overlay's IPv4 subnets: 10.77.0.0/24 alone, unless a test gives it an extra
 * one (issue 12: 10.77.8.0/22, two_subnets). */
static const struct ipv4_subnet one_subnet[] = {{0x0a4d0000, 24}};
static const struct ipv4_subnet two_subnets[] = {{0x0a4d0000, 24}, {0x0a4d0800, 22}};
static const struct ipv4_subnet *overlay = one_subnet;
static size_t overlay_count = 1;
/* The overlay's IPv6 subnet fd77::/64 (NULL for the IPv4-only overlay). */
static const struct ipv6_subnet overlay6_dual = {{{0xfd, 0x77}}, 64};
static const struct ipv6_subnet *overlay6 = &overlay6_dual;

struct query_spec {
    const char *name;
    ldns_rr_type type;
    ldns_rr_class klass; /* 0: IN */
    uint16_t id;
    bool rd;
    uint16_t edns_size; /* 0: no OPT */
    uint8_t edns_version;
};

/* The wire form of spec (malloc'ed, *len bytes). */
static uint8_t *query_wire(const struct query_spec *spec, size_t *len)
{
    ldns_pkt *q =
        ldns_pkt_query_new(ldns_dname_new_frm_str(spec->name), spec->type,
                           spec->klass ? spec->klass : LDNS_RR_CLASS_IN, spec->rd ? LDNS_RD : 0);
    assert_non_null(q);
    ldns_pkt_set_id(q, spec->id);
    if (spec->edns_size) {
        ldns_pkt_set_edns_udp_size(q, spec->edns_size);
        ldns_pkt_set_edns_version(q, spec->edns_version);
    }
    uint8_t *wire = NULL;
    assert_int_equal(ldns_pkt2wire(&wire, q, len), LDNS_STATUS_OK);
    ldns_pkt_free(q);
    return wire;
}

/* Runs wire through dns_query_answer; the response parsed into *response when it
 * is an answer. */
static enum dns_verdict run_wire(const uint8_t *wire, size_t len, unsigned rotate,
                                 ldns_pkt **response, size_t *out_len)
{
    uint8_t out[DNS_MESSAGE_MAX];
    size_t got = 12345;
    enum dns_verdict v = dns_query_answer(&names, overlay, overlay_count, overlay6, wire, len,
                                          rotate, out, sizeof(out), &got);
    *response = NULL;
    if (v == DNS_ANSWER) {
        assert_true(got > 0 && got <= sizeof(out));
        assert_int_equal(ldns_wire2pkt(response, out, got), LDNS_STATUS_OK);
    } else {
        assert_int_equal(got, 0);
    }
    if (out_len)
        *out_len = got;
    return v;
}

static enum dns_verdict run(const struct query_spec *spec, unsigned rotate, ldns_pkt **response,
                            size_t *out_len)
{
    size_t len;
    uint8_t *wire = query_wire(spec, &len);
    enum dns_verdict v = run_wire(wire, len, rotate, response, out_len);
    free(wire);
    return v;
}

/* Checks what every answer carries: QR, AA, RA, opcode, the question echoed. */
static void assert_response_of(const ldns_pkt *r, const struct query_spec *spec, uint8_t rcode)
{
    assert_true(ldns_pkt_qr(r));
    assert_true(ldns_pkt_aa(r));
    assert_true(ldns_pkt_ra(r));
    assert_int_equal(ldns_pkt_get_opcode(r), LDNS_PACKET_QUERY);
    assert_int_equal(ldns_pkt_get_rcode(r), rcode);
    assert_int_equal(ldns_pkt_id(r), spec->id);
    assert_int_equal(ldns_pkt_rd(r), spec->rd);
    assert_int_equal(ldns_pkt_qdcount(r), 1);
    const ldns_rr *q = ldns_rr_list_rr(ldns_pkt_question(r), 0);
    ldns_rdf *asked = ldns_dname_new_frm_str(spec->name);
    assert_int_equal(ldns_rdf_compare(ldns_rr_owner(q), asked), 0);
    ldns_rdf_deep_free(asked);
    assert_int_equal(ldns_rr_get_type(q), spec->type);
}

/* The i-th answer's A address, host order. */
static uint32_t answer_a(const ldns_pkt *r, size_t i)
{
    const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), i);
    assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_A);
    assert_int_equal(ldns_rr_ttl(rr), 0);
    uint32_t addr;
    memcpy(&addr, ldns_rdf_data(ldns_rr_rdf(rr, 0)), 4);
    return ntohl(addr);
}

static void a_one_address(void **state)
{
    (void)state;
    struct query_spec spec = {"web.", LDNS_RR_TYPE_A, 0, 0x1234, true, 0, 0};
    ldns_pkt *r;
    assert_int_equal(run(&spec, 7, &r, NULL), DNS_ANSWER);
    assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    assert_int_equal(answer_a(r, 0), 0x0a4d0002);
    assert_false(ldns_pkt_tc(r));
    assert_false(ldns_pkt_edns(r));
    ldns_pkt_free(r);
}

/* Three containers of one alias take turns: the first answer moves with rotate. */
static void a_three_addresses_rotate(void **state)
{
    (void)state;
    static const unsigned rotations[] = {0, 1, 2, 3, 5, 4000000001u};
    for (size_t k = 0; k < sizeof(rotations) / sizeof(rotations[0]); k++) {
        struct query_spec spec = {"api.", LDNS_RR_TYPE_A, 0, 1, true, 0, 0};
        ldns_pkt *r;
        assert_int_equal(run(&spec, rotations[k], &r, NULL), DNS_ANSWER);
        assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
        assert_int_equal(ldns_pkt_ancount(r), 3);
        for (size_t i = 0; i < 3; i++)
            assert_int_equal(answer_a(r, i), 0x0a4d0000 | (3 + (rotations[k] % 3 + i) % 3));
        ldns_pkt_free(r);
    }
}

static void unknown_name_forwarded(void **state)
{
    (void)state;
    static const char *const others[] = {"example.com.", "web.example.com.", "webx.", "."};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        struct query_spec spec = {others[i], LDNS_RR_TYPE_A, 0, 1, true, 0, 0};
        ldns_pkt *r;
        assert_int_equal(run(&spec, 0, &r, NULL), DNS_FORWARD);
    }
    /* Another class of a known name is not the overlay's either. */
    struct query_spec chaos = {"web.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_CH, 1, true, 0, 0};
    ldns_pkt *r;
    assert_int_equal(run(&chaos, 0, &r, NULL), DNS_FORWARD);
}

/* The last byte of answer i, an AAAA record. */
static uint8_t answer_aaaa_last(const ldns_pkt *r, size_t i)
{
    const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), i);
    assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_AAAA);
    const ldns_rdf *rdf = ldns_rr_rdf(rr, 0);
    assert_int_equal(ldns_rdf_size(rdf), 16);
    assert_int_equal(ldns_rdf_data(rdf)[0], 0xfd);
    return ldns_rdf_data(rdf)[15];
}

/* Dual-stack overlays: AAAA answers IPv6 addresses, in turns; ANY gets both families;
 * a name with only IPv6 is the overlay's too (A: NODATA, not forwarded). */
static void aaaa_of_dual_stack_names(void **state)
{
    (void)state;
    struct query_spec spec = {"web.", LDNS_RR_TYPE_AAAA, 0, 3, true, 0, 0};
    ldns_pkt *r;
    assert_int_equal(run(&spec, 0, &r, NULL), DNS_ANSWER);
    assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    assert_int_equal(answer_aaaa_last(r, 0), 2);
    ldns_pkt_free(r);
    struct query_spec any = {"web.", LDNS_RR_TYPE_ANY, 0, 4, true, 0, 0};
    assert_int_equal(run(&any, 0, &r, NULL), DNS_ANSWER);
    assert_int_equal(ldns_pkt_ancount(r), 2);
    assert_int_equal(answer_a(r, 0), 0x0a4d0002);
    assert_int_equal(answer_aaaa_last(r, 1), 2);
    ldns_pkt_free(r);
    for (unsigned rotate = 0; rotate < 3; rotate++) {
        struct query_spec six = {"six.", LDNS_RR_TYPE_AAAA, 0, 5, true, 0, 0};
        assert_int_equal(run(&six, rotate, &r, NULL), DNS_ANSWER);
        assert_int_equal(ldns_pkt_ancount(r), 2);
        assert_int_equal(answer_aaaa_last(r, 0), 6 + rotate % 2);
        assert_int_equal(answer_aaaa_last(r, 1), 6 + (rotate + 1) % 2);
        ldns_pkt_free(r);
    }
    struct query_spec six_a = {"six.", LDNS_RR_TYPE_A, 0, 6, true, 0, 0};
    assert_int_equal(run(&six_a, 0, &r, NULL), DNS_ANSWER);
    assert_response_of(r, &six_a, LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
}

/* AAAA of a name without IPv6 (or MX) of a known name: NOERROR without records, not
 * forwarded. */
static void other_type_of_known_name_nodata(void **state)
{
    (void)state;
    static const ldns_rr_type types[] = {LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_MX, LDNS_RR_TYPE_TXT};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct query_spec spec = {"api.", types[i], 0, 9, true, 0, 0};
        ldns_pkt *r;
        assert_int_equal(run(&spec, 0, &r, NULL), DNS_ANSWER);
        assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        ldns_pkt_free(r);
    }
}

static void ptr_in_subnet_known(void **state)
{
    (void)state;
    struct query_spec spec = {"2.0.77.10.in-addr.arpa.", LDNS_RR_TYPE_PTR, 0, 5, true, 0, 0};
    ldns_pkt *r;
    assert_int_equal(run(&spec, 0, &r, NULL), DNS_ANSWER);
    assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
    assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_PTR);
    char *target = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    assert_string_equal(target, "web.");
    free(target);
    ldns_pkt_free(r);
}

/* In the subnet, no container: NXDOMAIN with the question echoed. */
static void ptr_in_subnet_unknown_nxdomain(void **state)
{
    (void)state;
    static const char *const unknown[] = {"99.0.77.10.in-addr.arpa.", "255.0.77.10.in-addr.arpa.",
                                          "0.0.77.10.in-addr.arpa.",  "x.2.0.77.10.in-addr.arpa.",
                                          "02.0.77.10.in-addr.arpa.", "256.0.77.10.in-addr.arpa."};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct query_spec spec = {unknown[i], LDNS_RR_TYPE_PTR, 0, 6, false, 0, 0};
        ldns_pkt *r;
        assert_int_equal(run(&spec, 0, &r, NULL), DNS_ANSWER);
        assert_response_of(r, &spec, LDNS_RCODE_NXDOMAIN);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        ldns_pkt_free(r);
    }
    /* The subnet's zone itself has names below it: NODATA, never NXDOMAIN. */
    struct query_spec zone = {"0.77.10.in-addr.arpa.", LDNS_RR_TYPE_PTR, 0, 6, false, 0, 0};
    ldns_pkt *r;
    assert_int_equal(run(&zone, 0, &r, NULL), DNS_ANSWER);
    assert_response_of(r, &zone, LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
}

static void ptr_outside_subnet_forwarded(void **state)
{
    (void)state;
    static const char *const outside[] = {"1.1.168.192.in-addr.arpa.",
                                          "2.1.77.10.in-addr.arpa.",
                                          "77.10.in-addr.arpa.",
                                          "10.in-addr.arpa.",
                                          "in-addr.arpa.",
                                          "x.77.10.in-addr.arpa.",
                                          "2.0.77.10.ip6.arpa.",
                                          "2.0.77.10.in-addr.arpa.example."};
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        struct query_spec spec = {outside[i], LDNS_RR_TYPE_PTR, 0, 7, true, 0, 0};
        ldns_pkt *r;
        if (run(&spec, 0, &r, NULL) != DNS_FORWARD)
            fail_msg("%s: not forwarded", outside[i]);
    }
}

/* fd77::/64's own zone: its 16 prefix nibbles, with a final dot. */
#define FD77_ZONE "0.0.0.0.0.0.0.0.0.0.0.0.7.7.d.f.ip6.arpa."
/* The 32 nibbles of fd77::<last> (one nibble) under ip6.arpa. */
#define FD77_PTR(last) last ".0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." FD77_ZONE

/* The one PTR record of r, its target's text. */
static void assert_ptr_answer(const ldns_pkt *r, const char *target)
{
    assert_int_equal(ldns_pkt_ancount(r), 1);
    const ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(r), 0);
    assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_PTR);
    assert_int_equal(ldns_rr_ttl(rr), 0);
    char *text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
    assert_string_equal(text, target);
    free(text);
}

/* A network with an extra subnet (issue 12): each subnet is a reverse zone of the
 * overlay's, with the rules of the first; between and around them, forwarded. */
static void ptr_in_an_extra_subnet(void **state)
{
    (void)state;
    overlay = two_subnets;
    overlay_count = 2;
    static const struct {
        const char *name;
        enum dns_verdict verdict;
        uint8_t rcode;
        const char *target; /* the PTR's, or NULL for none */
    } cases[] = {
        {"9.9.77.10.in-addr.arpa.", DNS_ANSWER, LDNS_RCODE_NOERROR, "far."},
        {"2.0.77.10.in-addr.arpa.", DNS_ANSWER, LDNS_RCODE_NOERROR, "web."},
        {"8.9.77.10.in-addr.arpa.", DNS_ANSWER, LDNS_RCODE_NXDOMAIN, NULL},
        {"1.11.77.10.in-addr.arpa.", DNS_ANSWER, LDNS_RCODE_NXDOMAIN, NULL},
        {"9.77.10.in-addr.arpa.", DNS_ANSWER, LDNS_RCODE_NOERROR, NULL}, /* names below */
        {"2.1.77.10.in-addr.arpa.", DNS_FORWARD, 0, NULL},               /* between the two */
        {"2.12.77.10.in-addr.arpa.", DNS_FORWARD, 0, NULL},              /* past the /22 */
        {"77.10.in-addr.arpa.", DNS_FORWARD, 0, NULL}, /* shorter than either prefix */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct query_spec spec = {cases[i].name, LDNS_RR_TYPE_PTR, 0, 8, true, 0, 0};
        ldns_pkt *r;
        enum dns_verdict v = run(&spec, 0, &r, NULL);
        if (v != cases[i].verdict)
            fail_msg("%s: verdict %d, not %d", cases[i].name, v, cases[i].verdict);
        if (v != DNS_ANSWER)
            continue;
        assert_response_of(r, &spec, cases[i].rcode);
        if (cases[i].target)
            assert_ptr_answer(r, cases[i].target);
        else
            assert_int_equal(ldns_pkt_ancount(r), 0);
        ldns_pkt_free(r);
    }
    overlay = one_subnet;
    overlay_count = 1;
}

/* Dual stack: the 32-nibble name of an address of the IPv6 subnet with a name gets
 * it, in hex of either case; ANY too; other types NODATA. */
static void ptr6_in_subnet_known(void **state)
{
    (void)state;
    static const struct {
        const char *name, *target;
    } known[] = {
        {FD77_PTR("2"), "web."},
        {"2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.7.D.F.IP6.ARPA.", "web."},
        {"b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0." FD77_ZONE, "hex."},
        {"B.A.0.0.0.0.0.0.0.0.0.0.0.0.0.0." FD77_ZONE, "hex."},
        {"B.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.7.D.f.ip6.arpa.", "hex."},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        struct query_spec spec = {known[i].name, LDNS_RR_TYPE_PTR, 0, 21, true, 0, 0};
        ldns_pkt *r;
        if (run(&spec, 0, &r, NULL) != DNS_ANSWER)
            fail_msg("%s: not answered", known[i].name);
        assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
        assert_ptr_answer(r, known[i].target);
        ldns_pkt_free(r);
    }
    struct query_spec any = {FD77_PTR("2"), LDNS_RR_TYPE_ANY, 0, 22, true, 0, 0};
    ldns_pkt *r;
    assert_int_equal(run(&any, 0, &r, NULL), DNS_ANSWER);
    assert_ptr_answer(r, "web.");
    ldns_pkt_free(r);
    struct query_spec aaaa = {FD77_PTR("2"), LDNS_RR_TYPE_AAAA, 0, 23, true, 0, 0};
    assert_int_equal(run(&aaaa, 0, &r, NULL), DNS_ANSWER);
    assert_response_of(r, &aaaa, LDNS_RCODE_NOERROR);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
}

/* Inside fd77::/64's zone: an address without a name, and names no address has (a
 * label that is no single hex digit, a 33rd nibble) are NXDOMAIN, as in-addr.arpa's
 * are; the zone and the names between it and an address are NODATA. */
static void ptr6_in_subnet_unknown_nxdomain(void **state)
{
    (void)state;
    static const char *const unknown[] = {
        FD77_PTR("3"),
        "f.f.f.f.f.f.f.f.f.f.f.f.f.f.f.f." FD77_ZONE, /* fd77::ffff:ffff:ffff:ffff */
        FD77_PTR("0"),
        FD77_PTR("x.2"), /* a 33rd label */
        FD77_PTR("0.2"), /* a 33rd nibble */
        "g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.7.d.f.ip6.arpa.",
        "02.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.7.d.f.ip6.arpa.",
        "1.x." FD77_ZONE, /* a label that is no nibble, inside the zone */
    };
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        struct query_spec spec = {unknown[i], LDNS_RR_TYPE_PTR, 0, 24, false, 0, 0};
        ldns_pkt *r;
        if (run(&spec, 0, &r, NULL) != DNS_ANSWER)
            fail_msg("%s: not answered", unknown[i]);
        assert_response_of(r, &spec, LDNS_RCODE_NXDOMAIN);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        ldns_pkt_free(r);
    }
    /* Fewer than 32 nibbles, inside the zone: names exist below them. */
    static const char *const shorter[] = {FD77_ZONE, "0." FD77_ZONE,
                                          "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0." FD77_ZONE};
    for (size_t i = 0; i < sizeof(shorter) / sizeof(shorter[0]); i++) {
        struct query_spec spec = {shorter[i], LDNS_RR_TYPE_PTR, 0, 25, false, 0, 0};
        ldns_pkt *r;
        if (run(&spec, 0, &r, NULL) != DNS_ANSWER)
            fail_msg("%s: not answered", shorter[i]);
        assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        ldns_pkt_free(r);
    }
}

/* Outside fd77::/64 (another prefix, fewer nibbles than the prefix, a label that
 * is no nibble within it), and every ip6.arpa name of an IPv4-only overlay: not the
 * overlay's, forwarded as in-addr.arpa's outside its subnet are. */
static void ptr6_outside_subnet_forwarded(void **state)
{
    (void)state;
    static const char *const outside[] = {
        "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.7.7.d.f.ip6.arpa.",
        "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
        "0.0.0.0.0.0.0.0.0.0.0.7.7.d.f.ip6.arpa.",
        "7.d.f.ip6.arpa.",
        "ip6.arpa.",
        "x.0.0.0.0.0.0.0.0.0.0.7.7.d.f.ip6.arpa.",
        "0.0.0.0.0.0.0.0.0.0.0.00.7.7.d.f.ip6.arpa.",
        "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.7.7.d.f.ip6.arpa.example.",
    };
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        struct query_spec spec = {outside[i], LDNS_RR_TYPE_PTR, 0, 26, true, 0, 0};
        ldns_pkt *r;
        if (run(&spec, 0, &r, NULL) != DNS_FORWARD)
            fail_msg("%s: not forwarded", outside[i]);
    }
    overlay6 = NULL;
    struct query_spec spec = {FD77_PTR("2"), LDNS_RR_TYPE_PTR, 0, 27, true, 0, 0};
    ldns_pkt *r;
    enum dns_verdict v = run(&spec, 0, &r, NULL);
    overlay6 = &overlay6_dual;
    assert_int_equal(v, DNS_FORWARD);
}

static void names_compared_lowercase(void **state)
{
    (void)state;
    static const char *const spellings[] = {"WEB.", "Web.", "wEb"};
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        struct query_spec spec = {spellings[i], LDNS_RR_TYPE_A, 0, 3, true, 0, 0};
        ldns_pkt *r;
        assert_int_equal(run(&spec, 0, &r, NULL), DNS_ANSWER);
        assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
        assert_int_equal(ldns_pkt_ancount(r), 1);
        /* The question comes back as the client spelled it (RFC 4343). */
        char *asked = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(r), 0)));
        assert_memory_equal(asked, spellings[i], 3);
        free(asked);
        ldns_pkt_free(r);
    }
    struct query_spec ptr = {"2.0.77.10.IN-ADDR.ARPA.", LDNS_RR_TYPE_PTR, 0, 3, true, 0, 0};
    ldns_pkt *r;
    assert_int_equal(run(&ptr, 0, &r, NULL), DNS_ANSWER);
    assert_int_equal(ldns_pkt_ancount(r), 1);
    ldns_pkt_free(r);
}

/* Without EDNS 60 addresses do not fit 512 bytes: TC, and the whole records that fit. */
static void many_addresses_truncated_without_edns(void **state)
{
    (void)state;
    struct query_spec spec = {"many.", LDNS_RR_TYPE_A, 0, 11, true, 0, 0};
    ldns_pkt *r;
    size_t len;
    assert_int_equal(run(&spec, 0, &r, &len), DNS_ANSWER);
    assert_true(len <= 512);
    assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
    assert_true(ldns_pkt_tc(r));
    size_t n = ldns_pkt_ancount(r);
    assert_true(n > 20 && n < MANY_N);
    assert_int_equal(ldns_rr_list_rr_count(ldns_pkt_answer(r)), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(answer_a(r, i), 0x0a4d0100 | (1 + i));
    /* As many as fit: one more record (16 bytes, its name compressed) would not. */
    assert_true(len + 16 > 512);
    ldns_pkt_free(r);
}

/* With EDNS they fit; the OPT comes back with the size both sides take. */
static void many_addresses_fit_with_edns(void **state)
{
    (void)state;
    static const struct {
        uint16_t asked, advertised;
        bool all;
    } sizes[] = {{4096, 4096, true},
                 {65000, DNS_MESSAGE_MAX, true},
                 {1232, 1232, true},
                 {600, 600, false},
                 {100, 512, false}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct query_spec spec = {"many.", LDNS_RR_TYPE_A, 0, 12, true, sizes[i].asked, 0};
        ldns_pkt *r;
        size_t len;
        assert_int_equal(run(&spec, 0, &r, &len), DNS_ANSWER);
        assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
        assert_true(ldns_pkt_edns(r));
        assert_int_equal(ldns_pkt_edns_udp_size(r), sizes[i].advertised);
        assert_true(len <= sizes[i].advertised);
        assert_int_equal(ldns_pkt_tc(r), !sizes[i].all);
        if (sizes[i].all)
            assert_int_equal(ldns_pkt_ancount(r), MANY_N);
        ldns_pkt_free(r);
    }
}

/* More containers under one alias than an answer carries (DNS_ADDRS_MAX): each answer
 * holds DNS_ADDRS_MAX of them in order from the rotation, and over the rotations
 * every one of them comes first, not only the first DNS_ADDRS_MAX found. */
static void crowd_every_address_takes_its_turn(void **state)
{
    (void)state;
    bool first[CROWD_N] = {false};
    for (unsigned rotate = 0; rotate < CROWD_N; rotate++) {
        struct query_spec spec = {"crowd.", LDNS_RR_TYPE_A, 0, 14, true, 0, 0};
        size_t len, got = 0;
        uint8_t *wire = query_wire(&spec, &len), out[DNS_MESSAGE_MAX];
        assert_int_equal(dns_query_answer_stream(&names, overlay, overlay_count, overlay6, wire,
                                                 len, rotate, out, sizeof(out), &got),
                         DNS_ANSWER);
        free(wire);
        ldns_pkt *r = NULL;
        assert_int_equal(ldns_wire2pkt(&r, out, got), LDNS_STATUS_OK);
        assert_false(ldns_pkt_tc(r));
        assert_int_equal(ldns_pkt_ancount(r), DNS_ADDRS_MAX);
        for (size_t i = 0; i < DNS_ADDRS_MAX; i++)
            assert_int_equal(answer_a(r, i), 0x0a4d0201 + (rotate + i) % CROWD_N);
        first[answer_a(r, 0) - 0x0a4d0201] = true;
        ldns_pkt_free(r);
    }
    for (size_t i = 0; i < CROWD_N; i++)
        assert_true(first[i]);
}

/* Over TCP the client's UDP size does not count: every address, no TC, with or
 * without EDNS; out_cap still bounds it. */
static void many_addresses_whole_over_tcp(void **state)
{
    (void)state;
    for (uint16_t edns = 0; edns <= 600; edns += 600) {
        struct query_spec spec = {"many.", LDNS_RR_TYPE_A, 0, 13, true, edns, 0};
        size_t len, got = 0;
        uint8_t *wire = query_wire(&spec, &len), out[DNS_MESSAGE_MAX];
        assert_int_equal(dns_query_answer_stream(&names, overlay, overlay_count, overlay6, wire,
                                                 len, 0, out, sizeof(out), &got),
                         DNS_ANSWER);
        ldns_pkt *r = NULL;
        assert_int_equal(ldns_wire2pkt(&r, out, got), LDNS_STATUS_OK);
        assert_response_of(r, &spec, LDNS_RCODE_NOERROR);
        assert_false(ldns_pkt_tc(r));
        assert_int_equal(ldns_pkt_ancount(r), MANY_N);
        assert_true(got > 512);
        ldns_pkt_free(r);
        /* A smaller out_cap truncates, as over UDP. */
        assert_int_equal(dns_query_answer_stream(&names, overlay, overlay_count, overlay6, wire,
                                                 len, 0, out, 512, &got),
                         DNS_ANSWER);
        assert_int_equal(ldns_wire2pkt(&r, out, got), LDNS_STATUS_OK);
        assert_true(ldns_pkt_tc(r) && got <= 512);
        ldns_pkt_free(r);
        free(wire);
    }
}

/* An EDNS version other than 0: BADVERS (16) in version 0, no answers. */
static void edns_version_unknown_badvers(void **state)
{
    (void)state;
    struct query_spec spec = {"web.", LDNS_RR_TYPE_A, 0, 13, true, 1232, 1};
    ldns_pkt *r;
    assert_int_equal(run(&spec, 0, &r, NULL), DNS_ANSWER);
    assert_true(ldns_pkt_edns(r));
    assert_int_equal(ldns_pkt_edns_version(r), 0);
    assert_int_equal(ldns_pkt_edns_extended_rcode(r), 1);
    assert_int_equal(ldns_pkt_get_rcode(r), 0);
    assert_int_equal(ldns_pkt_ancount(r), 0);
    ldns_pkt_free(r);
}

static void id_and_rd_echoed(void **state)
{
    (void)state;
    for (int rd = 0; rd <= 1; rd++) {
        struct query_spec spec = {"web.", LDNS_RR_TYPE_A, 0, 0xbeef, rd, 0, 0};
        ldns_pkt *r;
        assert_int_equal(run(&spec, 0, &r, NULL), DNS_ANSWER);
        assert_int_equal(ldns_pkt_id(r), 0xbeef);
        assert_int_equal(ldns_pkt_rd(r), rd);
        ldns_pkt_free(r);
    }
    /* With EDNS, the DO bit too (RFC 3225). */
    struct query_spec spec = {"web.", LDNS_RR_TYPE_A, 0, 0xbeef, true, 1232, 0};
    size_t len;
    uint8_t *wire = query_wire(&spec, &len);
    ldns_pkt *r;
    assert_int_equal(run_wire(wire, len, 0, &r, NULL), DNS_ANSWER);
    assert_false(ldns_pkt_edns_do(r));
    ldns_pkt_free(r);
    free(wire);
    ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str("web."), LDNS_RR_TYPE_A,
                                     LDNS_RR_CLASS_IN, LDNS_RD);
    ldns_pkt_set_edns_udp_size(q, 1232);
    ldns_pkt_set_edns_do(q, true);
    assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    assert_int_equal(run_wire(wire, len, 0, &r, NULL), DNS_ANSWER);
    assert_true(ldns_pkt_edns_do(r));
    ldns_pkt_free(r);
    free(wire);
    ldns_pkt_free(q);
}

/* Rewrites a valid query's header: flags byte 2 and the question count. */
static enum dns_verdict run_patched(uint8_t flags_or, uint16_t qdcount)
{
    struct query_spec spec = {"web.", LDNS_RR_TYPE_A, 0, 1, true, 0, 0};
    size_t len;
    uint8_t *wire = query_wire(&spec, &len);
    wire[2] |= flags_or;
    wire[4] = (uint8_t)(qdcount >> 8), wire[5] = (uint8_t)qdcount;
    ldns_pkt *r;
    enum dns_verdict v = run_wire(wire, len, 0, &r, NULL);
    ldns_pkt_free(r);
    free(wire);
    return v;
}

static void not_a_query_dropped(void **state)
{
    (void)state;
    ldns_pkt *r;
    static const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x3f, 'w',  'e',  'b'};
    for (size_t len = 0; len <= sizeof(junk); len++)
        assert_int_equal(run_wire(len ? junk : NULL, len, 0, &r, NULL), DNS_DROP);
    assert_int_equal(run_patched(0, 1), DNS_ANSWER);
    assert_int_equal(run_patched(0x80, 1), DNS_DROP);   /* QR: a response */
    assert_int_equal(run_patched(4 << 3, 1), DNS_DROP); /* opcode NOTIFY */
    assert_int_equal(run_patched(0, 0), DNS_DROP);      /* no question */
    /* Two questions, both well formed. */
    ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str("web."), LDNS_RR_TYPE_A,
                                     LDNS_RR_CLASS_IN, LDNS_RD);
    ldns_pkt_push_rr(q, LDNS_SECTION_QUESTION,
                     ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0)));
    uint8_t *wire;
    size_t len;
    assert_int_equal(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    assert_int_equal(run_wire(wire, len, 0, &r, NULL), DNS_DROP);
    free(wire);
    ldns_pkt_free(q);
}

/* A question no resolver answered: SERVFAIL with the client's ID, question, RD and
 * EDNS size, QR and RA set, AA clear (the name is not the overlay's), no answers. */
static void relay_failure_servfail(void **state)
{
    (void)state;
    struct query_spec specs[] = {{"www.example.test.", LDNS_RR_TYPE_A, 0, 0x1234, true, 0, 0},
                                 {"example.test.", LDNS_RR_TYPE_MX, 0, 7, false, 1232, 0}};
    for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        size_t len, got = 0;
        uint8_t *wire = query_wire(&specs[i], &len), out[DNS_MESSAGE_MAX];
        assert_int_equal(dns_query_servfail(wire, len, out, sizeof(out), &got), DNS_ANSWER);
        ldns_pkt *r = NULL;
        assert_int_equal(ldns_wire2pkt(&r, out, got), LDNS_STATUS_OK);
        assert_true(ldns_pkt_qr(r) && ldns_pkt_ra(r) && !ldns_pkt_aa(r));
        assert_int_equal(ldns_pkt_get_rcode(r), LDNS_RCODE_SERVFAIL);
        assert_int_equal(ldns_pkt_id(r), specs[i].id);
        assert_int_equal(ldns_pkt_rd(r), specs[i].rd);
        assert_int_equal(ldns_pkt_qdcount(r), 1);
        assert_int_equal(ldns_pkt_ancount(r), 0);
        assert_int_equal(ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_question(r), 0)), specs[i].type);
        assert_int_equal(ldns_pkt_edns(r), specs[i].edns_size != 0);
        ldns_pkt_free(r);
        free(wire);
    }
    /* What dns_query_answer drops gets no SERVFAIL either: junk, a response. */
    static const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x3f, 'w',  'e',  'b'};
    uint8_t out[DNS_MESSAGE_MAX];
    size_t got = 1;
    for (size_t len = 0; len <= sizeof(junk); len++)
        assert_int_equal(dns_query_servfail(len ? junk : NULL, len, out, sizeof(out), &got),
                         DNS_DROP);
    assert_int_equal(got, 0);
    size_t len;
    uint8_t *wire = query_wire(&specs[0], &len);
    wire[2] |= 0x80; /* QR */
    assert_int_equal(dns_query_servfail(wire, len, out, sizeof(out), &got), DNS_DROP);
    free(wire);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_one_address),
        cmocka_unit_test(a_three_addresses_rotate),
        cmocka_unit_test(crowd_every_address_takes_its_turn),
        cmocka_unit_test(unknown_name_forwarded),
        cmocka_unit_test(other_type_of_known_name_nodata),
        cmocka_unit_test(aaaa_of_dual_stack_names),
        cmocka_unit_test(ptr_in_subnet_known),
        cmocka_unit_test(ptr_in_subnet_unknown_nxdomain),
        cmocka_unit_test(ptr_outside_subnet_forwarded),
        cmocka_unit_test(ptr_in_an_extra_subnet),
        cmocka_unit_test(ptr6_in_subnet_known),
        cmocka_unit_test(ptr6_in_subnet_unknown_nxdomain),
        cmocka_unit_test(ptr6_outside_subnet_forwarded),
        cmocka_unit_test(names_compared_lowercase),
        cmocka_unit_test(many_addresses_truncated_without_edns),
        cmocka_unit_test(many_addresses_fit_with_edns),
        cmocka_unit_test(many_addresses_whole_over_tcp),
        cmocka_unit_test(edns_version_unknown_badvers),
        cmocka_unit_test(id_and_rd_echoed),
        cmocka_unit_test(not_a_query_dropped),
        cmocka_unit_test(relay_failure_servfail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
