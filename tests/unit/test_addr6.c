/* test_addr6.c: IPv6 pools parse strictly, say what is wrong, and are written in
 * one canonical form (RFC 5952); host offsets at the edges of /64 and /120. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/addr6.h"

struct subnet_case {
    const char *text;
    const char *canonical; /* NULL: must be refused */
    const char *message;   /* a fragment the refusal must contain */
};

static const struct subnet_case subnet_cases[] = {
    {"fd81::/64", "fd81::/64", NULL},
    {"FD81:0000:0:0::/64", "fd81::/64", NULL},
    {"fd81:0:0:0:0:0:0:0/120", "fd81::/120", NULL},
    {"2001:db8:0:1::/64", "2001:db8:0:1::/64", NULL},
    {"2001:0db8:1234:5678:9abc:def0:1234:5600/120", "2001:db8:1234:5678:9abc:def0:1234:5600/120",
     NULL},
    {"fd00:0:0:1:0:0:1:0/112", "fd00::1:0:0:1:0/112", NULL}, /* the first of equal runs */
    {"fd00:1:0:0:1:0:0:0/80", "fd00:1:0:0:1::/80", NULL}, /* the longer run wins */
    {"fd81:0:1::/64", "fd81:0:1::/64", NULL},                /* one zero group stays "0" */
    {"fd81::1/64", NULL, "fd81::1/64 has host bits set; did you mean fd81::/64?"},
    {"fd81::180/120", NULL, "did you mean fd81::100/120?"},
    {"fd81::ff/120", NULL, "did you mean fd81::/120?"},
    {"fd81::/48", NULL, "from /64 to /120"},
    {"fd81::/121", NULL, "from /64 to /120"},
    {"fd81::/128", NULL, "from /64 to /120"},
    {"fd81::/129", NULL, "not a valid IPv6 CIDR"},
    {"fd81::/064", NULL, "not a valid IPv6 CIDR"},
    {"fd81::/", NULL, "not a valid IPv6 CIDR"},
    {"fd81::", NULL, "not a valid IPv6 CIDR"},
    {"fd81:::/64", NULL, "not a valid IPv6 CIDR"},
    {"fd81::g/64", NULL, "not a valid IPv6 CIDR"},
    {"[fd81::]/64", NULL, "not a valid IPv6 CIDR"},
    {"fd81::%eth0/64", NULL, "not a valid IPv6 CIDR"},
    {" fd81::/64", NULL, "not a valid IPv6 CIDR"},
    {"10.77.0.0/24", NULL, "not a valid IPv6 CIDR"},
    {"fe80::/64", NULL, "unique local (fc00::/7"},
    {"ff02::/64", NULL, "not unicast IPv6"},
    {"::/64", NULL, "not unicast IPv6"},
    {"::1/120", NULL, "not unicast IPv6"}, /* host bits, but the scope is what is wrong */
    {"::ffff:10.0.0.0/120", NULL, "not unicast IPv6"},
    {"4000::/64", NULL, "not unicast IPv6"},
    {"", NULL, "an IPv6 subnet is required"},
};

static void subnets_parse_strictly(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(subnet_cases) / sizeof(subnet_cases[0]); i++) {
        const struct subnet_case *c = &subnet_cases[i];
        struct ipv6_subnet s;
        struct weft_err err = {0};
        int rc = ipv6_subnet_parse(c->text, &s, &err);
        if (c->canonical) {
            if (rc != 0)
                fail_msg("%s refused: %s", c->text, err.msg);
            char text[ADDR_STR_MAX];
            ipv6_subnet_format(&s, text);
            if (strcmp(text, c->canonical) != 0)
                fail_msg("%s written %s, want %s", c->text, text, c->canonical);
        } else {
            if (rc == 0)
                fail_msg("%s accepted", c->text);
            assert_int_equal(err.code, -EINVAL);
            if (!strstr(err.msg, c->message))
                fail_msg("%s: \"%s\" lacks \"%s\"", c->text, err.msg, c->message);
        }
    }
}

static void addresses_are_written_canonical(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"2001:0DB8::0001", "2001:db8::1"},
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        {"fd81:0:0:0:0:0:0:0", "fd81::"},
        {"0:0:0:0:0:0:0:1", "::1"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ipv6_addr a;
        struct weft_err err = {0};
        assert_int_equal(ipv6_parse(cases[i][0], &a, &err), 0);
        char text[ADDR_STR_MAX];
        ipv6_format(&a, text);
        assert_string_equal(text, cases[i][1]);
    }
    struct ipv6_addr a;
    struct weft_err err = {0};
    assert_int_equal(ipv6_parse("fd81::1/64", &a, &err), -1);
    assert_non_null(strstr(err.msg, "not a valid IPv6 address"));
    assert_int_equal(ipv6_parse("", &a, &err), -1);
    assert_true(addr_text_is_ipv6("fd81::"));
    assert_false(addr_text_is_ipv6("10.0.0.1"));
    assert_false(addr_text_is_ipv6(NULL));
}

static void host_offsets_at_the_edges(void **state)
{
    (void)state;
    struct ipv6_subnet s64, s120;
    struct weft_err err = {0};
    assert_int_equal(ipv6_subnet_parse("fd81:1:2:3::/64", &s64, &err), 0);
    assert_int_equal(ipv6_subnet_parse("fd81::100/120", &s120, &err), 0);
    assert_true(ipv6_subnet_host_count(&s64) == UINT64_MAX);
    assert_int_equal(ipv6_subnet_host_count(&s120), 255);

    struct ipv6_addr a;
    char text[ADDR_STR_MAX];
    ipv6_subnet_host(&s64, 1, &a);
    ipv6_format(&a, text);
    assert_string_equal(text, "fd81:1:2:3::1");
    ipv6_subnet_host(&s64, UINT64_MAX, &a);
    ipv6_format(&a, text);
    assert_string_equal(text, "fd81:1:2:3:ffff:ffff:ffff:ffff");
    assert_true(ipv6_subnet_offset(&s64, &a) == UINT64_MAX);
    assert_true(ipv6_subnet_contains(&s64, &a));

    ipv6_subnet_host(&s120, 255, &a);
    ipv6_format(&a, text);
    assert_string_equal(text, "fd81::1ff");
    assert_int_equal(ipv6_subnet_offset(&s120, &a), 255);
    assert_true(ipv6_subnet_contains(&s120, &a));
    ipv6_subnet_host(&s120, 256, &a); /* wraps within the subnet: offset 0 */
    ipv6_format(&a, text);
    assert_string_equal(text, "fd81::100");
    assert_int_equal(ipv6_parse("fd81::200", &a, &err), 0);
    assert_false(ipv6_subnet_contains(&s120, &a));
    assert_int_equal(ipv6_parse("fd81:1:2:4::", &a, &err), 0);
    assert_false(ipv6_subnet_contains(&s64, &a));
    /* host addresses: inside, and not the subnet-router anycast address (offset 0) */
    assert_false(ipv6_subnet_is_host(&s120, &s120.network));
    ipv6_subnet_host(&s120, 7, &a);
    assert_true(ipv6_subnet_is_host(&s120, &a));
    assert_int_equal(ipv6_parse("fd81::200", &a, &err), 0);
    assert_false(ipv6_subnet_is_host(&s120, &a));
}

/* An endpoint's address as Docker passes it: "addr/n". */
static void addresses_with_prefix(void **state)
{
    (void)state;
    struct ipv6_addr a;
    int len = 0;
    struct weft_err err = {0};
    assert_int_equal(ipv6_parse_with_prefix("fd81::0:29/64", &a, &len, &err), 0);
    assert_int_equal(len, 64);
    char text[ADDR_STR_MAX];
    ipv6_format(&a, text);
    assert_string_equal(text, "fd81::29");
    static const char *const bad[] = {"fd81::29", "fd81::29/", "fd81::29/129", "fd81::29/064",
                                      "fd81::g/64", "/64", "10.0.0.1/24", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ipv6_parse_with_prefix(bad[i], &a, &len, &err), -1);
        assert_non_null(strstr(err.msg, "not a valid IPv6 address with prefix length"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(subnets_parse_strictly),
        cmocka_unit_test(addresses_are_written_canonical),
        cmocka_unit_test(host_offsets_at_the_edges),
        cmocka_unit_test(addresses_with_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
