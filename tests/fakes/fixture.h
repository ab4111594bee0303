/*
 * fixture.h: a fabric opened on the fakes, for the cmocka tests of tests/fakes/.
 *
 * fx_setup resets the fake kernel, store and fault counts, gives the kernel an
 * underlay, and opens a fabric as host FX_HOST; fx_teardown closes it. Between
 * steps, fx_settle waits (on conditions, never by sleeping) until the fabric's
 * background work is done: every network has its spare veths, every endpoint is
 * published, every watch event is applied. Used by one test thread at a time.
 */
#ifndef WEFT_TEST_FIXTURE_H
#define WEFT_TEST_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <cmocka.h>

#include "fabric/fabric.h"
#include "store/etcd.h"

#define FX_HOST "192.0.2.10"
#define FX_OTHER_HOST "192.0.2.20"
#define FX_THIRD_HOST "192.0.2.30"
#define FX_SUBNET "10.77.0.0/24"
#define FX_WAIT_MS 10000 /* a deadline for waits that normally end in microseconds */
#define FX_SPARES 2      /* spare veths fabric keeps per network (fabric.c) */

struct fx {
    struct etcd *etcd;
    struct fabric *fabric;
};

int fx_setup(void **state);
/* fx_setup with per-member watches (fabric_config.member_watch), as --store-watch grpc. */
int fx_setup_members(void **state);
extern bool fx_member_watch; /* what fx_try_open gives the fabric */
int fx_teardown(void **state);
/* Opens the fabric again (after fx_close), as a restarted daemon; fx_try_open
 * answers fabric_open's result instead of failing the test. */
void fx_open(struct fx *fx);
int fx_try_open(struct fx *fx, struct weft_err *err);
void fx_close(struct fx *fx);
void fx_settle(void);
/* false while a test holds the spare maker (fake_kernel_hold_spares): fx_settle
 * then does not wait for spares. */
extern bool fx_expect_spares;

/* A network ID or endpoint ID of 64 hex characters made from a short tag. */
void fx_id(char out[FABRIC_ID_MAX], const char *tag);
struct fabric_network_spec fx_network(const char *tag, const char *subnet);
/* ip: dotted, in FX_SUBNET or the network's subnet. */
struct fabric_endpoint_spec fx_endpoint(const char *net_tag, const char *ep_tag, const char *ip);
uint32_t fx_ip(const char *dotted); /* network order */

/* What the kernel holds, without the spare veths (fabric may replace one by another:
 * its pool, not a change a request made), and the store: for before/after compares. */
char *fx_kernel_text(void);
char *fx_store_text(void);
/* Number of this host's endpoint records (hosts/<host>/endpoints/). */
size_t fx_host_keys(void);

/* Requests through fabric.h, named by tags (fx_id); the first two fail the test. */
void create_network(struct fx *fx, const char *tag, const char *subnet);
void create_endpoint(struct fx *fx, const char *net_tag, const char *ep_tag, const char *ip,
                     uint8_t mac[6]);
int delete_endpoint(struct fx *fx, const char *net_tag, const char *ep_tag, struct weft_err *err);
int delete_network(struct fx *fx, const char *tag, struct weft_err *err);
/* The VNI of subnet's overlay record (which must exist). */
uint32_t overlay_vni(const char *subnet);
bool has_key(const char *key);
/* Records of FX_OTHER_HOST, written as that host would (lease from fake_store_grant). */
void put_remote(const char *subnet, const char *ip, const char *mac, int64_t lease);
void put_member(const char *subnet, int64_t lease);
/* The same, of any host (under its prefix, naming it). */
void put_remote_of(const char *host, const char *subnet, const char *ip, const char *mac,
                   int64_t lease);
void put_member_of(const char *host, const char *subnet, int64_t lease);

#endif
