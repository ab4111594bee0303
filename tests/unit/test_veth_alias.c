/* test_veth_alias.c: an endpoint's record fits its veth's alias (255 bytes) even for
 * a dual-stack endpoint with the longest addresses, reads back as the same record
 * (names and interface left out), older JSON aliases still read, and lines that are
 * not weft's are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fabric/veth_alias.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void longest_record_fits_and_reads_back(void **state)
{
    (void)state;
    struct host_endpoint_record rec = {.endpoint_id = ID64,
                                       .network_id = ID64,
                                       .ip = "100.200.200.200/24",
                                       .mac = "02:42:0a:51:00:02",
                                       .ifname = "ws4294967295",
                                       .names = "web api",
                                       .ip6 = "fd81:1234:5678:9abc:def0:1234:5678:9abc/64"};
    char *alias = veth_alias_encode(&rec);
    assert_non_null(alias);
    assert_true(strlen(alias) <= VETH_ALIAS_MAX);
    char *text = veth_alias_record_text(alias);
    assert_non_null(text);
    struct host_endpoint_record back;
    struct weft_err err;
    assert_int_equal(host_endpoint_record_decode(text, &back, &err), 0);
    assert_string_equal(back.endpoint_id, rec.endpoint_id);
    assert_string_equal(back.network_id, rec.network_id);
    assert_string_equal(back.ip, rec.ip);
    assert_string_equal(back.mac, rec.mac);
    assert_string_equal(back.ip6, rec.ip6);
    assert_string_equal(back.ifname, "");
    assert_string_equal(back.names, "");
    free(text);
    free(alias);
    /* IPv4 only: no sixth field */
    rec.ip6[0] = '\0';
    alias = veth_alias_encode(&rec);
    text = veth_alias_record_text(alias);
    assert_int_equal(host_endpoint_record_decode(text, &back, &err), 0);
    assert_string_equal(back.ip6, "");
    free(text);
    free(alias);
}

static void older_json_aliases_read(void **state)
{
    (void)state;
    const char *old = "{\"endpoint_id\":\"" ID64 "\",\"ip\":\"10.77.0.2/24\",\"mac\":"
                      "\"02:42:0a:4d:00:02\",\"network_id\":\"" ID64 "\"}";
    char *text = veth_alias_record_text(old);
    assert_string_equal(text, old);
    free(text);
}

static void other_lines_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "weft spare",
        "weft2 " ID64 " " ID64 " 10.77.0.2/24 02:42:0a:4d:00:02",
        "weft1 " ID64 " " ID64 " 10.77.0.2/24",
        "weft1 " ID64 "  " ID64 " 10.77.0.2/24 02:42:0a:4d:00:02",
        "weft1 " ID64 " " ID64 " 10.77.0.2/24 02:42:0a:4d:00:02 fd00::2/64 extra",
        "weft1 " ID64 ID64 " " ID64 " 10.77.0.2/24 02:42:0a:4d:00:02", /* over a field */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_null(veth_alias_record_text(bad[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(longest_record_fits_and_reads_back),
        cmocka_unit_test(older_json_aliases_read),
        cmocka_unit_test(other_lines_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
