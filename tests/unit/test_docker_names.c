/* test_docker_names.c: a container's inspect answer, as Docker 20.10 (no DNSNames:
 * the name, the aliases and the short ID) and Docker 25+ (DNSNames) write it, read
 * into each endpoint's DNS names: lowercase, once each, valid DNS names only, within
 * DOCKER_NAMES_MAX; missing fields are skipped and malformed answers refused, never
 * a crash (also for randomly damaged answers). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "docker/names.h"

#define ID "3f4e8c2b9a1d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"
#define NET1 "1111111111111111111111111111111111111111111111111111111111111111"
#define EP1 "e111111111111111111111111111111111111111111111111111111111111111"
#define NET2 "2222222222222222222222222222222222222222222222222222222222222222"
#define EP2 "e222222222222222222222222222222222222222222222222222222222222222"

/* Trimmed from `docker inspect` on Docker 20.10 (API 1.41): Aliases on a user-defined
 * network hold the short ID; the default bridge has none. */
static const char *inspect_20_10 =
    "{\"Id\":\"" ID "\",\"Created\":\"2026-12-01T10:00:00Z\",\"Name\":\"/Web_1\","
    "\"State\":{\"Running\":true},\"Config\":{\"Hostname\":\"3f4e8c2b9a1d\",\"Env\":[\"A=b\"]},"
    "\"NetworkSettings\":{\"Bridge\":\"\",\"Networks\":{"
    "\"bridge\":{\"IPAMConfig\":null,\"Links\":null,\"Aliases\":null,\"NetworkID\":\"" NET1 "\","
    "\"EndpointID\":\"" EP1 "\",\"Gateway\":\"172.17.0.1\",\"IPAddress\":\"172.17.0.2\"},"
    "\"ov\":{\"IPAMConfig\":{\"IPv4Address\":\"10.77.0.5\"},\"Links\":null,"
    "\"Aliases\":[\"web\",\"3f4e8c2b9a1d\",\"Web.Alias\"],\"NetworkID\":\"" NET2 "\","
    "\"EndpointID\":\"" EP2 "\",\"IPAddress\":\"10.77.0.5\",\"DriverOpts\":null}}}}";

/* Docker 28 (API 1.48) lists DNSNames; Aliases no longer hold the short ID. An
 * entry with an empty EndpointID (not connected yet) has no endpoint. */
static const char *inspect_28 =
    "{\"Id\":\"a1b2c3d4e5f6a7b8c9d0\",\"Name\":\"/db\",\"NetworkSettings\":{\"Networks\":{"
    "\"ov\":{\"Aliases\":[\"db.alias\"],\"DNSNames\":[\"db\",\"db.alias\",\"a1b2c3d4e5f6\","
    "\"DB-Host\"],\"NetworkID\":\"" NET2 "\",\"EndpointID\":\"" EP2 "\"},"
    "\"idle\":{\"NetworkID\":\"" NET1 "\",\"EndpointID\":\"\",\"DNSNames\":null}}}}";

static void parse_ok(const char *json, struct docker_container *c)
{
    struct weft_err err = {0};
    int rc = docker_container_parse(c, json, strlen(json), &err);
    if (rc != 0)
        fail_msg("parse failed: %s", err.msg);
}

static const struct docker_endpoint *find(const struct docker_container *c, const char *ep)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->endpoints[i].endpoint_id, ep) == 0)
            return &c->endpoints[i];
    fail_msg("no endpoint %s", ep);
    return NULL;
}

static void docker_20_10_name_aliases_and_short_id(void **state)
{
    (void)state;
    struct docker_container c;
    parse_ok(inspect_20_10, &c);
    assert_string_equal(c.id, ID);
    assert_int_equal(c.count, 2);
    const struct docker_endpoint *ov = find(&c, EP2), *bridge = find(&c, EP1);
    assert_string_equal(ov->network_id, NET2);
    assert_string_equal(ov->names, "web_1 web 3f4e8c2b9a1d web.alias");
    assert_string_equal(bridge->network_id, NET1);
    assert_string_equal(bridge->names, "web_1 3f4e8c2b9a1d");
    docker_container_free(&c);
}

static void docker_28_dns_names_win(void **state)
{
    (void)state;
    struct docker_container c;
    parse_ok(inspect_28, &c);
    assert_int_equal(c.count, 1);
    assert_int_equal(c.skipped, 0);
    assert_string_equal(c.endpoints[0].names, "db db.alias a1b2c3d4e5f6 db-host");
    docker_container_free(&c);
}

static void empty_dns_names_fall_back(void **state)
{
    (void)state;
    struct docker_container c;
    parse_ok("{\"Id\":\"" ID "\",\"Name\":\"/x\",\"NetworkSettings\":{\"Networks\":{\"n\":{"
             "\"DNSNames\":[],\"Aliases\":[\"y\"],\"NetworkID\":\"" NET1 "\",\"EndpointID\":\"" EP1
             "\"}}}}",
             &c);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.endpoints[0].names, "x y 3f4e8c2b9a1d");
    docker_container_free(&c);
}

static void invalid_names_dropped(void **state)
{
    (void)state;
    char long_label[80], long_name[300];
    memset(long_label, 'a', 64), long_label[64] = '\0';
    memset(long_name, 'b', 299), long_name[299] = '\0';
    for (int i = 50; i < 299; i += 50)
        long_name[i] = '.';
    char json[2048];
    snprintf(json, sizeof(json),
             "{\"Id\":\"" ID "\",\"Name\":\"/ok\",\"NetworkSettings\":{\"Networks\":{\"n\":{"
             "\"Aliases\":[\"bad name\",\"a..b\",\".lead\",\"trail.\",\"%s\",\"\\u00fcber\",\"\","
             "\"%s\",123,null,\"under_score.ok-1\",\"sl/ash\"],"
             "\"NetworkID\":\"" NET1 "\",\"EndpointID\":\"" EP1 "\"}}}}",
             long_label, long_name);
    struct docker_container c;
    parse_ok(json, &c);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.endpoints[0].names, "ok under_score.ok-1 3f4e8c2b9a1d");
    assert_int_equal(c.endpoints[0].dropped_invalid, 11);
    docker_container_free(&c);
}

static void lowercased_and_once(void **state)
{
    (void)state;
    struct docker_container c;
    parse_ok("{\"Id\":\"ABCDEF0123456789\",\"Name\":\"/WEB\",\"NetworkSettings\":{\"Networks\":{"
             "\"n\":{\"Aliases\":[\"web\",\"Web\",\"wEb\",\"abcdef012345\"],\"NetworkID\":\"" NET1
             "\",\"EndpointID\":\"" EP1 "\"}}}}",
             &c);
    assert_string_equal(c.endpoints[0].names, "web abcdef012345");
    docker_container_free(&c);
}

static void names_that_do_not_fit_are_dropped(void **state)
{
    (void)state;
    char json[4096] = "{\"Id\":\"" ID "\",\"NetworkSettings\":{\"Networks\":{\"n\":{"
                      "\"NetworkID\":\"" NET1 "\",\"EndpointID\":\"" EP1 "\",\"DNSNames\":[";
    for (int i = 0; i < 20; i++) /* 60 bytes each: 16 fit in 1023 with their spaces */
        snprintf(json + strlen(json), sizeof(json) - strlen(json), "%s\"n%02d%057d\"", i ? "," : "",
                 i, 0);
    strcat(json, "]}}}}");
    struct docker_container c;
    parse_ok(json, &c);
    assert_int_equal(c.count, 1);
    assert_true(strlen(c.endpoints[0].names) < DOCKER_NAMES_MAX);
    assert_int_equal(strlen(c.endpoints[0].names), 16 * 60 + 15);
    assert_int_equal(c.endpoints[0].dropped_long, 4);
    docker_container_free(&c);
}

static void missing_fields(void **state)
{
    (void)state;
    struct docker_container c;
    parse_ok("{\"Id\":\"" ID "\"}", &c); /* no NetworkSettings: no endpoints */
    assert_int_equal(c.count, 0);
    docker_container_free(&c);
    parse_ok("{\"Id\":\"" ID "\",\"NetworkSettings\":{\"Networks\":[1,2]}}", &c);
    assert_int_equal(c.count, 0);
    docker_container_free(&c);
    /* No name, no aliases: the short ID. No NetworkID, a bad EndpointID, not an
     * object: skipped and counted. */
    parse_ok("{\"Id\":\"" ID "\",\"Name\":7,\"NetworkSettings\":{\"Networks\":{"
             "\"a\":{\"NetworkID\":\"" NET1 "\",\"EndpointID\":\"" EP1 "\",\"Aliases\":\"x\"},"
             "\"b\":{\"EndpointID\":\"" EP2 "\"},\"c\":{\"NetworkID\":\"" NET2 "\","
             "\"EndpointID\":\"../../etc\"},\"d\":[],\"e\":{\"NetworkID\":5,\"EndpointID\":\"" EP2
             "\"}}}}",
             &c);
    assert_int_equal(c.count, 1);
    assert_string_equal(c.endpoints[0].names, "3f4e8c2b9a1d");
    assert_int_equal(c.skipped, 4);
    docker_container_free(&c);
}

static void refused(const char *json, size_t len)
{
    struct docker_container c;
    struct weft_err err = {0};
    assert_int_equal(docker_container_parse(&c, json, len, &err), -1);
    assert_int_equal(err.code, -EPROTO);
    assert_int_equal(c.count, 0);
    docker_container_free(&c);
}

static void malformed_refused(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "{",
                         "[]",
                         "null",
                         "\"x\"",
                         "{\"Id\":",
                         "{\"Id\":null}",
                         "{\"Id\":\"\"}",
                         "{\"Id\":5}",
                         "{\"Id\":\"../x\"}",
                         "<html>502</html>",
                         "{\"Id\":\"" ID "0\"}"}; /* 65 characters: not an ID */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused(bad[i], strlen(bad[i]));
    char deep[20001];
    memset(deep, '[', sizeof(deep) - 1);
    refused(deep, sizeof(deep) - 1);
    refused("{\"Id\":\"ab\0cd\"}", 14);
    refused("{\"Id\":\"ab\\u0000cd\"}", 19); /* jansson refuses \u0000 */
}

/* Randomly damaged answers: each either parses or is refused; ASan watches the rest. */
static void damaged_answers_never_crash(void **state)
{
    (void)state;
    size_t len = strlen(inspect_20_10);
    char *copy = malloc(len);
    assert_non_null(copy);
    srand(10);
    for (int round = 0; round < 3000; round++) {
        memcpy(copy, round % 2 ? inspect_20_10 : inspect_28, round % 2 ? len : strlen(inspect_28));
        size_t n = round % 2 ? len : strlen(inspect_28);
        for (int k = 0; k < 1 + round % 4; k++)
            copy[(size_t)rand() % n] = (char)(rand() % 256);
        size_t cut = round % 5 == 0 ? (size_t)rand() % n : n;
        struct docker_container c;
        struct weft_err err = {0};
        int rc = docker_container_parse(&c, copy, cut, &err);
        assert_true(rc == 0 || rc == -1);
        for (size_t i = 0; i < c.count; i++) {
            assert_true(c.endpoints[i].names[0] != '\0');
            assert_true(strlen(c.endpoints[i].names) < DOCKER_NAMES_MAX);
        }
        docker_container_free(&c);
    }
    free(copy);
}

static void dns_name_rule(void **state)
{
    (void)state;
    assert_true(docker_dns_name_valid("a"));
    assert_true(docker_dns_name_valid("my_app.web-1"));
    assert_false(docker_dns_name_valid(""));
    assert_false(docker_dns_name_valid("A"));
    assert_false(docker_dns_name_valid("a."));
    assert_false(docker_dns_name_valid("a b"));
    char name[300];
    memset(name, 'x', 63), name[63] = '\0';
    assert_true(docker_dns_name_valid(name));
    name[63] = 'x', name[64] = '\0';
    assert_false(docker_dns_name_valid(name));
    /* 253 characters in labels of 50: valid; 254: not. */
    memset(name, 'y', 254);
    for (int i = 50; i < 254; i += 51)
        name[i] = '.';
    name[253] = '\0';
    assert_true(docker_dns_name_valid(name));
    name[253] = 'y', name[254] = '\0';
    assert_false(docker_dns_name_valid(name));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(docker_20_10_name_aliases_and_short_id),
        cmocka_unit_test(docker_28_dns_names_win),
        cmocka_unit_test(empty_dns_names_fall_back),
        cmocka_unit_test(invalid_names_dropped),
        cmocka_unit_test(lowercased_and_once),
        cmocka_unit_test(names_that_do_not_fit_are_dropped),
        cmocka_unit_test(missing_fields),
        cmocka_unit_test(malformed_refused),
        cmocka_unit_test(damaged_answers_never_crash),
        cmocka_unit_test(dns_name_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
