/* test_ip_addr.c: a VTEP of either family (issue 12) parses strictly, is written in
 * one text, compares by value, and only a host's own unicast address passes. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/ip_addr.h"

struct parse_case {
    const char *text;
    const char *canonical; /* NULL: refused */
};

static const struct parse_case cases[] = {
    {"10.0.0.5", "10.0.0.5"},
    {"fd00::5", "fd00::5"},
    {"FD00:0:0:0:0:0:0:5", "fd00::5"},
    {"2001:db8::1:0:0:1", "2001:db8::1:0:0:1"},
    {"fe80::1", NULL}, /* link-local: no VXLAN destination without an interface */
    {"febf::1", NULL},
    {"fec0::1", "fec0::1"},
    {"::", NULL},
    {"::1", NULL},
    {"ff02::1", NULL},
    {"::ffff:10.0.0.5", NULL},
    {"127.0.0.1", NULL},
    {"224.0.0.1", NULL},
    {"0.0.0.0", NULL},
    {"[fd00::5]", NULL},
    {"fd00::5/64", NULL},
    {"fd00::5%eth0", NULL},
    {"10.0.0.05", NULL},
    {"", NULL},
};

static void test_parse_and_format(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ip_addr a;
        struct weft_err err = {0};
        int rc = ip_addr_parse(cases[i].text, &a, &err);
        if (!cases[i].canonical) {
            assert_int_equal(rc, -1);
            assert_true(err.msg[0] != '\0');
            continue;
        }
        assert_int_equal(rc, 0);
        char text[ADDR_STR_MAX];
        ip_addr_format(&a, text);
        assert_string_equal(text, cases[i].canonical);
    }
}

static void test_families(void **state)
{
    (void)state;
    struct ip_addr v4, v6;
    assert_int_equal(ip_addr_parse("10.0.0.5", &v4, NULL), 0);
    assert_int_equal(ip_addr_parse("fd00::5", &v6, NULL), 0);
    assert_int_equal(v4.family, AF_INET);
    assert_int_equal(ip_addr_len(&v4), 4);
    assert_false(ip_addr_is_ipv6(&v4));
    assert_int_equal(ip_addr_ipv4(&v4), inet_addr("10.0.0.5"));
    assert_int_equal(v6.family, AF_INET6);
    assert_int_equal(ip_addr_len(&v6), 16);
    assert_true(ip_addr_is_ipv6(&v6));
    assert_int_equal(ip_addr_ipv4(&v6), 0);
    assert_string_equal(ip_addr_family_name(&v6), "IPv6");
    struct ip_addr round = ip_addr_from_ipv4(inet_addr("10.0.0.5"));
    assert_true(ip_addr_equal(&round, &v4));
    round = ip_addr_from_ipv6(v6.bytes);
    assert_true(ip_addr_equal(&round, &v6));
    assert_false(ip_addr_equal(&v4, &v6));
}

static void test_compare(void **state)
{
    (void)state;
    struct ip_addr a, b, c, d;
    assert_int_equal(ip_addr_parse("10.0.0.9", &a, NULL), 0);
    assert_int_equal(ip_addr_parse("10.0.1.1", &b, NULL), 0);
    assert_int_equal(ip_addr_parse("fd00::1", &c, NULL), 0);
    assert_int_equal(ip_addr_parse("fd00::2", &d, NULL), 0);
    assert_true(ip_addr_compare(&a, &b) < 0); /* by value, not by the first byte's host order */
    assert_true(ip_addr_compare(&b, &c) < 0); /* IPv4 first */
    assert_true(ip_addr_compare(&c, &b) > 0);
    assert_true(ip_addr_compare(&c, &d) < 0);
    assert_int_equal(ip_addr_compare(&d, &d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_format),
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
