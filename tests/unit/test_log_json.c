/*
 * test_log_json.c: --log-format json writes one valid JSON object per line with
 * logfmt's keys, escaping quotes, backslashes and control characters by hand and
 * passing UTF-8 through; a line too long is cut at a field and stays valid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/log_json.h"

static void escapes_quotes_backslashes_and_controls(void **state)
{
    (void)state;
    char out[128] = "";
    log_json_append_escaped(out, sizeof(out), "say \"hi\" C:\\dir\n\t\r\b\f\x01\x1f end");
    assert_string_equal(out, "say \\\"hi\\\" C:\\\\dir\\n\\t\\r\\b\\f\\u0001\\u001f end");
}

static void passes_utf8_through(void **state)
{
    (void)state;
    char out[64] = "";
    log_json_append_escaped(out, sizeof(out), "r\xc3\xa9seau \xe2\x86\x92 \xf0\x9f\x90\xb3\x7f");
    assert_string_equal(out, "r\xc3\xa9seau \xe2\x86\x92 \xf0\x9f\x90\xb3\x7f");
}

static void never_splits_an_escape(void **state)
{
    (void)state;
    char out[5] = "";
    /* "abc" fits; "\\n" needs 2 bytes and the NUL one more: it is left out whole */
    assert_int_equal(log_json_append_escaped(out, sizeof(out), "abc\n"), 3);
    assert_string_equal(out, "abc");
}

static void line_has_logfmt_keys_in_order(void **state)
{
    (void)state;
    char line[512];
    log_json_line(line, sizeof(line), "2026-12-03T18:00:00.000Z", "info", "plugin call failed",
                  "path=/NetworkDriver.Join status=500 network=0123456789ab "
                  "err=\"no \"such\" endpoint\" empty=");
    assert_string_equal(line, "{\"ts\":\"2026-12-03T18:00:00.000Z\",\"level\":\"info\","
                              "\"msg\":\"plugin call failed\",\"path\":\"/NetworkDriver.Join\","
                              "\"status\":\"500\",\"network\":\"0123456789ab\","
                              "\"err\":\"no \\\"such\\\" endpoint\",\"empty\":\"\"}\n");
}

static void no_fields_is_three_keys(void **state)
{
    (void)state;
    char line[128];
    log_json_line(line, sizeof(line), "T", "warn", "a \"quoted\"\nmsg", NULL);
    assert_string_equal(line,
                        "{\"ts\":\"T\",\"level\":\"warn\",\"msg\":\"a \\\"quoted\\\"\\nmsg\"}\n");
    log_json_line(line, sizeof(line), "T", "warn", "m", "");
    assert_string_equal(line, "{\"ts\":\"T\",\"level\":\"warn\",\"msg\":\"m\"}\n");
}

static void too_long_is_cut_at_a_field(void **state)
{
    (void)state;
    char line[64];
    log_json_line(line, sizeof(line), "T", "info", "m", "a=1 b=0123456789012345678901234567890123");
    assert_string_equal(line, "{\"ts\":\"T\",\"level\":\"info\",\"msg\":\"m\",\"a\":\"1\"}\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes_quotes_backslashes_and_controls),
        cmocka_unit_test(passes_utf8_through),
        cmocka_unit_test(never_splits_an_escape),
        cmocka_unit_test(line_has_logfmt_keys_in_order),
        cmocka_unit_test(no_fields_is_three_keys),
        cmocka_unit_test(too_long_is_cut_at_a_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
