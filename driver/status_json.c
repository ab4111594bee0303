/*
 * status_json.c: struct weft_status to JSON and back (status_json.h). One encoder
 * and one decoder per section, in the document's order; docs/status.md lists
 * the same fields.
 */
#include "driver/status_json.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *encode_store(const struct etcd_status *s)
{
    json_t *members = json_array();
    for (size_t i = 0; i < s->member_count && i < ETCD_STATUS_MEMBERS_MAX; i++)
        json_array_append_new(members, json_pack("{s:s, s:b, s:b}", "address", s->members[i],
                                                 "in_use", i == s->in_use, "silent",
                                                 s->member_silent[i]));
    int64_t behind = s->revision > s->watch_revision ? s->revision - s->watch_revision : 0;
    return json_pack("{s:o, s:b, s:s, s:I, s:I, s:{s:b, s:I, s:I, s:I, s:b}}", "members",
                     members, "reachable", s->reachable, "error", s->error, "revision",
                     (json_int_t)s->revision, "lease_ttl_seconds", (json_int_t)s->lease_ttl_left,
                     "watch", "streaming", s->watch_streaming, "revision",
                     (json_int_t)s->watch_revision, "behind", (json_int_t)behind,
                     "fabric_revision", (json_int_t)s->prefix_revision, "trailing",
                     s->watch_trailing);
}

static json_t *encode_endpoints(const struct status_overlay *o)
{
    json_t *list = json_array();
    for (size_t i = 0; i < o->endpoint_count; i++) {
        const struct status_endpoint *e = &o->endpoints[i];
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "network", o->network,
                                              "id", e->id, "ip", e->ip, "ip6", e->ip6, "names",
                                              e->names));
    }
    return list;
}

static json_t *encode_overlay(const struct status_overlay *o)
{
    json_t *subnets = json_array(), *members = json_array(), *remotes = json_array();
    for (size_t i = 0; i < o->subnet_count; i++)
        json_array_append_new(subnets, json_string(o->subnets[i]));
    for (size_t i = 0; i < o->member_count; i++)
        json_array_append_new(members, json_string(o->members[i]));
    for (size_t i = 0; i < o->remote_count; i++) {
        const struct status_remote *r = &o->remotes[i];
        json_array_append_new(remotes, json_pack("{s:s, s:s, s:s, s:b}", "host", r->host, "ip",
                                                 r->ip, "ip6", r->ip6, "programmed",
                                                 r->programmed));
    }
    return json_pack("{s:s, s:o, s:I, s:i, s:b, s:o, s:o, s:o}", "network", o->network, "subnets",
                     subnets, "vni", (json_int_t)o->vni, "mtu", o->mtu, "encrypted", o->encrypted,
                     "endpoints", encode_endpoints(o), "members", members, "remote_endpoints",
                     remotes);
}

static json_t *encode_hosts(const struct weft_status *s)
{
    json_t *list = json_array();
    for (size_t i = 0; i < s->host_count; i++) {
        const struct status_host *h = &s->hosts[i];
        json_array_append_new(list, json_pack("{s:s, s:b, s:I, s:I, s:I, s:I}", "host", h->host,
                                              "alive", h->alive, "since", (json_int_t)h->since,
                                              "for_seconds", (json_int_t)h->for_s, "overlays",
                                              (json_int_t)h->overlays, "endpoints",
                                              (json_int_t)h->endpoints));
    }
    return list;
}

char *status_json_encode(const struct weft_status *s, enum status_part part)
{
    char why[512];
    int health = weft_status_health(s, why, sizeof(why));
    json_t *doc = json_pack("{s:s, s:I, s:s, s:{s:s, s:s}}", "version", s->version,
                            "uptime_seconds", (json_int_t)s->uptime_s, "host", s->host, "health",
                            "status", health ? "degraded" : "healthy", "reason", why);
    if (!doc)
        return NULL;
    json_object_set_new(doc, "libraries", json_string(s->libraries));
    json_t *overlays = json_array(), *endpoints = json_array(), *errors = json_array();
    for (size_t i = 0; i < s->overlay_count; i++) {
        json_array_append_new(overlays, encode_overlay(&s->overlays[i]));
        json_array_extend(endpoints, json_object_get(json_array_get(overlays, i), "endpoints"));
    }
    for (size_t i = 0; i < s->error_count; i++)
        json_array_append_new(errors, json_string(s->errors[i]));
    if (part == STATUS_ALL || part == STATUS_HOSTS) {
        json_object_set_new(doc, "hosts", encode_hosts(s));
        json_object_set_new(doc, "reaper", s->reaper[0] ? json_string(s->reaper) : json_null());
    }
    if (part == STATUS_ALL || part == STATUS_OVERLAYS)
        json_object_set(doc, "overlays", overlays);
    if (part == STATUS_ENDPOINTS)
        json_object_set(doc, "endpoints", endpoints);
    if (part == STATUS_ALL) {
        json_object_set_new(doc, "store", encode_store(&s->store));
        json_object_set(doc, "recent_errors", errors);
    }
    json_decref(overlays);
    json_decref(endpoints);
    json_decref(errors);
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    return text;
}

/* ---- decoding: absent or mistyped fields read as empty ---- */

static void get_text(json_t *obj, const char *field, char *out, size_t size)
{
    const char *v = json_string_value(json_object_get(obj, field));
    snprintf(out, size, "%s", v ? v : "");
}

static int64_t get_int(json_t *obj, const char *field)
{
    return (int64_t)json_integer_value(json_object_get(obj, field));
}

static bool get_bool(json_t *obj, const char *field)
{
    return json_is_true(json_object_get(obj, field));
}

static void decode_store(json_t *obj, struct etcd_status *s)
{
    json_t *members = json_object_get(obj, "members"), *m;
    size_t i;
    json_array_foreach(members, i, m)
    {
        if (i >= ETCD_STATUS_MEMBERS_MAX)
            break;
        get_text(m, "address", s->members[i], sizeof(s->members[i]));
        s->member_silent[i] = get_bool(m, "silent");
        if (get_bool(m, "in_use"))
            s->in_use = i;
        s->member_count = i + 1;
    }
    s->reachable = get_bool(obj, "reachable");
    get_text(obj, "error", s->error, sizeof(s->error));
    s->revision = get_int(obj, "revision");
    s->lease_ttl_left = get_int(obj, "lease_ttl_seconds");
    json_t *watch = json_object_get(obj, "watch");
    s->watch_streaming = get_bool(watch, "streaming");
    s->watch_revision = get_int(watch, "revision");
    s->prefix_revision = get_int(watch, "fabric_revision");
    s->watch_trailing = get_bool(watch, "trailing");
}

static int decode_overlay(json_t *obj, struct status_overlay *o)
{
    get_text(obj, "network", o->network, sizeof(o->network));
    json_t *subnets = json_object_get(obj, "subnets"), *eps = json_object_get(obj, "endpoints");
    json_t *members = json_object_get(obj, "members");
    json_t *remotes = json_object_get(obj, "remote_endpoints"), *v;
    size_t i;
    json_array_foreach(subnets, i, v) if (o->subnet_count < STATUS_SUBNETS_MAX)
        snprintf(o->subnets[o->subnet_count++], ADDR_STR_MAX, "%s", json_string_value(v) ?: "");
    o->vni = (uint32_t)get_int(obj, "vni");
    o->mtu = (int)get_int(obj, "mtu");
    o->encrypted = get_bool(obj, "encrypted");
    o->endpoints = calloc(json_array_size(eps) + 1, sizeof(*o->endpoints));
    o->members = calloc(json_array_size(members) + 1, sizeof(*o->members));
    o->remotes = calloc(json_array_size(remotes) + 1, sizeof(*o->remotes));
    if (!o->endpoints || !o->members || !o->remotes)
        return -1;
    json_array_foreach(eps, i, v) {
        struct status_endpoint *e = &o->endpoints[o->endpoint_count++];
        get_text(v, "id", e->id, sizeof(e->id));
        get_text(v, "ip", e->ip, sizeof(e->ip));
        get_text(v, "ip6", e->ip6, sizeof(e->ip6));
        get_text(v, "names", e->names, sizeof(e->names));
    }
    json_array_foreach(members, i, v)
        snprintf(o->members[o->member_count++], ADDR_STR_MAX, "%s", json_string_value(v) ?: "");
    json_array_foreach(remotes, i, v) {
        struct status_remote *r = &o->remotes[o->remote_count++];
        get_text(v, "host", r->host, sizeof(r->host));
        get_text(v, "ip", r->ip, sizeof(r->ip));
        get_text(v, "ip6", r->ip6, sizeof(r->ip6));
        r->programmed = get_bool(v, "programmed");
    }
    return 0;
}

static int decode_lists(json_t *doc, struct weft_status *out)
{
    json_t *overlays = json_object_get(doc, "overlays"), *hosts = json_object_get(doc, "hosts");
    json_t *errors = json_object_get(doc, "recent_errors"), *v;
    out->overlays = calloc(json_array_size(overlays) + 1, sizeof(*out->overlays));
    out->hosts = calloc(json_array_size(hosts) + 1, sizeof(*out->hosts));
    out->errors = calloc(json_array_size(errors) + 1, sizeof(*out->errors));
    if (!out->overlays || !out->hosts || !out->errors)
        return -1;
    size_t i;
    json_array_foreach(overlays, i, v) if (decode_overlay(v, &out->overlays[out->overlay_count++]) < 0)
        return -1;
    json_array_foreach(hosts, i, v) {
        struct status_host *h = &out->hosts[out->host_count++];
        get_text(v, "host", h->host, sizeof(h->host));
        h->alive = get_bool(v, "alive");
        h->since = get_int(v, "since");
        h->for_s = get_int(v, "for_seconds");
        h->overlays = (size_t)get_int(v, "overlays");
        h->endpoints = (size_t)get_int(v, "endpoints");
    }
    json_array_foreach(errors, i, v)
        snprintf(out->errors[out->error_count++], LOG_RECENT_LINE_MAX, "%s",
                 json_string_value(v) ?: "");
    return 0;
}

int status_json_decode(const char *text, struct weft_status *out, struct weft_err *err)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "store"))) {
        json_decref(doc);
        return weft_err_set(err, -EPROTO, "the daemon's answer is not a status document (%s)",
                            doc ? "no store" : jerr.text);
    }
    get_text(doc, "version", out->version, sizeof(out->version));
    get_text(doc, "libraries", out->libraries, sizeof(out->libraries));
    out->uptime_s = get_int(doc, "uptime_seconds");
    get_text(doc, "host", out->host, sizeof(out->host));
    get_text(doc, "reaper", out->reaper, sizeof(out->reaper));
    decode_store(json_object_get(doc, "store"), &out->store);
    int rc = decode_lists(doc, out);
    json_decref(doc);
    if (rc < 0) {
        weft_status_clear(out);
        return weft_err_set(err, -ENOMEM, "out of memory reading the status");
    }
    return 0;
}
