/*
 * etcd_auth.c: weft as an etcd user (issue 17): the token got with the user's
 * password (POST /v3/auth/authenticate), sent in the "Authorization" header of every
 * request, the lease keepalive and the watch stream, and got again when etcd says it
 * expired; and what a refusal means in words a user can act on.
 * Callers: etcd.c (open, each request), etcd_watch.c (each stream), any thread.
 *
 * The token changes while requests are in flight, so each request gets its own
 * header list, made under auth.lock. A refresh happens once per expired token:
 * whoever comes second sees the generation moved on and just retries.
 */
#include "store/etcd_internal.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AUTH_PATH "/v3/auth/authenticate"

/* Under auth->lock. */
static int authenticate_locked(struct etcd *etcd, struct weft_err *err)
{
    struct etcd_auth *auth = &etcd->auth;
    json_t *body = json_pack("{s:s, s:s}", "name", auth->user, "password", auth->password);
    json_t *reply;
    struct weft_err failure = {0};
    int rc = etcd_call(etcd, AUTH_PATH, body, &reply, NULL, &failure);
    if (body) { /* the password's copy inside jansson */
        json_t *pw = json_object_get(body, "password");
        const char *text = json_string_value(pw);
        if (text)
            sodium_memzero((void *)text, strlen(text));
    }
    json_decref(body);
    if (rc < 0) {
        if (err)
            *err = failure;
        return -1;
    }
    const char *token = json_string_value(json_object_get(reply, "token"));
    char *copy = token ? strdup(token) : NULL;
    json_decref(reply);
    if (!copy)
        return weft_err_set(err, token ? -ENOMEM : -EPROTO,
                            "etcd user %s: the store answered no token", auth->user);
    free(auth->token);
    auth->token = copy;
    auth->generation++;
    return 0;
}

int etcd_auth_start(struct etcd *etcd, const char *user, const char *password,
                    struct weft_err *err)
{
    struct etcd_auth *auth = &etcd->auth;
    auth->user = strdup(user);
    auth->password = strdup(password);
    if (!auth->user || !auth->password)
        return weft_err_set(err, -ENOMEM, "out of memory");
    pthread_mutex_lock(&auth->lock);
    int rc = authenticate_locked(etcd, err);
    pthread_mutex_unlock(&auth->lock);
    return rc;
}

int etcd_auth_refresh(struct etcd *etcd, unsigned generation, struct weft_err *err)
{
    struct etcd_auth *auth = &etcd->auth;
    if (!auth->user)
        return weft_err_set(err, -EACCES, "the store wants a user: give --store-user");
    pthread_mutex_lock(&auth->lock);
    int rc = auth->generation == generation ? authenticate_locked(etcd, err) : 0;
    pthread_mutex_unlock(&auth->lock);
    return rc;
}

int etcd_auth_headers(struct etcd *etcd, CURL *h, const char *path, struct curl_slist **own,
                      unsigned *generation, struct weft_err *err)
{
    struct etcd_auth *auth = &etcd->auth;
    *own = NULL;
    *generation = 0;
    /* Authenticating needs no token (and is done holding the lock). */
    if (!auth->user || strcmp(path, AUTH_PATH) == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, etcd->headers);
        return 0;
    }
    struct curl_slist *list = NULL;
    for (const struct curl_slist *s = etcd->headers; s; s = s->next) {
        struct curl_slist *next = curl_slist_append(list, s->data);
        if (!next)
            goto undo_list;
        list = next;
    }
    pthread_mutex_lock(&auth->lock);
    char *line = NULL;
    if (asprintf(&line, "Authorization: %s", auth->token ? auth->token : "") < 0)
        line = NULL;
    *generation = auth->generation;
    pthread_mutex_unlock(&auth->lock);
    struct curl_slist *next = line ? curl_slist_append(list, line) : NULL;
    if (line)
        sodium_memzero(line, strlen(line));
    free(line);
    if (!next)
        goto undo_list;
    *own = next;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, next);
    return 0;
undo_list:
    curl_slist_free_all(list);
    return weft_err_set(err, -ENOMEM, "out of memory");
}

bool etcd_auth_token_invalid(long status, const char *body, size_t len)
{
    static const char invalid[] = "invalid auth token";
    return status == 401 && body && memmem(body, len, invalid, sizeof(invalid) - 1);
}

/* The key a request names ("key" at the top, in a watch's create_request, or in a
 * txn's first operation), decoded into out; false when none. */
static bool request_key(const char *request, char *out, size_t size, bool *range)
{
    json_t *json = request ? json_loads(request, 0, NULL) : NULL;
    json_t *holder = json_object_get(json, "key") ? json : json_object_get(json, "create_request");
    const char *op_names[] = {"request_put", "request_delete_range", "request_range"};
    for (const char *list_name = "success"; !holder && list_name;
         list_name = strcmp(list_name, "success") == 0 ? "compare" : NULL) {
        json_t *first = json_array_get(json_object_get(json, list_name), 0);
        holder = json_object_get(first, "key") ? first : NULL;
        for (size_t i = 0; !holder && i < 3; i++)
            holder = json_object_get(first, op_names[i]);
    }
    const char *b64 = json_string_value(json_object_get(holder, "key"));
    *range = json_object_get(holder, "range_end") != NULL;
    size_t len = 0;
    char *key = b64 ? etcd_b64_decode(b64, &len) : NULL;
    if (key)
        snprintf(out, size, "%s", key);
    free(key);
    json_decref(json);
    return key != NULL;
}

int etcd_auth_failure(struct etcd *etcd, const char *member, const char *path,
                      const char *request, long status, const char *body, size_t len,
                      struct weft_err *err)
{
    const char *user = etcd->auth.user;
    if (strcmp(path, AUTH_PATH) == 0 && status == 400 && memmem(body, len, "authentication failed", 21))
        return weft_err_set(err, -EACCES, "etcd user %s: wrong password or no such user", user);
    if (status == 400 && memmem(body, len, "user name is empty", 18))
        return weft_err_set(err, -EACCES,
                            "store %s has authentication on: give --store-user and its password",
                            member);
    if (status == 401 && !etcd_auth_token_invalid(status, body, len))
        return weft_err_set(err, -EACCES, "store %s refused etcd user %s: %.*s", member,
                            user ? user : "(none)", (int)(len < 200 ? len : 200), body);
    if (status != 403)
        return 0;
    bool reads = strcmp(path, "/v3/kv/range") == 0 || strcmp(path, "/v3/watch") == 0;
    char key[256];
    bool range = false;
    if (!request_key(request, key, sizeof(key), &range))
        snprintf(key, sizeof(key), "%s", path);
    return weft_err_set(err, -EACCES, "permission denied on %s%s: etcd user %s's role lacks %s on %s",
                        range ? "keys under " : "", key, user ? user : "(none)",
                        reads ? "read" : "write", range ? "them" : "that key");
}

void etcd_auth_free(struct etcd_auth *auth)
{
    if (auth->password)
        sodium_memzero(auth->password, strlen(auth->password));
    if (auth->token)
        sodium_memzero(auth->token, strlen(auth->token));
    free(auth->password);
    free(auth->token);
    free(auth->user);
    auth->password = auth->token = auth->user = NULL;
}
