/*
 * store.c: the administrator's connection to etcd, and what to tell them when a
 * call fails: the store answers in its own words ("permission denied"), the
 * administrator needs to know which flag or role to change.
 */
#include "admin/admin_internal.h"

#include "common/secret_file.h"

#define ADMIN_STORE_TIMEOUT_MS 10000L

#include <string.h>

int admin_store_open(const struct admin_options *opts, struct etcd **out, struct weft_err *err)
{
    *out = NULL;
    char endpoints[1024];
    bool tls = false;
    if (etcd_url_parse(opts->store, endpoints, sizeof(endpoints), &tls, err) < 0)
        return -1;
    /* The administrator's password file is held to the daemon's rules (owner only). */
    char *password = NULL;
    if (opts->store_key && secret_file_check(opts->store_key, err) < 0)
        return -1;
    if (opts->store_password_file &&
        secret_password_read(opts->store_password_file, &password, err) < 0)
        return -1;
    struct etcd_config config = {
        .endpoints = endpoints,
        .tls = tls,
        .ca_file = opts->store_ca,
        .cert_file = opts->store_cert,
        .key_file = opts->store_key,
        .user = opts->store_user,
        .password = opts->store_user ? password : NULL,
        /* A person waits for these commands, not a container: a slow answer (a loaded
         * store, a TLS handshake on a busy machine) is better than a failed admit. */
        .timeout_ms = ADMIN_STORE_TIMEOUT_MS,
    };
    int rc = etcd_open_config(out, &config, err);
    secret_password_free(password);
    if (rc < 0)
        admin_explain(err);
    return rc;
}

/* Appends "; hint" to err's message, keeping its code. */
static void add_hint(struct weft_err *err, const char *hint)
{
    size_t used = strlen(err->msg);
    snprintf(err->msg + used, sizeof(err->msg) - used, "; %s", hint);
}

/* Whether err's message holds any of the phrases (NULL-terminated). */
static bool says(const struct weft_err *err, const char *const *phrases)
{
    for (; *phrases; phrases++)
        if (strstr(err->msg, *phrases))
            return true;
    return false;
}

void admin_explain(struct weft_err *err)
{
    /* etcd's own words, and the store client's for the same failures. */
    static const char *const no_user[] = {"user name is empty", "has authentication on",
                                          "wants a user", NULL};
    static const char *const bad_user[] = {"authentication failed", "invalid auth token",
                                           "wrong password or no such user", "refused etcd user",
                                           NULL};
    if (!err)
        return;
    if (says(err, no_user))
        add_hint(err, "etcd has authentication enabled: pass --store-user root and "
                      "--store-password-file with its password");
    else if (says(err, bad_user))
        add_hint(err, "check --store-user and --store-password-file");
    else if (err->code == -EACCES)
        add_hint(err, "permission denied: the admin user must have etcd's root role "
                      "(--store-user root)");
    else if (etcd_err_unreachable(err))
        add_hint(err, "is etcd running at --store?");
}
