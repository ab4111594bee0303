/* test_docker_answers.c: the Docker Engine API's version, container list and event
 * answers: the version spoken is min(dockerd's, 1.47) and never below dockerd's
 * minimum (Docker 20.10: 1.41; Docker 29: 1.52 with minimum 1.44), list entries
 * without a valid Id are skipped, network connect and container rename events name
 * their container, other events are ignored and malformed ones refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "docker/answers.h"

#define CID "3f4e8c2b9a1d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f"

static int version_of(const char *json, struct docker_api_version *v)
{
    struct weft_err err = {0};
    return docker_answer_version(json, strlen(json), v, &err);
}

static void version_negotiated(void **state)
{
    (void)state;
    struct docker_api_version v;
    /* Docker 20.10 */
    assert_int_equal(version_of("{\"Version\":\"20.10.24\",\"ApiVersion\":\"1.41\","
                                "\"MinAPIVersion\":\"1.12\"}",
                                &v),
                     0);
    assert_int_equal(v.major, 1);
    assert_int_equal(v.minor, 41);
    /* Docker 29: newer than weft knows, older ones refused below 1.44 */
    assert_int_equal(version_of("{\"ApiVersion\":\"1.52\",\"MinAPIVersion\":\"1.44\"}", &v), 0);
    assert_int_equal(v.minor, 47);
    /* A later Docker whose minimum passed 1.47 */
    assert_int_equal(version_of("{\"ApiVersion\":\"1.60\",\"MinAPIVersion\":\"1.50\"}", &v), 0);
    assert_int_equal(v.minor, 50);
    /* No MinAPIVersion (old daemons) */
    assert_int_equal(version_of("{\"ApiVersion\":\"1.47\"}", &v), 0);
    assert_int_equal(v.minor, 47);
    const char *bad[] = {"",
                         "{}",
                         "[]",
                         "{\"ApiVersion\":1.41}",
                         "{\"ApiVersion\":\"2.0\"}",
                         "{\"ApiVersion\":\"1.\"}",
                         "{\"ApiVersion\":\"1.4x\"}",
                         "{\"ApiVersion\":\"1.23\"}",
                         "{\"ApiVersion\":\"1.99999\"}",
                         "nope"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(version_of(bad[i], &v), -1);
}

static void container_ids_listed(void **state)
{
    (void)state;
    const char *list =
        "[{\"Id\":\"" CID "\",\"Names\":[\"/a\"]},{\"Id\":\"../etc\"},{\"Names\":[]},"
        "7,{\"Id\":\"abc123\"}]";
    docker_id *ids;
    size_t n;
    struct weft_err err = {0};
    assert_int_equal(docker_answer_container_ids(list, strlen(list), &ids, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ids[0], CID);
    assert_string_equal(ids[1], "abc123");
    free(ids);
    assert_int_equal(docker_answer_container_ids("[]", 2, &ids, &n, &err), 0);
    assert_int_equal(n, 0);
    free(ids);
    assert_int_equal(docker_answer_container_ids("{}", 2, &ids, &n, &err), -1);
    assert_int_equal(err.code, -EPROTO);
    assert_null(ids);
    assert_int_equal(docker_answer_container_ids("[{", 2, &ids, &n, &err), -1);
}

static int event_of(const char *json, docker_id id)
{
    struct weft_err err = {0};
    return docker_answer_event(json, strlen(json), id, &err);
}

static void events_name_their_container(void **state)
{
    (void)state;
    docker_id id;
    /* As dockerd writes them (trimmed). */
    assert_int_equal(
        event_of("{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{\"ID\":\"n1\","
                 "\"Attributes\":{\"container\":\"" CID "\",\"name\":\"ov\",\"type\":\"weft\"}},"
                 "\"scope\":\"local\",\"time\":1764756000,\"timeNano\":1764756000000000000}",
                 id),
        1);
    assert_string_equal(id, CID);
    assert_int_equal(event_of("{\"status\":\"rename\",\"id\":\"abc\",\"Type\":\"container\","
                              "\"Action\":\"rename\",\"Actor\":{\"ID\":\"abc\",\"Attributes\":{"
                              "\"name\":\"new\",\"oldName\":\"/old\"}}}",
                              id),
                     1);
    assert_string_equal(id, "abc");
    /* Not ours: ignored. */
    assert_int_equal(event_of("{\"Type\":\"network\",\"Action\":\"disconnect\",\"Actor\":{}}", id),
                     0);
    assert_int_equal(event_of("{\"Type\":\"container\",\"Action\":\"connect\"}", id), 0);
    assert_int_equal(event_of("{}", id), 0);
    /* Ours but unreadable, or not JSON: refused. */
    assert_int_equal(event_of("{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{}}", id),
                     -1);
    assert_int_equal(event_of("{\"Type\":\"container\",\"Action\":\"rename\",\"Actor\":{\"ID\":"
                              "\"a/b\"}}",
                              id),
                     -1);
    assert_int_equal(event_of("[1]", id), -1);
    assert_int_equal(event_of("{\"Type\":", id), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_negotiated),
        cmocka_unit_test(container_ids_listed),
        cmocka_unit_test(events_name_their_container),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
