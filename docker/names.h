/*
 * names.h: a container's inspect answer (GET /containers/<id>/json) read into the
 * endpoints it has and the DNS names each answers to (see follower.h for the rule).
 * Pure: no I/O, no logging, thread-safe. Never trusts dockerd: malformed JSON,
 * missing fields, wrong types and huge strings give an error or a skipped entry,
 * never a crash. Callers: docker/follower.c, docker/answers.c (ID check) and tests.
 *
 * Fields read: Id; Name; NetworkSettings.Networks.<network>.{NetworkID, EndpointID,
 * Aliases, DNSNames}.
 */
#ifndef WEFT_DOCKER_NAMES_H
#define WEFT_DOCKER_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "docker/follower.h"

/* Docker's IDs are 64 hex digits; swarm's network IDs 25 letters and digits. */
#define DOCKER_ID_MAX 64
#define DOCKER_SHORT_ID_LEN 12
#define DOCKER_DNS_NAME_MAX 253
#define DOCKER_DNS_LABEL_MAX 63

struct docker_endpoint {
    char network_id[DOCKER_ID_MAX + 1];
    char endpoint_id[DOCKER_ID_MAX + 1];
    char names[DOCKER_NAMES_MAX]; /* space-separated, never empty */
    unsigned dropped_invalid;     /* names that are not DNS names (skipped) */
    unsigned dropped_long;        /* valid names that did not fit in names (skipped) */
};

struct docker_container {
    char id[DOCKER_ID_MAX + 1];
    struct docker_endpoint *endpoints; /* count of them; NULL when none */
    size_t count;
    /* Networks left out: a NetworkID or EndpointID that is not an ID, or no valid
     * name at all. (An empty EndpointID is not counted: that network has no endpoint.) */
    unsigned skipped;
};

/* An ID as Docker makes them: 1..64 ASCII letters and digits (safe in a URL path). */
bool docker_id_valid(const char *id);
/* A name of labels of [a-z0-9_-], 1..63 each, joined by single dots, at most 253 in
 * all. Lowercase only: callers lowercase first. */
bool docker_dns_name_valid(const char *name);

/* Reads the inspect answer (len bytes, need not end in NUL) into *out, which the
 * caller frees with docker_container_free (also after a failure). -EPROTO when the
 * text is not JSON, not an object, or has no valid Id; -ENOMEM. A container with no
 * NetworkSettings or Networks has no endpoints (0). */
int docker_container_parse(struct docker_container *out, const char *json, size_t len,
                           struct weft_err *err);
void docker_container_free(struct docker_container *c);

#endif
