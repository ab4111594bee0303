/* fixture.c: the fabric on fakes of fixture.h. */
#include "tests/fakes/fixture.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fabric/veth_alias.h"
#include "store/keys.h"
#include "store/records.h"
#include "tests/fakes/fake_kernel.h"
#include "tests/fakes/fake_store.h"
#include "tests/fakes/fault.h"
#include "vxlan/segment.h"

uint32_t fx_ip(const char *dotted)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, dotted, &a), 1);
    return a.s_addr;
}

int fx_try_open(struct fx *fx, struct weft_err *err)
{
    struct fabric_config config = {
        .etcd = fx->etcd,
        .host = FX_HOST,
        .underlay_mtu = 1500,
        .lease_ttl = 300, /* the keeper stays asleep through a test */
        .reclaim_after = 3600,
        .member_watch = fx_member_watch,
    };
    fx->fabric = NULL;
    return fabric_open(&fx->fabric, &config, err);
}

void fx_open(struct fx *fx)
{
    struct weft_err err = {0};
    if (fx_try_open(fx, &err) < 0)
        fail_msg("fabric_open: %s", err.msg);
}

void fx_close(struct fx *fx)
{
    fabric_close(fx->fabric);
    fx->fabric = NULL;
}

bool fx_member_watch;

static int setup(void **state);

int fx_setup_members(void **state)
{
    fx_member_watch = true; /* until the next fx_setup: a restart (fx_open) keeps it */
    return setup(state);
}

int fx_setup(void **state)
{
    fx_member_watch = false;
    return setup(state);
}

static int setup(void **state)
{
    fx_expect_spares = true;
    fault_reset();
    fake_kernel_reset();
    fake_store_reset();
    fake_kernel_set_underlay("eth0", fx_ip(FX_HOST), 1500);
    struct fx *fx = calloc(1, sizeof(*fx));
    struct weft_err err;
    assert_non_null(fx);
    assert_int_equal(etcd_open(&fx->etcd, "127.0.0.1:2379", &err), 0);
    fx_open(fx);
    *state = fx;
    return 0;
}

int fx_teardown(void **state)
{
    struct fx *fx = *state;
    fault_disarm();
    fake_kernel_hold_spares(false);
    fake_store_hold_txns(false);
    fx_close(fx);
    etcd_close(fx->etcd);
    free(fx);
    return 0;
}

bool fx_expect_spares = true;

static bool spares_ready(void *ctx)
{
    (void)ctx;
    return !fx_expect_spares || fake_kernel_alias_count(SEGMENT_SPARE_ALIAS) ==
                                    FX_SPARES * fake_kernel_link_count("wbr");
}

size_t fx_host_keys(void)
{
    char prefix[WEFT_KEY_MAX];
    key_host_endpoints_prefix(prefix, FX_HOST);
    return fake_store_count(prefix);
}

/* Every endpoint veth (its alias is its record: veth_alias.h) has its record in the store. */
static bool published(void *ctx)
{
    (void)ctx;
    return (size_t)fake_kernel_alias_count(VETH_ALIAS_TAG " ") == fx_host_keys();
}

void fx_settle(void)
{
    for (int round = 0; round < 100; round++) {
        assert_true(fake_kernel_wait(spares_ready, NULL, FX_WAIT_MS));
        assert_true(fake_store_wait(published, NULL, FX_WAIT_MS));
        assert_true(fake_store_wait_drained(FX_WAIT_MS));
        if (spares_ready(NULL) && published(NULL))
            return;
    }
    fail_msg("the fabric did not settle");
}

void fx_id(char out[FABRIC_ID_MAX], const char *tag)
{
    char id[FABRIC_ID_MAX];
    snprintf(id, sizeof(id), "%s%064d", tag, 0);
    snprintf(out, FABRIC_ID_MAX, "%.64s", id);
}

struct fabric_network_spec fx_network(const char *tag, const char *subnet)
{
    struct fabric_network_spec spec = {0};
    fx_id(spec.network_id, tag);
    snprintf(spec.subnet, sizeof(spec.subnet), "%s", subnet);
    return spec;
}

struct fabric_endpoint_spec fx_endpoint(const char *net_tag, const char *ep_tag, const char *ip)
{
    struct fabric_endpoint_spec spec = {0};
    fx_id(spec.network_id, net_tag);
    fx_id(spec.endpoint_id, ep_tag);
    spec.ip = ntohl(fx_ip(ip));
    return spec;
}

/* Drops the lines of spare veths: ws<n> links with the spare alias, and their peers. */
char *fx_kernel_text(void)
{
    /* One snapshot read twice (strtok cuts its copy): a second one could be longer
     * than out, the spare maker having added a link meanwhile. */
    char *text = fake_kernel_snapshot();
    assert_non_null(text);
    char *copy = strdup(text), *out = calloc(1, strlen(text) + 1), spares[4096] = " ";
    assert_non_null(copy);
    assert_non_null(out);
    for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
        char name[IF_NAMESIZE + 1];
        if (strstr(line, "alias=\"" SEGMENT_SPARE_ALIAS "\"") &&
            sscanf(line, "link %16s", name) == 1 &&
            strlen(spares) + strlen(name) + 2 < sizeof(spares))
            strcat(strcat(spares, name), " ");
    }
    free(copy);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[IF_NAMESIZE + 2] = " ", peer[IF_NAMESIZE + 2] = " ";
        const char *p = strstr(line, " peer=");
        if (sscanf(line, "link %16s", name + 1) == 1 && p)
            sscanf(p, " peer=%16s", peer + 1);
        strcat(name, " ");
        strcat(peer, " ");
        if (strstr(spares, name) || strstr(spares, peer))
            continue;
        strcat(strcat(out, line), "\n");
    }
    free(text);
    return out;
}

char *fx_store_text(void)
{
    char *text = fake_store_snapshot();
    assert_non_null(text);
    return text;
}

/* ---------- steps a test takes ---------- */

void create_network(struct fx *fx, const char *tag, const char *subnet)
{
    struct fabric_network_spec spec = fx_network(tag, subnet);
    struct weft_err err = {0};
    if (fabric_network_create(fx->fabric, &spec, &err) < 0)
        fail_msg("network create: %s", err.msg);
}

void create_endpoint(struct fx *fx, const char *net_tag, const char *ep_tag, const char *ip,
                     uint8_t mac[6])
{
    struct fabric_endpoint_spec spec = fx_endpoint(net_tag, ep_tag, ip);
    struct weft_err err = {0};
    if (fabric_endpoint_create(fx->fabric, &spec, mac, &err) < 0)
        fail_msg("endpoint create: %s", err.msg);
}

int delete_endpoint(struct fx *fx, const char *net_tag, const char *ep_tag, struct weft_err *err)
{
    char net[FABRIC_ID_MAX], ep[FABRIC_ID_MAX];
    fx_id(net, net_tag);
    fx_id(ep, ep_tag);
    return fabric_endpoint_delete(fx->fabric, net, ep, err);
}

int delete_network(struct fx *fx, const char *tag, struct weft_err *err)
{
    char net[FABRIC_ID_MAX];
    fx_id(net, tag);
    return fabric_network_delete(fx->fabric, net, err);
}

/* The VNI fabric gave the overlay of subnet, from its record. */
uint32_t overlay_vni(const char *subnet)
{
    char key[WEFT_KEY_MAX];
    key_overlay(key, subnet);
    char *text = fake_store_get(key, NULL);
    assert_non_null(text);
    struct overlay_record rec;
    assert_int_equal(overlay_record_decode(text, &rec, NULL), 0);
    free(text);
    return rec.vni;
}

bool has_key(const char *key)
{
    char *value = fake_store_get(key, NULL);
    free(value);
    return value != NULL;
}

/* A remote record of another host is believed, and programmed, once its host is a member. */
void put_remote_of(const char *host, const char *subnet, const char *ip, const char *mac,
                   int64_t lease)
{
    char key[WEFT_KEY_MAX];
    struct peer_record peer = {0};
    snprintf(peer.ip, sizeof(peer.ip), "%s", ip);
    snprintf(peer.mac, sizeof(peer.mac), "%s", mac);
    snprintf(peer.vtep, sizeof(peer.vtep), "%s", host);
    char *text = peer_record_encode(&peer);
    key_peer(key, host, subnet, ip);
    fake_store_put(key, text, lease);
    free(text);
}

void put_member_of(const char *host, const char *subnet, int64_t lease)
{
    char key[WEFT_KEY_MAX];
    struct member_record member = {0};
    snprintf(member.vtep, sizeof(member.vtep), "%s", host);
    char *text = member_record_encode(&member);
    key_member(key, host, subnet);
    fake_store_put(key, text, lease);
    free(text);
}

void put_remote(const char *subnet, const char *ip, const char *mac, int64_t lease)
{
    put_remote_of(FX_OTHER_HOST, subnet, ip, mac, lease);
}

void put_member(const char *subnet, int64_t lease)
{
    put_member_of(FX_OTHER_HOST, subnet, lease);
}
