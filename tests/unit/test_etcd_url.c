/*
 * test_etcd_url.c: every spelling of --store that etcd_url_parse accepts (etcd://,
 * etcds://, etcdctl's http:// and https:// lists) and the ones it refuses (mixed
 * schemes, unknown schemes, members without a scheme, nothing after the scheme),
 * and what etcd_open_config refuses before it asks etcd anything.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "store/etcd.h"

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
    assert_int_equal(etcd_url_parse("etcd://abcdef:1", endpoints, sizeof(endpoints), &tls, &err), -1);
    assert_int_equal(etcd_url_parse("https://abcdef:1", endpoints, sizeof(endpoints), &tls, &err), -1);
    assert_non_null(strstr(err.msg, "too long"));
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
    assert_config_refused(&(struct etcd_config){.endpoints = ep, .tls = true,
                                                .ca_file = "/nonexistent/ca.pem"},
                          -ENOENT, "--store-ca /nonexistent/ca.pem");
    assert_config_refused(&(struct etcd_config){.endpoints = ep, .tls = true,
                                                .cert_file = "/etc/hostname"},
                          -EINVAL, "go together");
    assert_config_refused(&(struct etcd_config){.endpoints = ep, .user = "weft"}, -EINVAL,
                          "needs a password");
    assert_config_refused(&(struct etcd_config){.endpoints = ep, .password = "x"}, -EINVAL,
                          "needs --store-user");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_spellings),
        cmocka_unit_test(test_tls_spellings),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_config_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
