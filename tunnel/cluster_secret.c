/*
 * cluster_secret.c: the cluster secret's text form and its file (see
 * cluster_secret.h). Every buffer that held the secret is wiped.
 */
#include "tunnel/cluster_secret.h"

#include <string.h>

#include "common/secret_file.h"

/* Room for a file with the line and some slack (a CR, spaces): a longer file is no
 * secret file. */
#define SECRET_FILE_MAX 128

int tunnel_secret_text_new(char text[TUNNEL_SECRET_TEXT_MAX], struct weft_err *err)
{
    if (sodium_init() < 0)
        return weft_err_set(err, -EIO, "initialising libsodium failed");
    unsigned char secret[TUNNEL_SECRET_BYTES];
    randombytes_buf(secret, sizeof(secret));
    size_t prefix = sizeof(TUNNEL_SECRET_PREFIX) - 1;
    memcpy(text, TUNNEL_SECRET_PREFIX, prefix);
    sodium_bin2base64(text + prefix, TUNNEL_SECRET_TEXT_MAX - prefix, secret, sizeof(secret),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(secret, sizeof(secret));
    size_t end = prefix + TUNNEL_SECRET_B64_LEN;
    text[end] = '\n';
    text[end + 1] = '\0';
    return 0;
}

int tunnel_secret_parse(const char *text, size_t len, struct tunnel_secret *out,
                        struct weft_err *err)
{
    size_t prefix = sizeof(TUNNEL_SECRET_PREFIX) - 1;
    if (len > 0 && text[len - 1] == '\n')
        len--;
    if (len < prefix || memcmp(text, TUNNEL_SECRET_PREFIX, prefix) != 0)
        return weft_err_set(err, -EINVAL,
                            "not a weft secret: the file must hold one line "
                            "\"" TUNNEL_SECRET_PREFIX "...\" as `weft keygen` writes it");
    const char *b64 = text + prefix, *end = NULL;
    size_t b64_len = len - prefix, bin_len = 0;
    int rc = sodium_base642bin(out->key, sizeof(out->key), b64, b64_len, NULL, &bin_len, &end,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (rc != 0 || end != b64 + b64_len || bin_len != sizeof(out->key)) {
        sodium_memzero(out->key, sizeof(out->key));
        return weft_err_set(err, -EINVAL,
                            "not a weft secret: after \"" TUNNEL_SECRET_PREFIX "\" must come "
                            "%zu base64url characters and nothing else (make one with `weft "
                            "keygen`)",
                            (size_t)TUNNEL_SECRET_B64_LEN);
    }
    return 0;
}

int tunnel_secret_read(const char *path, struct tunnel_secret **out, struct weft_err *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return weft_err_set(err, -EIO, "initialising libsodium failed");
    char *text = sodium_malloc(SECRET_FILE_MAX);
    struct tunnel_secret *secret = sodium_malloc(sizeof(*secret));
    if (!text || !secret) {
        sodium_free(text);
        sodium_free(secret);
        return weft_err_set(err, -ENOMEM, "out of memory (or locked memory) for the secret");
    }
    size_t len = 0;
    int rc = secret_file_read(path, text, SECRET_FILE_MAX, &len, err);
    if (rc < 0 && err && err->code == -EFBIG)
        weft_err_set(err, -EINVAL, "%s: too long for a weft secret (make one with `weft keygen`)",
                     path);
    else if (rc == 0 && (rc = tunnel_secret_parse(text, len, secret, err)) < 0)
        weft_err_wrap(err, "%s", path);
    sodium_free(text); /* wipes it */
    if (rc < 0) {
        sodium_free(secret);
        return -1;
    }
    sodium_mprotect_readonly(secret);
    *out = secret;
    return 0;
}

void tunnel_secret_free(struct tunnel_secret *secret)
{
    sodium_free(secret); /* NULL is fine; wipes before unmapping */
}
