/*
 * test_request_log.c: a log line about a plugin request names the network and
 * endpoint it concerns (their IDs cut to 12, as every line shows them), an ID that
 * is no hex cannot break the line, and --log-format json carries the same fields.
 * stderr goes to a file for the test so the lines can be read back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/log.h"
#include "driver/api.h"

#define NET_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define EP_ID "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* What driver_handle logged for path and body (a fabric that is not open: every
 * call that needs it fails, and is logged). */
static char *logged(const char *path, const char *body)
{
    static char text[4096];
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *capture = tmpfile();
    assert_non_null(capture);
    assert_true(dup2(fileno(capture), STDERR_FILENO) >= 0);
    struct driver_ctx no_domain = {0};
    struct driver_response resp;
    driver_handle(&no_domain, path, body, strlen(body), &resp);
    free(resp.body);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(capture);
    size_t n = fread(text, 1, sizeof(text) - 1, capture);
    text[n] = '\0';
    fclose(capture);
    return text;
}

static void failed_call_names_network_and_endpoint(void **state)
{
    (void)state;
    const char *line =
        logged("/NetworkDriver.Join",
               "{\"NetworkID\":\"" NET_ID "\",\"EndpointID\":\"" EP_ID "\",\"SandboxKey\":\"/x\"}");
    if (!strstr(line, "msg=\"plugin call failed\" path=/NetworkDriver.Join status=500 "
                      "network=0123456789ab endpoint=fedcba987654 err=\""))
        fail_msg("logged: %s", line);
    line = logged("/NetworkDriver.CreateNetwork", "{\"NetworkID\":\"" NET_ID "\"}");
    if (!strstr(line, " network=0123456789ab err=") || strstr(line, "endpoint="))
        fail_msg("logged: %s", line);
    line = logged("/IpamDriver.RequestPool", "{\"Pool\":\"10.1.0.0/24\"}");
    if (!strstr(line, "status=500 err=") || strstr(line, "network="))
        fail_msg("logged: %s", line);
}

static void hostile_ids_stay_in_their_field(void **state)
{
    (void)state;
    const char *line =
        logged("/NetworkDriver.DeleteNetwork", "{\"NetworkID\":\"a b\\\"c=d\\nefghijkl\"}");
    if (!strstr(line, " network=a?b?c?d?efgh err=") || strchr(line, '\n') != strrchr(line, '\n'))
        fail_msg("logged: %s", line);
}

static void json_lines_carry_the_same_fields(void **state)
{
    (void)state;
    assert_int_equal(log_set_format("xml"), -1);
    assert_int_equal(log_set_format("json"), 0);
    const char *line = logged("/NetworkDriver.Leave",
                              "{\"NetworkID\":\"" NET_ID "\",\"EndpointID\":\"" EP_ID "\"}");
    assert_int_equal(log_set_format("logfmt"), 0);
    json_error_t jerr;
    json_t *obj = json_loads(line, 0, &jerr);
    if (!obj)
        fail_msg("not one JSON object: %s (%s)", line, jerr.text);
    assert_string_equal(json_string_value(json_object_get(obj, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(obj, "msg")), "plugin call failed");
    assert_string_equal(json_string_value(json_object_get(obj, "path")), "/NetworkDriver.Leave");
    assert_string_equal(json_string_value(json_object_get(obj, "status")), "500");
    assert_string_equal(json_string_value(json_object_get(obj, "network")), "0123456789ab");
    assert_string_equal(json_string_value(json_object_get(obj, "endpoint")), "fedcba987654");
    assert_non_null(strstr(json_string_value(json_object_get(obj, "err")), "not ready"));
    assert_non_null(json_string_value(json_object_get(obj, "ts")));
    assert_true(strncmp(line, "{\"ts\":", 6) == 0);
    json_decref(obj);
}

int main(void)
{
    setenv("WEFT_LOG_LEVEL", "info", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_call_names_network_and_endpoint),
        cmocka_unit_test(hostile_ids_stay_in_their_field),
        cmocka_unit_test(json_lines_carry_the_same_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
