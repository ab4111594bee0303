/*
 * etcd_rbac.c: etcd's users and roles over the JSON gateway (see etcd_rbac.h).
 *
 * The gateway of etcd 3.4 answers a missing or existing user or role with HTTP 412
 * (gRPC FailedPrecondition), which etcd_call reports as -EIO: the kind is read back
 * from etcd's message here, the one place that knows these calls.
 */
#include "store/etcd_rbac.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_internal.h"

static const char *const perm_names[] = {"READ", "WRITE", "READWRITE"};

const char *etcd_perm_name(enum etcd_perm perm)
{
    return (unsigned)perm < 3 ? perm_names[perm] : "?";
}

/* etcd_call on an auth path, giving "not found" and "already exists" their kinds.
 * Consumes body; wipes its "password" field first (the answer never holds one). */
static int auth_call(struct etcd *etcd, const char *path, json_t *body, json_t **reply,
                     struct weft_err *err)
{
    json_t *answer = NULL;
    int rc = body ? etcd_call(etcd, path, body, &answer, NULL, err)
                  : weft_err_set(err, -ENOMEM, "out of memory building %s", path);
    json_t *password = json_object_get(body, "password");
    if (json_is_string(password))
        sodium_memzero((char *)json_string_value(password), json_string_length(password));
    json_decref(body);
    if (rc < 0) {
        if (err && err->code == -EIO && strstr(err->msg, " not found"))
            err->code = -ENOENT;
        else if (err && err->code == -EIO && strstr(err->msg, " already exists"))
            err->code = -EEXIST;
        return -1;
    }
    if (reply)
        *reply = answer;
    else
        json_decref(answer);
    return 0;
}

int etcd_user_add(struct etcd *etcd, const char *name, const char *password, struct weft_err *err)
{
    return auth_call(etcd, "/v3/auth/user/add",
                     json_pack("{s:s, s:s}", "name", name, "password", password), NULL, err);
}

int etcd_user_delete(struct etcd *etcd, const char *name, struct weft_err *err)
{
    return auth_call(etcd, "/v3/auth/user/delete", json_pack("{s:s}", "name", name), NULL, err);
}

int etcd_user_changepw(struct etcd *etcd, const char *name, const char *password,
                       struct weft_err *err)
{
    return auth_call(etcd, "/v3/auth/user/changepw",
                     json_pack("{s:s, s:s}", "name", name, "password", password), NULL, err);
}

int etcd_user_grant_role(struct etcd *etcd, const char *user, const char *role,
                         struct weft_err *err)
{
    return auth_call(etcd, "/v3/auth/user/grant", json_pack("{s:s, s:s}", "user", user, "role", role),
                     NULL, err);
}

/* A JSON array of strings into names (which it fills or leaves empty). */
static int names_from_json(json_t *array, struct etcd_names *names, struct weft_err *err)
{
    *names = (struct etcd_names){0};
    size_t n = json_array_size(array);
    if (n == 0)
        return 0;
    names->items = calloc(n, sizeof(*names->items));
    if (!names->items)
        return weft_err_set(err, -ENOMEM, "out of memory reading a user's roles");
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(array, i));
        names->items[i] = name ? strdup(name) : NULL;
        names->count++;
        if (!names->items[i]) {
            etcd_names_free(names);
            return weft_err_set(err, name ? -ENOMEM : -EPROTO, "store answered unreadable roles");
        }
    }
    return 0;
}

int etcd_user_get(struct etcd *etcd, const char *name, bool *found, struct etcd_names *roles,
                  struct weft_err *err)
{
    *found = false;
    if (roles)
        *roles = (struct etcd_names){0};
    json_t *reply;
    struct weft_err mine = {0};
    if (auth_call(etcd, "/v3/auth/user/get", json_pack("{s:s}", "name", name), &reply, &mine) < 0) {
        if (mine.code == -ENOENT)
            return 0;
        if (err)
            *err = mine;
        return -1;
    }
    int rc = roles ? names_from_json(json_object_get(reply, "roles"), roles, err) : 0;
    json_decref(reply);
    *found = rc == 0;
    return rc;
}

int etcd_role_add(struct etcd *etcd, const char *name, struct weft_err *err)
{
    return auth_call(etcd, "/v3/auth/role/add", json_pack("{s:s}", "name", name), NULL, err);
}

int etcd_role_delete(struct etcd *etcd, const char *name, struct weft_err *err)
{
    return auth_call(etcd, "/v3/auth/role/delete", json_pack("{s:s}", "role", name), NULL, err);
}

int etcd_role_grant_prefix(struct etcd *etcd, const char *role, const char *prefix,
                           enum etcd_perm perm, struct weft_err *err)
{
    json_t *body = json_pack("{s:s, s:{s:s, s:o, s:o}}", "name", role, "perm", "permType",
                             etcd_perm_name(perm), "key", etcd_json_b64(prefix, strlen(prefix)),
                             "range_end", etcd_json_range_end(prefix));
    return auth_call(etcd, "/v3/auth/role/grant", body, NULL, err);
}

/* One {"permType"?, "key", "range_end"?} of a role/get answer; the gateway leaves
 * out fields at their default (READ, an empty range_end). */
static int grant_from_json(json_t *json, struct etcd_grant *out)
{
    const char *type = json_string_value(json_object_get(json, "permType"));
    out->perm = ETCD_PERM_READ;
    for (int p = 0; type && p < 3; p++)
        if (strcmp(type, perm_names[p]) == 0)
            out->perm = (enum etcd_perm)p;
    const char *range_end = json_string_value(json_object_get(json, "range_end"));
    out->key = etcd_b64_decode(json_string_value(json_object_get(json, "key")), NULL);
    out->range_end = range_end ? etcd_b64_decode(range_end, NULL) : strdup("");
    return out->key && out->range_end ? 0 : -1;
}

int etcd_role_get(struct etcd *etcd, const char *name, bool *found, struct etcd_grants *grants,
                  struct weft_err *err)
{
    *found = false;
    *grants = (struct etcd_grants){0};
    json_t *reply;
    struct weft_err mine = {0};
    if (auth_call(etcd, "/v3/auth/role/get", json_pack("{s:s}", "role", name), &reply, &mine) < 0) {
        if (mine.code == -ENOENT)
            return 0;
        if (err)
            *err = mine;
        return -1;
    }
    json_t *perms = json_object_get(reply, "perm");
    size_t n = json_array_size(perms);
    int rc = 0;
    grants->items = n ? calloc(n, sizeof(*grants->items)) : NULL;
    if (n && !grants->items)
        rc = weft_err_set(err, -ENOMEM, "out of memory reading role %s", name);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        grants->count++;
        if (grant_from_json(json_array_get(perms, i), &grants->items[i]) < 0)
            rc = weft_err_set(err, -EPROTO, "store answered an unreadable permission of role %s",
                              name);
    }
    json_decref(reply);
    if (rc < 0)
        etcd_grants_free(grants);
    *found = rc == 0;
    return rc;
}

void etcd_grants_free(struct etcd_grants *grants)
{
    for (size_t i = 0; i < grants->count; i++) {
        free(grants->items[i].key);
        free(grants->items[i].range_end);
    }
    free(grants->items);
    *grants = (struct etcd_grants){0};
}

void etcd_names_free(struct etcd_names *names)
{
    for (size_t i = 0; i < names->count; i++)
        free(names->items[i]);
    free(names->items);
    *names = (struct etcd_names){0};
}
