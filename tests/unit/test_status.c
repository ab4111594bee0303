/* test_status.c: `weft status` without a daemon. The document survives JSON both
 * ways (what the CLI reads is what the daemon wrote), the health and its one line
 * follow the store and the watch, a narrowed document holds its section only, the
 * rendering for people shows every part, and the log keeps the last warnings. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin/status.h"
#include "common/log.h"
#include "driver/status_json.h"
#include "fabric/status.h"

/* A host with one overlay, one endpoint, one other host with one endpoint. */
static void sample(struct weft_status *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->version, sizeof(s->version), "v-test");
    snprintf(s->libraries, sizeof(s->libraries), "libcurl/8.21.0 OpenSSL/3.0.19 ldns/1.8.3");
    s->uptime_s = 3725;
    snprintf(s->host, sizeof(s->host), "192.168.1.1");
    struct etcd_status *st = &s->store;
    st->member_count = 2;
    snprintf(st->members[0], sizeof(st->members[0]), "10.0.0.1:2379");
    snprintf(st->members[1], sizeof(st->members[1]), "10.0.0.2:2379");
    st->member_silent[1] = true;
    st->reachable = true;
    st->revision = 120;
    st->watch_revision = 117;
    st->watch_streaming = true;
    st->lease_ttl_left = 12;
    s->overlays = calloc(1, sizeof(*s->overlays));
    s->overlay_count = 1;
    struct status_overlay *o = &s->overlays[0];
    snprintf(o->network, sizeof(o->network), "abcdef0123456789");
    snprintf(o->subnets[0], ADDR_STR_MAX, "10.77.0.0/24");
    snprintf(o->subnets[1], ADDR_STR_MAX, "fd00:77::/64");
    o->subnet_count = 2;
    o->vni = 4242;
    o->mtu = 1450;
    o->endpoints = calloc(1, sizeof(*o->endpoints));
    o->endpoint_count = 1;
    snprintf(o->endpoints[0].id, FABRIC_ID_MAX, "e1e1e1e1e1e1e1e1");
    snprintf(o->endpoints[0].ip, ADDR_STR_MAX, "10.77.0.2/24");
    snprintf(o->endpoints[0].names, STATUS_NAMES_MAX, "web,web.1");
    o->members = calloc(1, sizeof(*o->members));
    o->member_count = 1;
    snprintf(o->members[0], ADDR_STR_MAX, "192.168.1.2");
    o->remotes = calloc(1, sizeof(*o->remotes));
    o->remote_count = 1;
    snprintf(o->remotes[0].host, ADDR_STR_MAX, "192.168.1.2");
    snprintf(o->remotes[0].ip, ADDR_STR_MAX, "10.77.0.3");
    o->remotes[0].programmed = true;
    s->hosts = calloc(2, sizeof(*s->hosts));
    s->host_count = 2;
    snprintf(s->hosts[0].host, ADDR_STR_MAX, "192.168.1.2");
    s->hosts[0].alive = true;
    s->hosts[0].since = 1700000000;
    s->hosts[0].for_s = 7260;
    s->hosts[0].overlays = s->hosts[0].endpoints = 1;
    snprintf(s->hosts[1].host, ADDR_STR_MAX, "192.168.1.9");
    s->hosts[1].since = 1700007000;
    s->hosts[1].for_s = 310;
    snprintf(s->reaper, ADDR_STR_MAX, "192.168.1.2");
    s->store.prefix_revision = 115;
    s->errors = calloc(1, sizeof(*s->errors));
    s->error_count = 1;
    snprintf(s->errors[0], LOG_RECENT_LINE_MAX, "level=warn msg=\"x\"");
}

static void json_round_trip_keeps_every_field(void **state)
{
    (void)state;
    struct weft_status s, back;
    sample(&s);
    char *text = status_json_encode(&s, STATUS_ALL);
    assert_non_null(text);
    struct weft_err err = {0};
    assert_int_equal(status_json_decode(text, &back, &err), 0);
    assert_string_equal(back.version, "v-test");
    assert_string_equal(back.libraries, "libcurl/8.21.0 OpenSSL/3.0.19 ldns/1.8.3");
    assert_int_equal(back.uptime_s, 3725);
    assert_int_equal(back.store.member_count, 2);
    assert_true(back.store.member_silent[1]);
    assert_int_equal(back.store.in_use, 0);
    assert_int_equal(back.store.watch_revision, 117);
    assert_int_equal(back.store.lease_ttl_left, 12);
    assert_int_equal(back.overlay_count, 1);
    assert_int_equal(back.overlays[0].vni, 4242);
    assert_int_equal(back.overlays[0].subnet_count, 2);
    assert_string_equal(back.overlays[0].subnets[1], "fd00:77::/64");
    assert_string_equal(back.overlays[0].endpoints[0].names, "web,web.1");
    assert_string_equal(back.overlays[0].members[0], "192.168.1.2");
    assert_true(back.overlays[0].remotes[0].programmed);
    assert_int_equal(back.host_count, 2);
    assert_int_equal(back.hosts[0].since, 1700000000);
    assert_int_equal(back.hosts[1].for_s, 310);
    assert_false(back.hosts[1].alive);
    assert_string_equal(back.reaper, "192.168.1.2");
    assert_int_equal(back.store.prefix_revision, 115);
    assert_false(back.store.watch_trailing);
    assert_int_equal(back.error_count, 1);
    assert_non_null(strstr(text, "\"behind\": 3"));
    free(text);
    weft_status_clear(&back);
    weft_status_clear(&s);
}

static void not_a_document_is_refused(void **state)
{
    (void)state;
    struct weft_status back;
    struct weft_err err = {0};
    assert_int_equal(status_json_decode("{\"hosts\":[]}", &back, &err), -1);
    assert_int_equal(err.code, -EPROTO);
    assert_int_equal(status_json_decode("<html>", &back, &err), -1);
}

static void health_follows_store_and_watch(void **state)
{
    (void)state;
    struct weft_status s;
    sample(&s);
    char why[600];
    assert_int_equal(weft_status_health(&s, why, sizeof(why)), 0);
    s.store.watch_streaming = false;
    assert_int_equal(weft_status_health(&s, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "watch is not streaming"));
    s.store.watch_streaming = true;
    s.store.watch_trailing = true;
    s.store.prefix_revision = 120;
    assert_int_equal(weft_status_health(&s, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "watch trails: fabric/ was written at revision 120, the watch "
                                "has delivered up to 117"));
    s.store.reachable = false;
    snprintf(s.store.error, sizeof(s.store.error), "connection refused");
    assert_int_equal(weft_status_health(&s, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "store (10.0.0.1:2379) does not answer: connection refused"));
    assert_null(strchr(why, '\n'));
    weft_status_clear(&s);
}

static void narrowed_json_holds_its_section(void **state)
{
    (void)state;
    struct weft_status s;
    sample(&s);
    char *hosts = status_json_encode(&s, STATUS_HOSTS);
    char *eps = status_json_encode(&s, STATUS_ENDPOINTS);
    assert_non_null(strstr(hosts, "\"hosts\""));
    assert_non_null(strstr(hosts, "\"reaper\": \"192.168.1.2\""));
    assert_null(strstr(hosts, "\"remote_endpoints\""));
    assert_null(strstr(hosts, "\"store\""));
    assert_non_null(strstr(eps, "\"endpoints\""));
    assert_non_null(strstr(eps, "e1e1e1e1e1e1e1e1"));
    assert_null(strstr(eps, "\"hosts\""));
    free(hosts);
    free(eps);
    weft_status_clear(&s);
}

static char *render(const struct weft_status *s, enum status_part part)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    status_render(out, s, part);
    fclose(out);
    return text;
}

static void rendering_shows_each_part(void **state)
{
    (void)state;
    struct weft_status s;
    sample(&s);
    char *all = render(&s, STATUS_ALL);
    const char *want[] = {"weft v-test on 192.168.1.1, up 1h02m: healthy",
                          "built with libcurl/8.21.0 OpenSSL/3.0.19 ldns/1.8.3",
                          "10.0.0.1:2379 (in use), 10.0.0.2:2379 (silent)",
                          "117 (3 behind, streaming; fabric/ last written at 115)",
                          "12s left",
                          "10.77.0.0/24 fd00:77::/64  vni 4242  mtu 1450",
                          "e1e1e1e1e1e1  10.77.0.2/24",
                          "names web,web.1",
                          "192.168.1.2",
                          "programmed",
                          "192.168.1.2     alive 2h01m    1 overlay, 1 endpoint",
                          "192.168.1.9     dead  5m10s    gone",
                          "level=warn"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(all, want[i]))
            fail_msg("\"%s\" not in:\n%s", want[i], all);
    assert_non_null(strstr(all, "hosts (dead hosts' addresses reclaimed by 192.168.1.2)"));
    char *hosts = render(&s, STATUS_HOSTS);
    assert_null(strstr(hosts, "store"));
    assert_null(strstr(hosts, "built with"));
    assert_non_null(strstr(hosts, "hosts"));
    snprintf(s.reaper, ADDR_STR_MAX, "192.168.1.1"); /* this host */
    char *own = render(&s, STATUS_HOSTS);
    assert_non_null(strstr(own, "reclaimed by 192.168.1.1, this host)"));
    s.reaper[0] = '\0';
    char *none = render(&s, STATUS_HOSTS);
    assert_non_null(strstr(none, "no host reclaims dead hosts' addresses now"));
    s.store.reachable = false;
    char *unknown = render(&s, STATUS_HOSTS);
    assert_non_null(strstr(unknown, "who reclaims dead hosts' addresses: unknown, no store"));
    free(own);
    free(none);
    free(unknown);
    free(all);
    free(hosts);
    weft_status_clear(&s);
}

static void ages_read_at_a_glance(void **state)
{
    (void)state;
    char age[32];
    status_format_age(42, age, sizeof(age));
    assert_string_equal(age, "42s");
    status_format_age(125, age, sizeof(age));
    assert_string_equal(age, "2m05s");
    status_format_age(90000, age, sizeof(age));
    assert_string_equal(age, "1d01h");
}

static void log_keeps_the_last_warnings(void **state)
{
    (void)state;
    setenv("WEFT_LOG_LEVEL", "off", 1); /* kept even when not written */
    for (int i = 0; i < LOG_RECENT_MAX + 3; i++)
        log_warn("test warning", "n=%d", i);
    log_info("not kept", NULL);
    char (*lines)[LOG_RECENT_LINE_MAX] = calloc(LOG_RECENT_MAX, LOG_RECENT_LINE_MAX);
    assert_int_equal(log_recent(lines, LOG_RECENT_MAX), LOG_RECENT_MAX);
    assert_non_null(strstr(lines[0], "n=3"));
    assert_non_null(strstr(lines[LOG_RECENT_MAX - 1], "n=18"));
    free(lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json_round_trip_keeps_every_field),
        cmocka_unit_test(not_a_document_is_refused),
        cmocka_unit_test(health_follows_store_and_watch),
        cmocka_unit_test(narrowed_json_holds_its_section),
        cmocka_unit_test(rendering_shows_each_part),
        cmocka_unit_test(ages_read_at_a_glance),
        cmocka_unit_test(log_keeps_the_last_warnings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
