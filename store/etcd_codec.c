/*
 * etcd_codec.c: what the etcd gateway's JSON is made of (see etcd_internal.h).
 *
 * Owns base64 (libsodium's, standard alphabet and padded: the gateway rejects
 * anything else), range ends for prefixes, and the JSON pieces every call
 * builds or reads (64-bit numbers as strings, keys and values as base64, kvs).
 * Pure functions, thread-safe; libsodium is started once per process.
 */
#include "store/etcd_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_result = -1; /* sodium_init: 0 started, 1 already started, -1 failed */

static void sodium_start(void)
{
    sodium_result = sodium_init();
}

int etcd_codec_init(struct weft_err *err)
{
    pthread_once(&sodium_once, sodium_start);
    if (sodium_result < 0)
        return weft_err_set(err, -EIO, "initialising libsodium failed");
    return 0;
}

char *etcd_b64_encode(const char *data, size_t len)
{
    /* libsodium aborts on lengths whose encoding overflows: refuse them first. */
    if ((!data && len > 0) || len >= SIZE_MAX / 4 * 3 || etcd_codec_init(NULL) < 0)
        return NULL;
    size_t size = sodium_base64_ENCODED_LEN(len, B64_VARIANT); /* with the NUL */
    char *out = malloc(size);
    if (!out)
        return NULL;
    sodium_bin2base64(out, size, (const unsigned char *)data, len, B64_VARIANT);
    return out;
}

/* etcd_b64_decode with the reason: 0, -EPROTO (not padded standard base64), -ENOMEM. */
static int b64_decode(const char *b64, char **out, size_t *len)
{
    *out = NULL;
    if (!b64)
        return -EPROTO;
    if (etcd_codec_init(NULL) < 0)
        return -ENOMEM;
    size_t in_len = strlen(b64);
    size_t max = in_len / 4 * 3 + 3; /* room for a malformed tail, refused below */
    unsigned char *bin = malloc(max + 1);
    if (!bin)
        return -ENOMEM;
    size_t n = 0;
    /* No characters to ignore and no end pointer: all of b64 must decode, padding
     * included, or the call fails. */
    if (sodium_base642bin(bin, max, b64, in_len, NULL, &n, NULL, B64_VARIANT) != 0) {
        free(bin);
        return -EPROTO;
    }
    bin[n] = '\0';
    *out = (char *)bin;
    if (len)
        *len = n;
    return 0;
}

char *etcd_b64_decode(const char *b64, size_t *len)
{
    char *out;
    b64_decode(b64, &out, len);
    return out;
}

size_t etcd_prefix_end_in_place(char *prefix)
{
    /* Strip trailing 0xff bytes (they cannot be incremented), then bump the last byte. */
    size_t n = strlen(prefix);
    while (n > 0 && (unsigned char)prefix[n - 1] == 0xff)
        prefix[--n] = '\0';
    if (n > 0)
        prefix[n - 1] = (char)((unsigned char)prefix[n - 1] + 1);
    return n;
}

char *etcd_prefix_end(const char *prefix)
{
    char *end = strdup(prefix ? prefix : "");
    if (end)
        etcd_prefix_end_in_place(end); /* "": no upper bound */
    return end;
}

int64_t etcd_json_int64(json_t *object, const char *field)
{
    json_t *v = json_object_get(object, field);
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_string(v))
        return strtoll(json_string_value(v), NULL, 10);
    return 0;
}

const char *etcd_json_reason(json_t *object, const char *field)
{
    const char *text = json_string_value(json_object_get(object, field));
    return text && text[0] ? text : NULL;
}

json_t *etcd_json_int64_string(int64_t n)
{
    char text[32];
    snprintf(text, sizeof(text), "%" PRId64, n);
    return json_string(text);
}

json_t *etcd_json_b64(const char *data, size_t len)
{
    char *text = etcd_b64_encode(data, len);
    if (!text)
        return NULL;
    json_t *s = json_string(text);
    free(text);
    return s;
}

json_t *etcd_json_range_end(const char *prefix)
{
    char *end = etcd_prefix_end(prefix);
    if (!end)
        return NULL;
    /* The empty end would mean "just this key"; a single NUL byte means "everything". */
    json_t *s = end[0] ? etcd_json_b64(end, strlen(end)) : etcd_json_b64("", 1);
    free(end);
    return s;
}

json_t *etcd_json_key_object(const char *key)
{
    return json_pack("{s:o}", "key", etcd_json_b64(key, strlen(key)));
}

int etcd_kv_from_json(json_t *json, struct etcd_kv *out)
{
    memset(out, 0, sizeof(*out));
    const char *key = json_string_value(json_object_get(json, "key"));
    const char *value = json_string_value(json_object_get(json, "value"));
    int rc = b64_decode(key, &out->key, NULL);
    if (rc == 0 && value)
        rc = b64_decode(value, &out->value, NULL);
    else if (rc == 0 && !(out->value = strdup(""))) /* empty values are omitted */
        rc = -ENOMEM;
    if (rc < 0) {
        etcd_kv_clear(out);
        return rc;
    }
    out->create_revision = etcd_json_int64(json, "create_revision");
    out->mod_revision = etcd_json_int64(json, "mod_revision");
    out->lease = etcd_json_int64(json, "lease");
    return 0;
}

void etcd_kv_clear(struct etcd_kv *kv)
{
    if (!kv)
        return;
    free(kv->key);
    free(kv->value);
    memset(kv, 0, sizeof(*kv));
}

void etcd_kvs_free(struct etcd_kvs *kvs)
{
    if (!kvs)
        return;
    for (size_t i = 0; i < kvs->count; i++)
        etcd_kv_clear(&kvs->items[i]);
    free(kvs->items);
    memset(kvs, 0, sizeof(*kvs));
}
