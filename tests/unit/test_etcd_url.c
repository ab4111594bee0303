/*
 * test_etcd_url.c: every spelling of --store that etcd_url_parse accepts (etcd://,
 * etcds://, etcdctl's http:// and https:// lists) and the ones it refuses (mixed
 * schemes, unknown schemes, members without a scheme, nothing after the scheme),
 * and what etcd_open_config refuses before it asks etcd anything. IPv6 members
 * (issue 12): etcd_member_parse splits "[ADDR]:PORT" and refuses IPv6 without
 * brackets, naming the member as written.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/etcd.h"
#include "store/etcd_member.h"

static void assert_parses(const char *url, const char *want_endpoints, bool want_tls)
{
    char endpoints[256];
    bool tls = !want_tls;
    struct weft_err err = {0};
    if (etcd_url_parse(url, endpoints, sizeof(endpoints), &tls, &err) != 0)
        fail_msg("%s refused: %s", url, err.msg);
    assert_string_equal(endpoints, want_endpoints);
    assert_int_equal(tls, want_tls);
}

static void assert_refused(const char *url, const char *words)
{
    char endpoints[256];
    bool tls = true;
    struct weft_err err = {0};
    assert_int_equal(etcd_url_parse(url, endpoints, sizeof(endpoints), &tls, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    if (!strstr(err.msg, words))
        fail_msg("%s: message \"%s\" lacks \"%s\"", url, err.msg, words);
    assert_false(tls);
}

static void test_plain_spellings(void **state)
{
    (void)state;
    assert_parses("etcd://127.0.0.1:2379", "127.0.0.1:2379", false);
    assert_parses("etcd://a:1,b:2,c:3", "a:1,b:2,c:3", false);
    assert_parses("http://10.0.0.1:2379", "10.0.0.1:2379", false);
    assert_parses("http://a:1,http://b:2", "a:1,b:2", false);
    assert_parses("http://a:1/,http://[::1]:2/", "a:1,[::1]:2", false);
}

static void test_tls_spellings(void **state)
{
    (void)state;
    assert_parses("etcds://127.0.0.1:2379", "127.0.0.1:2379", true);
    assert_parses("etcds://a:1,b:2", "a:1,b:2", true);
    assert_parses("https://a:1", "a:1", true);
    assert_parses("https://a:1,https://b:2,https://c:3/", "a:1,b:2,c:3", true);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_refused("https://a:1,http://b:2", "mixes https:// and http://");
    assert_refused("http://a:1,https://b:2", "mixes http:// and https://");
    assert_refused("etcds://a:1,http://b:2", "mixes schemes");
    assert_refused("etcd://a:1,https://b:2", "mixes schemes");
    assert_refused("https://a:1,b:2", "has no scheme");
    assert_refused("ftp://a:1", "unknown scheme ftp://");
    assert_refused("a:1,b:2", "must look like");
    assert_refused("", "must look like");
    assert_refused("etcds://", "names no member");
    assert_refused("https://", "no HOST:PORT");
}

static void test_too_long(void **state)
{
    (void)state;
    char endpoints[8];
    bool tls;
    struct weft_err err = {0};
    assert_int_equal(etcd_url_parse("etcd://abcdef:1", endpoints, sizeof(endpoints), &tls, &err),
                     -1);
    assert_int_equal(etcd_url_parse("https://abcdef:1", endpoints, sizeof(endpoints), &tls, &err),
                     -1);
    assert_non_null(strstr(err.msg, "too long"));
}

static void assert_member(const char *member, const char *host, const char *port, bool ipv6)
{
    struct etcd_member_addr addr;
    struct weft_err err = {0};
    if (etcd_member_parse(member, &addr, &err) != 0)
        fail_msg("%s refused: %s", member, err.msg);
    assert_string_equal(addr.host, host);
    assert_string_equal(addr.port, port);
    assert_int_equal(addr.ipv6, ipv6);
    assert_true(etcd_member_valid(member));
}

/* Refused with words, and the message names the member as written. */
static void assert_member_refused(const char *member, const char *words)
{
    struct etcd_member_addr addr;
    struct weft_err err = {0};
    assert_int_equal(etcd_member_parse(member, &addr, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    char quoted[128];
    snprintf(quoted, sizeof(quoted), "member \"%s\" is not HOST:PORT", member);
    if (!strstr(err.msg, quoted) || !strstr(err.msg, words))
        fail_msg("%s: message \"%s\" lacks \"%s\" or \"%s\"", member, err.msg, quoted, words);
    assert_string_equal(addr.host, "");
    assert_false(etcd_member_valid(member));
}

static void test_member_forms(void **state)
{
    (void)state;
    assert_member("127.0.0.1:2379", "127.0.0.1", "2379", false);
    assert_member("etcd-1.example_x:1", "etcd-1.example_x", "1", false);
    assert_member("[::1]:2379", "::1", "2379", true);
    assert_member("[fd00::5]:65535", "fd00::5", "65535", true);
    assert_member("[2001:db8:0:1:2:3:4:5]:2380", "2001:db8:0:1:2:3:4:5", "2380", true);
    assert_member("[::ffff:10.0.0.1]:2379", "::ffff:10.0.0.1", "2379", true);
}

static void test_member_refusals(void **state)
{
    (void)state;
    assert_member_refused("fd00::5:2379", "an IPv6 address goes in brackets, [ADDR]:PORT");
    assert_member_refused("::1", "goes in brackets");
    assert_member_refused("[::1]", "it needs a port, [::1]:PORT");
    assert_member_refused("[::1]:", "it needs a port");
    assert_member_refused("[::1]2379", "it needs a port");
    assert_member_refused("[::1:2379", "has no ]");
    assert_member_refused("[10.0.0.1]:2379", "\"10.0.0.1\" in brackets is not an IPv6 address");
    assert_member_refused("[fe80::1%eth0]:2379", "is not an IPv6 address");
    assert_member_refused("[]:2379", "is not an IPv6 address");
    assert_member_refused("[::1]:0", "port \"0\" is not a number 1..65535");
    assert_member_refused("[::1]:65536", "1..65535");
    assert_member_refused("[::1]:23x", "1..65535");
    assert_member_refused("h:-1", "1..65535");
    assert_member_refused("h", "it has no port");
    assert_member_refused("h:", "it has no port");
    assert_member_refused(":2379", "it has no host");
    assert_member_refused("a/b:1", "\"a/b\" is not a host name or IPv4 address");
    assert_member_refused("", "it has no port");
}

static void test_ipv6_spellings(void **state)
{
    (void)state;
    assert_parses("etcd://[fd00::5]:2379", "[fd00::5]:2379", false);
    assert_parses("etcd://[::1]:2379,10.0.0.1:2379,[::1]:2380",
                  "[::1]:2379,10.0.0.1:2379,[::1]:2380", false);
    assert_parses("etcds://[::1]:2379,[::1]:2380", "[::1]:2379,[::1]:2380", true);
    assert_parses("http://[::1]:2379", "[::1]:2379", false);
    assert_parses("https://[::1]:2379", "[::1]:2379", true);
    assert_parses("https://[::1]:2379/,https://[fd00::5]:2380", "[::1]:2379,[fd00::5]:2380", true);
    assert_refused("etcd://fd00::5:2379", "--store etcd://fd00::5:2379: member \"fd00::5:2379\" is "
                                          "not HOST:PORT: an IPv6 address goes in brackets");
    assert_refused("etcds://[::1]:2379,::1:2380", "member \"::1:2380\" is not HOST:PORT");
    assert_refused("http://::1:2379", "goes in brackets");
    assert_refused("https://[::1]", "it needs a port, [::1]:PORT");
    assert_refused("etcd://[::1]:2379,[127.0.0.1]:2379", "not an IPv6 address");
}

static void assert_config_refused(const struct etcd_config *config, int code, const char *words)
{
    struct etcd *etcd = (struct etcd *)1;
    struct weft_err err = {0};
    assert_int_equal(etcd_open_config(&etcd, config, &err), -1);
    assert_null(etcd);
    assert_int_equal(err.code, code);
    if (!strstr(err.msg, words))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, words);
}

/* Refused before any member is asked: nothing listens on port 1. */
static void test_config_refusals(void **state)
{
    (void)state;
    const char *ep = "127.0.0.1:1";
    assert_config_refused(&(struct etcd_config){.endpoints = ep, .ca_file = "/etc/hostname"},
                          -EINVAL, "--store-ca needs a TLS store");
    assert_config_refused(
        &(struct etcd_config){.endpoints = ep, .tls = true, .ca_file = "/nonexistent/ca.pem"},
        -ENOENT, "--store-ca /nonexistent/ca.pem");
    assert_config_refused(
        &(struct etcd_config){.endpoints = ep, .tls = true, .cert_file = "/etc/hostname"}, -EINVAL,
        "go together");
    assert_config_refused(&(struct etcd_config){.endpoints = ep, .user = "weft"}, -EINVAL,
                          "needs a password");
    assert_config_refused(&(struct etcd_config){.endpoints = ep, .password = "x"}, -EINVAL,
                          "needs --store-user");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_spellings), cmocka_unit_test(test_tls_spellings),
        cmocka_unit_test(test_refusals),        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_config_refusals), cmocka_unit_test(test_member_forms),
        cmocka_unit_test(test_member_refusals), cmocka_unit_test(test_ipv6_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
