/*
 * status.h: the `weft status` document as plain C, and how the fabric fills it.
 *
 * Owns struct weft_status: what a running daemon knows of itself (version, uptime,
 * the store, this host's overlays, the other hosts, recent errors), read from its
 * memory only. fabric_status_read fills the store, overlay and host parts under the
 * fabric lock (the store's questions are asked after it is released); daemon/
 * adds its version, uptime and recent log lines; driver/status_json.c turns it into
 * JSON and back; admin/status*.c renders it for people. docs/status.md describes
 * the JSON form, field by field.
 * Callers: daemon/control.c, driver/status_json.c, admin/status*.c, tests.
 */
#ifndef WEFT_FABRIC_STATUS_H
#define WEFT_FABRIC_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"
#include "common/log.h"
#include "fabric/fabric.h"
#include "store/etcd_status.h"

#define STATUS_SUBNETS_MAX (2 + 2 * FABRIC_EXTRA_SUBNETS_MAX)
#define STATUS_NAMES_MAX 1024
#define STATUS_VERSION_MAX 64
#define STATUS_LIBRARIES_MAX 256

struct status_endpoint {
    char id[FABRIC_ID_MAX];
    char ip[ADDR_STR_MAX];  /* with its prefix length, "10.1.0.2/24" */
    char ip6[ADDR_STR_MAX]; /* "" for none */
    char names[STATUS_NAMES_MAX]; /* its container's names, comma-separated, or "" */
};

struct status_remote { /* an endpoint of another host on this overlay */
    char host[ADDR_STR_MAX];
    char ip[ADDR_STR_MAX];
    char ip6[ADDR_STR_MAX];
    bool programmed; /* in this host's kernel (false: a claim only, or a losing claim) */
};

struct status_overlay {
    char network[FABRIC_ID_MAX]; /* Docker's network id */
    char subnets[STATUS_SUBNETS_MAX][ADDR_STR_MAX];
    size_t subnet_count;
    uint32_t vni;
    int mtu;
    bool encrypted;
    struct status_endpoint *endpoints; /* this host's */
    size_t endpoint_count;
    char (*members)[ADDR_STR_MAX]; /* other hosts on this overlay */
    size_t member_count;
    struct status_remote *remotes;
    size_t remote_count;
};

struct status_host { /* another host the watch knows of, or saw go */
    char host[ADDR_STR_MAX];
    bool alive;        /* it has records under its lease (they vanish when it dies), or,
                        * without any, its hosts/<vtep>/alive key is there */
    int64_t since;     /* Unix time this daemon saw its records appear (alive with some)
                        * or vanish (dead, or alive on no overlay); 0 unknown */
    int64_t for_s;     /* seconds from since to the document's making */
    size_t overlays;   /* overlays it is a member of */
    size_t endpoints;  /* endpoints it has on them */
};

struct weft_status {
    char version[STATUS_VERSION_MAX];
    char libraries[STATUS_LIBRARIES_MAX]; /* daemon/libraries.h; "" from an older daemon */
    int64_t uptime_s;
    char host[ADDR_STR_MAX]; /* this host's advertise address */
    struct etcd_status store;
    struct status_overlay *overlays;
    size_t overlay_count;
    struct status_host *hosts;
    size_t host_count;
    /* the host holding roles/reaper (it reclaims dead hosts' addresses); "" none, or the
     * store did not answer */
    char reaper[ADDR_STR_MAX];
    char (*errors)[LOG_RECENT_LINE_MAX]; /* recent warn/error log lines, oldest first */
    size_t error_count;
};

/* Fills the store, host, overlay and hosts parts of out (zeroed first); the caller
 * frees it with weft_status_clear. -ENOMEM only. */
int fabric_status_read(struct fabric *fabric, struct weft_status *out, struct weft_err *err);
/* Frees what out's arrays hold (not out); out may be cleared twice. */
void weft_status_clear(struct weft_status *out);

/* What a status says about health: 0 healthy, 1 degraded (why says why, one line). */
int weft_status_health(const struct weft_status *status, char *why, size_t why_len);

#endif
