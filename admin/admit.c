/*
 * admit.c: weft admit HOST: the host's own etcd user, its role, its password file
 * (see admin.h). The password file is written first, so that a password etcd
 * accepted is never lost; every later failure removes what this run made, file
 * included.
 */
#include "admin/admin_internal.h"

#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Appends to err that undoing a step failed too, and what is left behind. */
static void note_leftover(struct weft_err *err, const char *what, const char *host)
{
    size_t used = strlen(err->msg);
    snprintf(err->msg + used, sizeof(err->msg) - used,
             " (and removing etcd %s again failed: weft revoke %s removes it)", what, host);
}

/* Grants the role every prefix a host's role holds (admin_host_grants). etcd adds a
 * grant the role has already as a no-op, so this also brings a role granted by an
 * older weft up to date. */
static int grant_host_prefixes(struct etcd *etcd, const char *role, const char *host,
                               struct weft_err *err)
{
    struct admin_grant grants[ADMIN_GRANTS_MAX];
    size_t n = admin_host_grants(host, grants);
    for (size_t i = 0; i < n; i++)
        if (etcd_role_grant_prefix(etcd, role, grants[i].prefix, grants[i].perm, err) < 0)
            return weft_err_wrap(err, "granting %s on %s to etcd role %s",
                                 etcd_perm_name(grants[i].perm), grants[i].prefix, role);
    return 0;
}

/* The role with its grants; on failure none is left (unless removing it failed). */
static int make_role(struct etcd *etcd, const char *role, const char *host, struct weft_err *err)
{
    if (etcd_role_add(etcd, role, err) < 0) {
        if (err->code == -EEXIST)
            return weft_err_set(err, -EEXIST,
                                "etcd role %s exists without its user (left from an earlier "
                                "admit?): weft revoke %s removes it, then admit again",
                                role, host);
        return weft_err_wrap(err, "creating etcd role %s", role);
    }
    if (grant_host_prefixes(etcd, role, host, err) < 0) {
        if (etcd_role_delete(etcd, role, NULL) < 0)
            note_leftover(err, "role", host);
        return -1;
    }
    return 0;
}

/* A new host: role, user, the role granted to the user. */
static int admit_new(struct etcd *etcd, const char *user, const char *host, const char *password,
                     struct weft_err *err)
{
    if (make_role(etcd, user, host, err) < 0)
        return -1;
    if (etcd_user_add(etcd, user, password, err) < 0) {
        weft_err_wrap(err, "creating etcd user %s", user);
        goto undo_role;
    }
    if (etcd_user_grant_role(etcd, user, user, err) < 0) {
        weft_err_wrap(err, "granting etcd role %s to user %s", user, user);
        goto undo_user;
    }
    return 0;
undo_user:
    if (etcd_user_delete(etcd, user, NULL) < 0)
        note_leftover(err, "user", host);
undo_role:
    if (etcd_role_delete(etcd, user, NULL) < 0)
        note_leftover(err, "role", host);
    return -1;
}

/* Whether the host's user exists, refusing what the request cannot do. */
static int check_existing(struct etcd *etcd, const struct admit_request *req, const char *user,
                          struct weft_err *err)
{
    bool found;
    if (etcd_user_get(etcd, user, &found, NULL, err) < 0)
        return weft_err_wrap(err, "looking up etcd user %s", user);
    if (found && !req->rotate)
        return weft_err_set(err, -EEXIST,
                            "host %s is admitted already (etcd user %s exists): weft admit %s "
                            "--rotate gives it a new password, weft revoke %s removes it",
                            req->host, user, req->host, req->host);
    if (!found && req->rotate)
        return weft_err_set(err, -ENOENT,
                            "host %s is not admitted (no etcd user %s): run weft admit %s "
                            "without --rotate",
                            req->host, user, req->host);
    return 0;
}

int admin_admit(struct etcd *etcd, const struct admit_request *req, struct admit_result *out,
                struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    if (admin_host_names(req->host, out->user, err) < 0)
        return -1;
    if (req->password_file)
        snprintf(out->password_file, sizeof(out->password_file), "%s", req->password_file);
    else
        snprintf(out->password_file, sizeof(out->password_file), "weft-%s.password", req->host);
    char password[ADMIN_PASSWORD_MAX];
    if (admin_password_new(password, err) < 0)
        return -1;
    int rc = -1;
    if (admin_password_file_write(out->password_file, password, err) < 0)
        goto out;
    if (check_existing(etcd, req, out->user, err) < 0)
        goto undo_file;
    if (req->rotate) {
        /* Grants first: a failure then leaves the old password in force, and extra
         * grants are only those the host's role should have. */
        if (grant_host_prefixes(etcd, out->user, req->host, err) < 0)
            goto undo_file;
        if (etcd_user_changepw(etcd, out->user, password, err) < 0) {
            weft_err_wrap(err, "changing the password of etcd user %s", out->user);
            goto undo_file;
        }
    } else if (admit_new(etcd, out->user, req->host, password, err) < 0) {
        goto undo_file;
    }
    rc = 0;
    goto out;
undo_file:
    unlink(out->password_file);
    admin_explain(err);
out:
    sodium_memzero(password, sizeof(password));
    return rc;
}

int admin_admit_main(int argc, char **argv)
{
    struct admin_options opts;
    struct weft_err err = {0};
    int parsed = admin_parse_options(argc, argv, true, &opts, &err);
    if (parsed != 0) {
        if (parsed < 0)
            fprintf(stderr, "weft admit: %s\n", err.msg);
        return parsed < 0 ? 2 : 0;
    }
    char user[ADMIN_NAME_MAX];
    if (admin_host_names(opts.host, user, &err) < 0) {
        fprintf(stderr, "weft admit: %s\n", err.msg);
        return 2;
    }
    struct etcd *etcd;
    if (admin_store_open(&opts, &etcd, &err) < 0) {
        fprintf(stderr, "weft admit: %s\n", err.msg);
        return 1;
    }
    struct admit_request req = {opts.host, opts.password_file, opts.rotate};
    struct admit_result result;
    int rc = admin_admit(etcd, &req, &result, &err);
    etcd_close(etcd);
    if (rc < 0) {
        fprintf(stderr, "weft admit: %s\n", err.msg);
        return 1;
    }
    char where[4096];
    if (!realpath(result.password_file, where))
        snprintf(where, sizeof(where), "%s", result.password_file);
    printf("%s host %s: etcd user %s, password in %s (mode 0600)\n",
           opts.rotate ? "new password for" : "admitted", opts.host, result.user, where);
    printf("copy that file to the host, readable only by weft's user, and start its daemon "
           "with:\n  weft daemon --advertise %s --store-user %s --store-password-file %s\n",
           opts.host, result.user, where);
    return 0;
}
