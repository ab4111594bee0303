/*
 * veth_alias.h: an endpoint's record as its veth's alias (IFLA_IFALIAS), which the
 * kernel keeps as long as the pair lives: a daemon killed between answering
 * CreateEndpoint and publishing finds its endpoints there on restart (restore.c).
 *
 * The kernel takes at most 255 bytes. The store's JSON record of a dual-stack
 * endpoint is over that (two 64-character IDs, field names, an IPv6 address of up
 * to 43 characters), so the alias is a compact line of the fields restore needs:
 *   "weft1 <endpoint id> <network id> <ip/len> <mac>[ <ip6/len>]"
 * (at most 212 bytes). Names and the interface name stay out: the follower reads
 * the names again from dockerd, and the interface is the one the alias sits on.
 * Aliases written by older weft (the JSON record itself) are still read.
 *
 * Pure functions, thread-safe. Callers: fabric/ (spares.c writes, restore.c reads).
 */
#ifndef WEFT_VETH_ALIAS_H
#define WEFT_VETH_ALIAS_H

#include "store/records.h"

/* What an endpoint's alias starts with (then a space). */
#define VETH_ALIAS_TAG "weft1"
/* The kernel's limit (IFALIASZ - 1). */
#define VETH_ALIAS_MAX 255

/* The alias of rec (malloc'd), or NULL when out of memory or when a field would
 * not fit (it cannot, for a record weft made). */
char *veth_alias_encode(const struct host_endpoint_record *rec);
/* The JSON record text (malloc'd) an alias stands for, to be checked as strictly as
 * the store's (record_check_host_endpoint); NULL when alias is neither form or when
 * out of memory. */
char *veth_alias_record_text(const char *alias);

#endif
