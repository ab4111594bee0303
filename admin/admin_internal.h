/*
 * admin_internal.h: what the files of admin/ share (see admin.h): the command
 * line, opening the store as the administrator, password files. Only the files of
 * admin/ include this.
 */
#ifndef WEFT_ADMIN_INTERNAL_H
#define WEFT_ADMIN_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "admin/admin.h"

#define ADMIN_DEFAULT_STORE "etcd://127.0.0.1:2379"

/* A password as admit makes it: base64 of 32 random bytes (44 characters). */
#define ADMIN_PASSWORD_BYTES 32
/* Room for a password read from a file, or made, with its NUL. */
#define ADMIN_PASSWORD_MAX 256

/* The flags of weft admit and weft revoke. Strings are borrowed from argv. */
struct admin_options {
    const char *host;
    const char *password_file; /* admit: where the new password goes */
    bool rotate;               /* admit */
    const char *store;         /* --store URL */
    const char *store_ca, *store_cert, *store_key;
    const char *store_user, *store_password_file; /* the administrator (root) */
};

/* argv[0] is the command. Returns 0, 1 after printing the usage for --help, or -1
 * (err says what is wrong). admit says whether admit's own flags are allowed. */
int admin_parse_options(int argc, char **argv, bool admit, struct admin_options *opts,
                        struct weft_err *err);
void admin_usage(FILE *out, bool admit);

/* The prefixes only host writes: hosts/HOST/ and fabric/HOST/. host is valid. */
void admin_host_own_prefixes(const char *host, char hosts[WEFT_KEY_MAX], char fabric[WEFT_KEY_MAX]);

/* Opens the store named by the --store flags, as --store-user when given. */
int admin_store_open(const struct admin_options *opts, struct etcd **out, struct weft_err *err);
/* Adds to err's message what the administrator can do about it (a user without
 * etcd's root role, authentication enabled but no --store-user, no etcd there). */
void admin_explain(struct weft_err *err);

/* Fills password with a new one (NUL-terminated). */
int admin_password_new(char password[ADMIN_PASSWORD_MAX], struct weft_err *err);
/* Creates path with mode 0600 (refusing, -EEXIST, a path that exists: never
 * overwrites) and writes password to it, without a newline. On failure the file is
 * gone. */
int admin_password_file_write(const char *path, const char *password, struct weft_err *err);

#endif
