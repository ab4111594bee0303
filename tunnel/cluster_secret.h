/*
 * cluster_secret.h: the cluster secret of encrypted overlays (issue 11): 32 random
 * bytes every host of the cluster holds in a file, made by `weft keygen`.
 *
 * Owns: the secret's text form, one line "weft-secret-v1:" followed by the 32 bytes
 * in unpadded URL-safe base64 (43 characters) and a newline; reading a secret file
 * (regular, mode 0600 or stricter, checked as common/secret_file.h checks every
 * secret, on the open file) into locked memory (sodium_malloc); the `weft keygen`
 * command (keygen.c). Messages name the file and what to do, never the secret.
 * Callers: daemon/main.c (keygen, and --secret-file at start-up), tunnel/host_keys.c
 * (the secret keys the pairwise derivation), tests. Thread-safe: no shared state; a
 * struct tunnel_secret is read-only once read, so threads may share it.
 */
#ifndef WEFT_TUNNEL_CLUSTER_SECRET_H
#define WEFT_TUNNEL_CLUSTER_SECRET_H

#include <sodium.h>
#include <stddef.h>

#include "common/err.h"

#define TUNNEL_SECRET_BYTES 32
#define TUNNEL_SECRET_PREFIX "weft-secret-v1:"
/* The base64 characters of a secret (43), without a NUL. */
#define TUNNEL_SECRET_B64_LEN                                                                      \
    (sodium_base64_ENCODED_LEN(TUNNEL_SECRET_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1)
/* The whole line with its newline and a NUL. */
#define TUNNEL_SECRET_TEXT_MAX (sizeof(TUNNEL_SECRET_PREFIX) - 1 + TUNNEL_SECRET_B64_LEN + 2)

/* Lives in sodium_malloc'd memory (guarded, locked, wiped when freed). */
struct tunnel_secret {
    unsigned char key[TUNNEL_SECRET_BYTES];
};

/* Makes a new random secret in text form, "weft-secret-v1:...\n" with a NUL. The
 * caller wipes text (sodium_memzero) once written out. */
int tunnel_secret_text_new(char text[TUNNEL_SECRET_TEXT_MAX], struct weft_err *err);

/* Parses text (len bytes, one trailing newline allowed) into out. -EINVAL with a
 * message saying what the line should look like; out is wiped on failure. */
int tunnel_secret_parse(const char *text, size_t len, struct tunnel_secret *out,
                        struct weft_err *err);

/* Reads and parses the secret file at path into a new *out (free with
 * tunnel_secret_free). Errors name the path: a mode that lets others in (-EPERM,
 * with the chmod that fixes it), not a regular file or not a secret (-EINVAL). */
int tunnel_secret_read(const char *path, struct tunnel_secret **out, struct weft_err *err);

/* Wipes and frees a secret from tunnel_secret_read; NULL is fine. */
void tunnel_secret_free(struct tunnel_secret *secret);

/* `weft keygen`: prints a new secret on stdout; argv[0] is "keygen". When stdout is
 * a regular file that others could read it is made 0600 first. Exit status 0, 1
 * failed, 2 bad command line. */
int tunnel_keygen_main(int argc, char **argv);

#endif
