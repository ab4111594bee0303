/* test_addr.c: IPv4 / MAC parsing is strict and says what is wrong; pool arithmetic edges. */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/addr.h"

struct subnet_case {
    const char *text;
    const char *canonical; /* NULL: must be refused */
    const char *message;   /* a fragment the refusal must contain */
};

static const struct subnet_case subnet_cases[] = {
    {"10.77.0.0/24", "10.77.0.0/24", NULL},
    {"10.0.0.0/8", "10.0.0.0/8", NULL},
    {"192.168.1.4/30", "192.168.1.4/30", NULL},
    {"255.255.255.252/30", "255.255.255.252/30", NULL},
    {"10.77.0.5/24", NULL, "10.77.0.5/24 has host bits set; did you mean 10.77.0.0/24?"},
    {"10.0.0.1/8", NULL, "did you mean 10.0.0.0/8?"},
    {"10.77.0.256/24", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0/24", NULL, "not a valid IPv4 CIDR"},
    {"010.77.0.0/24", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0/24x", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0/", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0/33", NULL, "not a valid IPv4 CIDR"},
    {"10.77.0.0/31", NULL, "at least two host addresses"},
    {"10.77.0.0/32", NULL, "from /8 to /30"},
    {"0.0.0.0/0", NULL, "from /8 to /30"},
    {"10.0.0.0/7", NULL, "from /8 to /30"},
    {" 10.77.0.0/24", NULL, "not a valid IPv4 CIDR"},
    {"fd00::/64", NULL, "IPv6 is not supported by weft yet"},
    {"::ffff:10.0.0.0/104", NULL, "IPv6 is not supported by weft yet"},
    {"", NULL, "required"},
    {"10.77.0.0/24; rm -rf /", NULL, "not a valid IPv4 CIDR"},
};

static void subnets(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(subnet_cases) / sizeof(subnet_cases[0]); i++) {
        const struct subnet_case *c = &subnet_cases[i];
        struct ipv4_subnet parsed;
        struct weft_err err = {0};
        int rc = ipv4_subnet_parse(c->text, &parsed, &err);
        if (c->canonical) {
            assert_int_equal(rc, 0);
            char out[ADDR_STR_MAX];
            ipv4_subnet_format(&parsed, out);
            assert_string_equal(out, c->canonical);
        } else {
            if (rc != -1 || !strstr(err.msg, c->message))
                fail_msg("subnet \"%s\": rc %d, message \"%s\", want \"%s\"", c->text, rc, err.msg,
                         c->message);
            /* Bad input from Docker or the command line: its kind is -EINVAL. */
            if (err.code != -EINVAL)
                fail_msg("subnet \"%s\": code %d, want -EINVAL", c->text, err.code);
        }
        assert_int_equal(ipv4_subnet_parse(c->text, &parsed, NULL), c->canonical ? 0 : -1);
    }
    struct ipv4_subnet parsed;
    assert_int_equal(ipv4_subnet_parse(NULL, &parsed, NULL), -1);
}

struct text_case {
    const char *text;
    bool ok;
    const char *message; /* a fragment the refusal must contain */
};

static const struct text_case ip_cases[] = {
    {"10.77.0.5", true, NULL},
    {"0.0.0.0", true, NULL},
    {"255.255.255.255", true, NULL},
    {"10.77.0", false, "not a valid IPv4 address"},
    {"10.77.0.5.6", false, "not a valid IPv4 address"},
    {"1.2.3.04", false, "not a valid IPv4 address"},
    {"010.1.1.1", false, "not a valid IPv4 address"},
    {"10.77.0.256", false, "not a valid IPv4 address"},
    {"1000.1.1.1", false, "not a valid IPv4 address"},
    {"a.b.c.d", false, "not a valid IPv4 address"},
    {"10.77.0.5/24", false, "not a valid IPv4 address"},
    {"10.77.0.5 ", false, "not a valid IPv4 address"},
    {"-1.2.3.4", false, "not a valid IPv4 address"},
    {" 10.77.0.5", false, "not a valid IPv4 address"},
    {"+1.2.3.4", false, "not a valid IPv4 address"},
    {"0x1.2.3.4", false, "not a valid IPv4 address"},
    {"1..2.3", false, "not a valid IPv4 address"},
    {"1.2.3.4.", false, "not a valid IPv4 address"},
    {"00.1.1.1", false, "not a valid IPv4 address"},
    {"255.255.255.2550", false, "not a valid IPv4 address"},
    {"10.77.0.5xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false, "not a valid IPv4 address"},
    {"fe80::1", false, "IPv6 is not supported by weft yet"},
    {"", false, "required"},
};

static const struct text_case ip_prefix_cases[] = {
    {"10.77.0.5/24", true, NULL},
    {"10.77.0.5/0", true, NULL},
    {"10.77.0.5/32", true, NULL},
    {"10.77.0.5", false, "a.b.c.d/n"},
    {"10.77.0.5/33", false, "a.b.c.d/n"},
    {"10.77.0.5/024", false, "a.b.c.d/n"},
    {"10.77.0.5/24/", false, "a.b.c.d/n"},
    {"10.77.0.256/24", false, "a.b.c.d/n"},
    {"10.77.0.5 /24", false, "a.b.c.d/n"},
    {"10.77.0.5/ 24", false, "a.b.c.d/n"},
    {"10.77.0.5/+4", false, "a.b.c.d/n"},
    {"10.77.0.05/24", false, "a.b.c.d/n"},
    {"/24", false, "a.b.c.d/n"},
    {"10.77.0.5/", false, "a.b.c.d/n"},
    {"fd00::1/64", false, "IPv6 is not supported by weft yet"},
    {"", false, "required"},
};

static const struct text_case mac_cases[] = {
    {"02:42:0a:4d:00:05", true, NULL},
    {"02:42:0A:4D:00:05", true, NULL},
    {"fe:ff:ff:ff:ff:ff", true, NULL},
    {"01:00:5e:00:00:01", false, "multicast"},
    {"ff:ff:ff:ff:ff:ff", false, "multicast"},
    {"00:00:00:00:00:00", false, "not a usable address"},
    {"02:42:0a:4d:00", false, "not a MAC address"},
    {"02:42:0a:4d:00:05:06", false, "not a MAC address"},
    {"02-42-0a-4d-00-05", false, "not a MAC address"},
    {"0g:42:0a:4d:00:05", false, "not a MAC address"},
    {"2:42:0a:4d:00:05", false, "not a MAC address"},
    {"02:42:0a:4d:00:5", false, "not a MAC address"},
    {"02:42:0a:4d:00:05 ", false, "not a MAC address"},
    {"", false, "required"},
};

enum parser { PARSE_IP, PARSE_IP_PREFIX, PARSE_MAC };

static int run_parser(enum parser which, const char *text, struct weft_err *err)
{
    uint32_t ip;
    int len;
    uint8_t mac[6];
    switch (which) {
    case PARSE_IP:
        return ipv4_parse(text, &ip, err);
    case PARSE_IP_PREFIX:
        return ipv4_parse_with_prefix(text, &ip, &len, err);
    case PARSE_MAC:
        return mac_parse(text, mac, err);
    }
    return -1;
}

/* Each case with an error buffer (checking the message) and without one (callers
 * that only want a yes/no pass NULL). */
static void check_cases(enum parser which, const struct text_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct text_case *c = &cases[i];
        struct weft_err err = {0};
        int rc = run_parser(which, c->text, &err);
        if (c->ok && rc != 0)
            fail_msg("\"%s\" refused: %s", c->text, err.msg);
        if (!c->ok && (rc != -1 || !strstr(err.msg, c->message)))
            fail_msg("\"%s\": rc %d, message \"%s\", want \"%s\"", c->text, rc, err.msg,
                     c->message);
        if (!c->ok && err.code != -EINVAL)
            fail_msg("\"%s\": code %d, want -EINVAL", c->text, err.code);
        if (c->ok && err.code != 0)
            fail_msg("\"%s\" accepted but code %d was set", c->text, err.code);
        assert_int_equal(run_parser(which, c->text, NULL), c->ok ? 0 : -1);
    }
    assert_int_equal(run_parser(which, NULL, NULL), -1);
}

static void addresses(void **state)
{
    (void)state;
    check_cases(PARSE_IP, ip_cases, sizeof(ip_cases) / sizeof(ip_cases[0]));
    check_cases(PARSE_IP_PREFIX, ip_prefix_cases,
                sizeof(ip_prefix_cases) / sizeof(ip_prefix_cases[0]));
    uint32_t ip;
    int len;
    assert_int_equal(ipv4_parse("10.77.0.5", &ip, NULL), 0);
    assert_int_equal(ip, 0x0a4d0005);
    assert_int_equal(ipv4_parse("255.255.255.255", &ip, NULL), 0);
    assert_int_equal(ip, 0xffffffff);
    assert_int_equal(ipv4_parse_with_prefix("10.77.0.5/24", &ip, &len, NULL), 0);
    assert_int_equal(ip, 0x0a4d0005);
    assert_int_equal(len, 24);
    char out[ADDR_STR_MAX];
    ipv4_format(0xc0a80101, out);
    assert_string_equal(out, "192.168.1.1");
    ipv4_format(0xffffffff, out);
    assert_string_equal(out, "255.255.255.255");
    ipv4_format(0, out);
    assert_string_equal(out, "0.0.0.0");
    ipv4_format(0x0a000001, out);
    assert_string_equal(out, "10.0.0.1");
}

static void macs(void **state)
{
    (void)state;
    check_cases(PARSE_MAC, mac_cases, sizeof(mac_cases) / sizeof(mac_cases[0]));
    uint8_t mac[6];
    assert_int_equal(mac_parse("02:42:0A:4d:00:05", mac, NULL), 0);
    static const uint8_t want[6] = {0x02, 0x42, 0x0a, 0x4d, 0x00, 0x05};
    assert_memory_equal(mac, want, 6);
    char out[18];
    mac_format(mac, out);
    assert_string_equal(out, "02:42:0a:4d:00:05");
    static const uint8_t high[6] = {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54};
    mac_format(high, out);
    assert_string_equal(out, "fe:dc:ba:98:76:54");
}

static void arithmetic(void **state)
{
    (void)state;
    struct ipv4_subnet c;
    assert_int_equal(ipv4_subnet_parse("192.168.1.4/30", &c, NULL), 0);
    assert_int_equal(ipv4_subnet_host_count(&c), 2);
    assert_int_equal(ipv4_subnet_first_host(&c), 0xc0a80105);
    assert_int_equal(ipv4_subnet_last_host(&c), 0xc0a80106);
    assert_true(ipv4_subnet_is_reserved(&c, 0xc0a80104));
    assert_true(ipv4_subnet_is_reserved(&c, 0xc0a80107));
    assert_false(ipv4_subnet_is_reserved(&c, 0xc0a80105));
    assert_true(ipv4_subnet_contains(&c, 0xc0a80107));
    assert_false(ipv4_subnet_contains(&c, 0xc0a80108));
    assert_int_equal(ipv4_subnet_parse("10.77.0.0/24", &c, NULL), 0);
    assert_int_equal(ipv4_subnet_host_count(&c), 254);
    assert_int_equal(ipv4_subnet_parse("10.0.0.0/8", &c, NULL), 0);
    assert_int_equal(ipv4_subnet_host_count(&c), (1u << 24) - 2);
    assert_int_equal(ipv4_subnet_first_host(&c), 0x0a000001);
    assert_int_equal(ipv4_subnet_last_host(&c), 0x0afffffe);
    assert_true(ipv4_subnet_is_reserved(&c, 0x0affffff));
    assert_true(ipv4_subnet_contains(&c, 0x0affffff));
    assert_false(ipv4_subnet_contains(&c, 0x0b000000));
    assert_false(ipv4_subnet_contains(&c, 0x09ffffff));
    /* The top of the address space: broadcast must not wrap. */
    assert_int_equal(ipv4_subnet_parse("255.255.255.252/30", &c, NULL), 0);
    assert_int_equal(ipv4_subnet_host_count(&c), 2);
    assert_int_equal(ipv4_subnet_last_host(&c), 0xfffffffe);
    assert_true(ipv4_subnet_is_reserved(&c, 0xffffffff));
    char out[ADDR_STR_MAX];
    assert_int_equal(ipv4_subnet_parse("10.77.0.0/24", &c, NULL), 0);
    assert_int_equal(ipv4_subnet_first_host(&c), 0x0a4d0001);
    assert_int_equal(ipv4_subnet_last_host(&c), 0x0a4d00fe);
    ipv4_subnet_format(&c, out);
    assert_string_equal(out, "10.77.0.0/24");
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
