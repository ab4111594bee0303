/* records.c: JSON text of the etcd records declared in records.h (jansson). */
#include "store/records.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* A field table per record keeps each encoder and decoder to one line per field. */
enum field_kind { FIELD_TEXT, FIELD_U32, FIELD_INT, FIELD_FLAG };

struct field {
    const char *name;
    enum field_kind kind;
    size_t offset;
    int optional; /* may be absent: integers read as 0, text as "" (and "" is not written) */
    size_t size;  /* text: the member's size, its terminating NUL included */
};

#define MEMBER_SIZE(type, member) sizeof(((type *)0)->member)
#define TEXT(type, member)                                                                         \
    {                                                                                              \
#member, FIELD_TEXT, offsetof(type, member), 0, MEMBER_SIZE(type, member)                  \
    }
#define TEXT_OPT(type, member)                                                                     \
    {                                                                                              \
#member, FIELD_TEXT, offsetof(type, member), 1, MEMBER_SIZE(type, member)                  \
    }
#define U32(type, member)                                                                          \
    {                                                                                              \
#member, FIELD_U32, offsetof(type, member), 0, 0                                           \
    }
#define INT_OPT(type, member)                                                                      \
    {                                                                                              \
#member, FIELD_INT, offsetof(type, member), 1, 0                                           \
    }

/* A bool written only when true ("encrypted": true), so records without it keep the
 * text they always had (publish_member_joining compares an overlay record's text). */
#define FLAG(type, member)                                                                         \
    {                                                                                              \
#member, FIELD_FLAG, offsetof(type, member), 1, 0                                          \
    }

static const struct field overlay_fields[] = {TEXT(struct overlay_record, subnet),
                                              U32(struct overlay_record, vni),
                                              INT_OPT(struct overlay_record, mtu),
                                              FLAG(struct overlay_record, encrypted),
                                              TEXT_OPT(struct overlay_record, subnet6),
                                              TEXT_OPT(struct overlay_record, extra_subnets),
                                              TEXT_OPT(struct overlay_record, extra_subnets6),
                                              {NULL, 0, 0, 0, 0}};
static const struct field addr_fields[] = {TEXT(struct addr_record, host),
                                           TEXT(struct addr_record, kind),
                                           TEXT_OPT(struct addr_record, claim),
                                           {NULL, 0, 0, 0, 0}};
static const struct field pool_fields[] = {TEXT(struct pool_record, subnet),
                                           TEXT_OPT(struct pool_record, range),
                                           {NULL, 0, 0, 0, 0}};
static const struct field peer_fields[] = {TEXT(struct peer_record, ip),
                                           TEXT_OPT(struct peer_record, mac),
                                           TEXT(struct peer_record, vtep),
                                           TEXT_OPT(struct peer_record, names),
                                           TEXT_OPT(struct peer_record, ip6),
                                           {NULL, 0, 0, 0, 0}};
static const struct field member_fields[] = {TEXT(struct member_record, vtep),
                                             TEXT_OPT(struct member_record, key),
                                             TEXT_OPT(struct member_record, ciphers),
                                             TEXT_OPT(struct member_record, offloads),
                                             {NULL, 0, 0, 0, 0}};
static const struct field host_network_fields[] = {TEXT(struct host_network_record, network_id),
                                                   TEXT(struct host_network_record, subnet),
                                                   U32(struct host_network_record, vni),
                                                   INT_OPT(struct host_network_record, mtu),
                                                   TEXT_OPT(struct host_network_record, gateway),
                                                   FLAG(struct host_network_record, encrypted),
                                                   TEXT_OPT(struct host_network_record, subnet6),
                                                   TEXT_OPT(struct host_network_record,
                                                            extra_subnets),
                                                   TEXT_OPT(struct host_network_record,
                                                            extra_subnets6),
                                                   {NULL, 0, 0, 0, 0}};
static const struct field host_endpoint_fields[] = {TEXT(struct host_endpoint_record, endpoint_id),
                                                    TEXT(struct host_endpoint_record, network_id),
                                                    TEXT(struct host_endpoint_record, ip),
                                                    TEXT(struct host_endpoint_record, mac),
                                                    TEXT_OPT(struct host_endpoint_record, ifname),
                                                    TEXT_OPT(struct host_endpoint_record, names),
                                                    TEXT_OPT(struct host_endpoint_record, ip6),
                                                    {NULL, 0, 0, 0, 0}};

static char *encode(const struct field *fields, const void *rec)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (const struct field *f = fields; f->name; f++) {
        const char *base = (const char *)rec + f->offset;
        json_t *value = NULL;
        switch (f->kind) {
        case FIELD_TEXT:
            if (f->optional && !base[0])
                continue;
            value = json_string(base);
            break;
        case FIELD_U32:
            value = json_integer(*(const uint32_t *)(const void *)base);
            break;
        case FIELD_INT:
            value = json_integer(*(const int *)(const void *)base);
            break;
        case FIELD_FLAG:
            if (!*(const bool *)(const void *)base)
                continue;
            value = json_true();
            break;
        }
        if (!value || json_object_set_new(obj, f->name, value) < 0) {
            json_decref(obj);
            return NULL;
        }
    }
    char *text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(obj);
    return text;
}

static int decode(const struct field *fields, const char *what, const char *text, void *rec,
                  size_t rec_size, struct weft_err *err)
{
    memset(rec, 0, rec_size);
    json_error_t jerr;
    json_t *obj = json_loads(text ? text : "", 0, &jerr);
    if (!obj || !json_is_object(obj)) {
        json_decref(obj);
        return weft_err_set(err, -EPROTO, "%s record is not a JSON object", what);
    }
    int rc = 0;
    for (const struct field *f = fields; f->name && rc == 0; f++) {
        char *base = (char *)rec + f->offset;
        json_t *value = json_object_get(obj, f->name);
        if (!value && f->optional)
            continue;
        if (f->kind == FIELD_TEXT) {
            const char *s = json_string_value(value);
            if (!s || strlen(s) >= f->size)
                rc = weft_err_set(err, -EPROTO, "%s record: field %s missing or too long", what,
                                  f->name);
            else
                memcpy(base, s, strlen(s) + 1);
            continue;
        }
        if (f->kind == FIELD_FLAG) {
            if (!json_is_boolean(value))
                rc = weft_err_set(err, -EPROTO, "%s record: field %s must be true or false", what,
                                  f->name);
            else
                *(bool *)(void *)base = json_is_true(value);
            continue;
        }
        if (!json_is_integer(value))
            rc = weft_err_set(err, -EPROTO, "%s record: field %s must be an integer", what,
                              f->name);
        else if (f->kind == FIELD_U32) {
            json_int_t n = json_integer_value(value);
            if (n < 0 || n > (json_int_t)UINT32_MAX)
                rc = weft_err_set(err, -EPROTO, "%s record: field %s out of range", what, f->name);
            else
                *(uint32_t *)(void *)base = (uint32_t)n;
        } else {
            json_int_t n = json_integer_value(value);
            if (n < 0 || n > 65535)
                rc = weft_err_set(err, -EPROTO, "%s record: field %s out of range", what, f->name);
            else
                *(int *)(void *)base = (int)n;
        }
    }
    json_decref(obj);
    return rc;
}

#define RECORD_CODEC(name, fields, what)                                                           \
    char *name##_record_encode(const struct name##_record *rec)                                    \
    {                                                                                              \
        return encode(fields, rec);                                                                \
    }                                                                                              \
    int name##_record_decode(const char *text, struct name##_record *rec, struct weft_err *err)    \
    {                                                                                              \
        return decode(fields, what, text, rec, sizeof(*rec), err);                                 \
    }

RECORD_CODEC(overlay, overlay_fields, "overlay")
RECORD_CODEC(addr, addr_fields, "address")
RECORD_CODEC(pool, pool_fields, "pool")
RECORD_CODEC(peer, peer_fields, "peer")
RECORD_CODEC(member, member_fields, "member")
RECORD_CODEC(host_network, host_network_fields, "host network")
RECORD_CODEC(host_endpoint, host_endpoint_fields, "host endpoint")
