/*
 * status_render.c: the status document for people (admin/status.h): one
 * section per part, labels in a column so it reads at a glance.
 */
#include "admin/status.h"

#include <inttypes.h>
#include <string.h>

void status_format_age(int64_t s, char *out, size_t size)
{
    if (s < 60)
        snprintf(out, size, "%" PRId64 "s", s);
    else if (s < 3600)
        snprintf(out, size, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, size, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
    else
        snprintf(out, size, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
}

static void render_store(FILE *out, const struct etcd_status *st)
{
    fprintf(out, "store\n  %-10s", "members");
    for (size_t i = 0; i < st->member_count && i < ETCD_STATUS_MEMBERS_MAX; i++)
        fprintf(out, "%s%s%s%s", i ? ", " : "", st->members[i],
                st->reachable && i == st->in_use ? " (in use)" : "",
                st->member_silent[i] ? " (silent)" : "");
    fprintf(out, "\n");
    if (!st->reachable) {
        fprintf(out, "  %-10s%s\n", "error", st->error);
        return;
    }
    int64_t behind = st->revision > st->watch_revision ? st->revision - st->watch_revision : 0;
    fprintf(out, "  %-10s%" PRId64 "\n", "revision", st->revision);
    fprintf(out, "  %-10s%" PRId64 " (%" PRId64 " behind, %s; fabric/ last written at %" PRId64
            "%s)\n", "watch", st->watch_revision, behind,
            st->watch_streaming ? "streaming" : "NOT streaming", st->prefix_revision,
            st->watch_trailing ? ", NOT delivered" : "");
    if (st->lease_ttl_left >= 0)
        fprintf(out, "  %-10s%" PRId64 "s left\n", "lease", st->lease_ttl_left);
    else
        fprintf(out, "  %-10sunknown or expired\n", "lease");
}

static void render_endpoint(FILE *out, const struct status_endpoint *e)
{
    fprintf(out, "    %-10s%.12s  %s", "endpoint", e->id, e->ip);
    if (e->ip6[0])
        fprintf(out, "  %s", e->ip6);
    if (e->names[0])
        fprintf(out, "  names %s", e->names);
    fprintf(out, "\n");
}

static void render_overlay(FILE *out, const struct status_overlay *o)
{
    fprintf(out, "  %s", o->subnets[0]);
    for (size_t i = 1; i < o->subnet_count; i++)
        fprintf(out, " %s", o->subnets[i]);
    fprintf(out, "  vni %" PRIu32 "  mtu %d%s  network %.12s\n", o->vni, o->mtu,
            o->encrypted ? "  encrypted" : "", o->network);
    for (size_t i = 0; i < o->endpoint_count; i++)
        render_endpoint(out, &o->endpoints[i]);
    fprintf(out, "    %-10s", "members");
    for (size_t i = 0; i < o->member_count; i++)
        fprintf(out, "%s%s", i ? ", " : "", o->members[i]);
    fprintf(out, "%s\n", o->member_count ? "" : "(no other host)");
    for (size_t i = 0; i < o->remote_count; i++) {
        const struct status_remote *r = &o->remotes[i];
        fprintf(out, "    %-10s%-18s on %-15s %s%s%s\n", "remote", r->ip, r->host,
                r->programmed ? "programmed" : "not programmed", r->ip6[0] ? "  " : "", r->ip6);
    }
}

/* "alive 2h10m, 3 overlays, 12 endpoints"; "dead 5m10s" (since its records went:
 * a dead host's lease TTL after it died); "alive 40s, on no overlay of ours". */
static void render_hosts(FILE *out, const struct weft_status *s)
{
    /* Who reclaims dead hosts' addresses: one host of the cluster (roles/reaper). */
    if (!s->reaper[0] && !s->store.reachable)
        fprintf(out, "hosts (who reclaims dead hosts' addresses: unknown, no store)\n");
    else if (!s->reaper[0])
        fprintf(out, "hosts (no host reclaims dead hosts' addresses now)\n");
    else
        fprintf(out, "hosts (dead hosts' addresses reclaimed by %s%s)\n", s->reaper,
                strcmp(s->reaper, s->host) == 0 ? ", this host" : "");
    if (!s->host_count)
        fprintf(out, "  (no other host known)\n");
    for (size_t i = 0; i < s->host_count; i++) {
        const struct status_host *h = &s->hosts[i];
        char age[32];
        status_format_age(h->for_s, age, sizeof(age));
        fprintf(out, "  %-16s%-6s%-8s", h->host, h->alive ? "alive" : "dead", h->since ? age : "?");
        if (h->overlays || h->endpoints)
            fprintf(out, " %zu overlay%s, %zu endpoint%s\n", h->overlays,
                    h->overlays == 1 ? "" : "s", h->endpoints, h->endpoints == 1 ? "" : "s");
        else
            fprintf(out, " %s\n", h->alive ? "on no overlay of ours" : "gone");
    }
}

static void render_endpoints(FILE *out, const struct weft_status *s)
{
    fprintf(out, "endpoints\n");
    for (size_t i = 0; i < s->overlay_count; i++)
        for (size_t j = 0; j < s->overlays[i].endpoint_count; j++) {
            fprintf(out, "  %-16s", s->overlays[i].subnets[0]);
            render_endpoint(out, &s->overlays[i].endpoints[j]);
        }
}

void status_render(FILE *out, const struct weft_status *s, enum status_part part)
{
    char age[32], why[600];
    status_format_age(s->uptime_s, age, sizeof(age));
    weft_status_health(s, why, sizeof(why));
    fprintf(out, "weft %s on %s, up %s: %s\n", s->version, s->host, age, why);
    if (part == STATUS_ALL && s->libraries[0])
        fprintf(out, "built with %s\n", s->libraries);
    if (part == STATUS_ALL)
        render_store(out, &s->store);
    if (part == STATUS_ALL || part == STATUS_OVERLAYS) {
        fprintf(out, "overlays\n");
        if (!s->overlay_count)
            fprintf(out, "  (none on this host)\n");
        for (size_t i = 0; i < s->overlay_count; i++)
            render_overlay(out, &s->overlays[i]);
    }
    if (part == STATUS_ENDPOINTS)
        render_endpoints(out, s);
    if (part == STATUS_ALL || part == STATUS_HOSTS)
        render_hosts(out, s);
    if (part == STATUS_ALL && s->error_count) {
        fprintf(out, "recent warnings and errors\n");
        for (size_t i = 0; i < s->error_count; i++)
            fprintf(out, "  %s\n", s->errors[i]);
    }
}
