/* test_cidr.c: IPv4 / MAC parsing is strict and says what is wrong; pool arithmetic edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ipam/cidr.h"

struct subnet_case {
    const char *text;
    const char *canonical; /* NULL: must be refused */
    const char *message;   /* a fragment the refusal must contain */
};

static const struct subnet_case subnet_cases[] = {
    {"10.77.0.0/24", "10.77.0.0/24", NULL},
    {"10.0.0.0/8", "10.0.0.0/8", NULL},
    {"192.168.1.4/30", "192.168.1.4/30", NULL},
    {"10.77.0.5/24", NULL, "did you mean 10.77.0.0/24?"},
    {"10.77.0.256/24", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0/24", NULL, "not a valid IPv4 CIDR"},
    {"010.77.0.0/24", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0/24x", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0/", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0/33", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0/31", NULL, "from /8 to /30"},
    {"10.0.0.0/7", NULL, "from /8 to /30"},
    {" 10.77.0.0/24", NULL, "not a valid IPv4 CIDR"},
    {"fd00::/64", NULL, "IPv6 is not supported"},
    {"", NULL, "required"},
    {"10.77.0.0/24; rm -rf /", NULL, "not a valid IPv4 CIDR"},
};

static void subnets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(subnet_cases) / sizeof(subnet_cases[0]); i++) {
        const struct subnet_case *c = &subnet_cases[i];
        struct cidr parsed;
        struct weft_err err = {""};
        int rc = cidr_parse_subnet(c->text, &parsed, &err);
        if (c->canonical) {
            assert_int_equal(rc, 0);
            char out[CIDR_STR_MAX];
            cidr_format_subnet(&parsed, out);
            assert_string_equal(out, c->canonical);
        } else {
            if (rc != -1 || !strstr(err.msg, c->message))
                fail_msg("subnet \"%s\": rc %d, message \"%s\", want \"%s\"", c->text, rc, err.msg,
                         c->message);
        }
    }
    struct cidr parsed;
    assert_int_equal(cidr_parse_subnet(NULL, &parsed, NULL), -1);
}

static void addresses(void **state)
{
    (void)state;
    uint32_t ip;
    int len;
    assert_int_equal(cidr_parse_ip("10.77.0.5", &ip, NULL), 0);
    assert_int_equal(ip, 0x0a4d0005);
    assert_int_equal(cidr_parse_ip("255.255.255.255", &ip, NULL), 0);
    assert_int_equal(ip, 0xffffffff);
    const char *bad[] = {"10.77.0", "10.77.0.5.6", "1.2.3.04", "a.b.c.d", "10.77.0.5/24", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(cidr_parse_ip(bad[i], &ip, NULL), -1);
    assert_int_equal(cidr_parse_ip_prefix("10.77.0.5/24", &ip, &len, NULL), 0);
    assert_int_equal(ip, 0x0a4d0005);
    assert_int_equal(len, 24);
    assert_int_equal(cidr_parse_ip_prefix("10.77.0.5", &ip, &len, NULL), -1);
    assert_int_equal(cidr_parse_ip_prefix("10.77.0.5/33", &ip, &len, NULL), -1);
    char out[CIDR_STR_MAX];
    cidr_format_ip(0xc0a80101, out);
    assert_string_equal(out, "192.168.1.1");
}

static void macs(void **state)
{
    (void)state;
    uint8_t mac[6];
    struct weft_err err = {""};
    assert_int_equal(cidr_parse_mac("02:42:0A:4d:00:05", mac, &err), 0);
    char out[18];
    cidr_format_mac(mac, out);
    assert_string_equal(out, "02:42:0a:4d:00:05");
    assert_int_equal(cidr_parse_mac("01:00:5e:00:00:01", mac, &err), -1);
    assert_non_null(strstr(err.msg, "multicast"));
    assert_int_equal(cidr_parse_mac("00:00:00:00:00:00", mac, &err), -1);
    const char *bad[] = {"02:42:0a:4d:00",    "02:42:0a:4d:00:05:06", "02-42-0a-4d-00-05",
                         "0g:42:0a:4d:00:05", "2:42:0a:4d:00:05",     ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(cidr_parse_mac(bad[i], mac, NULL), -1);
}

static void arithmetic(void **state)
{
    (void)state;
    struct cidr c;
    assert_int_equal(cidr_parse_subnet("192.168.1.4/30", &c, NULL), 0);
    assert_int_equal(cidr_host_count(&c), 2);
    assert_int_equal(cidr_first_host(&c), 0xc0a80105);
    assert_int_equal(cidr_last_host(&c), 0xc0a80106);
    assert_true(cidr_is_reserved(&c, 0xc0a80104));
    assert_true(cidr_is_reserved(&c, 0xc0a80107));
    assert_false(cidr_is_reserved(&c, 0xc0a80105));
    assert_true(cidr_contains(&c, 0xc0a80107));
    assert_false(cidr_contains(&c, 0xc0a80108));
    assert_int_equal(cidr_parse_subnet("10.77.0.0/24", &c, NULL), 0);
    assert_int_equal(cidr_host_count(&c), 254);
    assert_int_equal(cidr_parse_subnet("10.0.0.0/8", &c, NULL), 0);
    assert_int_equal(cidr_host_count(&c), (1u << 24) - 2);
    assert_int_equal(cidr_last_host(&c), 0x0afffffe);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(subnets),
        cmocka_unit_test(addresses),
        cmocka_unit_test(macs),
        cmocka_unit_test(arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
