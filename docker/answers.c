/*
 * answers.c: the version, container list and event answers of the Docker Engine
 * API read into what the follower needs (see answers.h). Pure.
 */
#include "docker/answers.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* "1.<minor>" with 1..3 digits; false for anything else. */
static bool read_version(const json_t *v, int *minor)
{
    const char *s = json_string_value(v);
    if (!s || strncmp(s, "1.", 2) != 0 || json_string_length(v) > 5)
        return false;
    int n = 0;
    const char *p = s + 2;
    for (; *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (*p - '0');
    if (*p || p == s + 2)
        return false;
    *minor = n;
    return true;
}

int docker_answer_version(const char *json, size_t len, struct docker_api_version *out,
                          struct weft_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return weft_err_set(err, -EPROTO, "docker version answer is not JSON: %s", jerr.text);
    int newest, oldest, rc = 0;
    if (!read_version(json_object_get(root, "ApiVersion"), &newest)) {
        rc = weft_err_set(err, -EPROTO, "docker version answer has no ApiVersion 1.<n>");
        goto out;
    }
    if (newest < DOCKER_API_MINOR_MIN) {
        rc = weft_err_set(err, -EPROTO, "docker speaks API 1.%d, weft needs 1.%d or newer", newest,
                          DOCKER_API_MINOR_MIN);
        goto out;
    }
    out->major = DOCKER_API_MAJOR;
    out->minor = newest < DOCKER_API_MINOR_MAX ? newest : DOCKER_API_MINOR_MAX;
    if (read_version(json_object_get(root, "MinAPIVersion"), &oldest) && oldest > out->minor &&
        oldest <= newest)
        out->minor = oldest;
out:
    json_decref(root);
    return rc;
}

/* Copies a string that is an ID into id; false otherwise. */
static bool copy_id(const json_t *v, docker_id id)
{
    const char *s = json_string_value(v);
    if (!s || json_string_length(v) > DOCKER_ID_MAX || strlen(s) != json_string_length(v) ||
        !docker_id_valid(s))
        return false;
    memcpy(id, s, json_string_length(v) + 1);
    return true;
}

int docker_answer_container_ids(const char *json, size_t len, docker_id **ids, size_t *count,
                                struct weft_err *err)
{
    *ids = NULL;
    *count = 0;
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return weft_err_set(err, -EPROTO, "docker container list is not JSON: %s", jerr.text);
    int rc = 0;
    if (!json_is_array(root)) {
        rc = weft_err_set(err, -EPROTO, "docker container list is not an array");
        goto out;
    }
    size_t n = json_array_size(root), i;
    if (n > 0 && !(*ids = calloc(n, sizeof(**ids)))) {
        rc = weft_err_set(err, -ENOMEM, "no memory for %zu container IDs", n);
        goto out;
    }
    const json_t *c;
    json_array_foreach(root, i, c)
    {
        if (copy_id(json_object_get(c, "Id"), (*ids)[*count]))
            (*count)++;
    }
out:
    json_decref(root);
    return rc;
}

static bool string_is(const json_t *v, const char *want)
{
    return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

int docker_answer_event(const char *json, size_t len, docker_id id, struct weft_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return weft_err_set(err, -EPROTO, "docker event is not JSON: %s", jerr.text);
    int rc = 0;
    const json_t *type = json_object_get(root, "Type"), *action = json_object_get(root, "Action");
    const json_t *actor = json_object_get(root, "Actor"), *who = NULL;
    bool wanted = true;
    if (!json_is_object(root)) {
        json_decref(root);
        return weft_err_set(err, -EPROTO, "docker event is not a JSON object");
    }
    if (string_is(type, "network") && string_is(action, "connect"))
        who = json_object_get(json_object_get(actor, "Attributes"), "container");
    else if (string_is(type, "container") && string_is(action, "rename"))
        who = json_object_get(actor, "ID");
    else
        wanted = false;
    if (wanted)
        rc = copy_id(who, id) ? 1
                              : weft_err_set(err, -EPROTO, "docker %s event names no container ID",
                                             json_string_value(action));
    json_decref(root);
    return rc;
}
