/*
 * answers.h: the Docker Engine API's other answers the follower reads, pure: the
 * API version to speak (GET /version), the running containers' IDs (GET
 * /containers/json) and which container an event line concerns (GET /events).
 * No I/O, no logging, thread-safe; malformed input is an error, never a crash.
 * Callers: docker/engine.c (version), docker/follower.c (list, events), tests.
 *
 * Fields read: /version ApiVersion, MinAPIVersion; /containers/json [].Id; an
 * event's Type, Action, Actor.ID, Actor.Attributes.container.
 */
#ifndef WEFT_DOCKER_ANSWERS_H
#define WEFT_DOCKER_ANSWERS_H

#include <stddef.h>

#include "common/err.h"
#include "docker/names.h"

/* The newest API version whose answers weft knows. Never pinned lower: Docker 29
 * refuses anything below 1.44, Docker 20.10 speaks at most 1.41. */
#define DOCKER_API_MAJOR 1
#define DOCKER_API_MINOR_MAX 47
/* The oldest weft reads (Docker 1.12's networks and event filters are there). */
#define DOCKER_API_MINOR_MIN 24

struct docker_api_version {
    int major, minor;
};

/* From GET /version: the lower of dockerd's ApiVersion and weft's newest, raised
 * to dockerd's MinAPIVersion if that is newer still (a later Docker that dropped
 * 1.47 keeps the fields weft reads). -EPROTO when ApiVersion is missing or not
 * "1.<n>", or older than 1.24. */
int docker_answer_version(const char *json, size_t len, struct docker_api_version *out,
                          struct weft_err *err);

typedef char docker_id[DOCKER_ID_MAX + 1];
/* The IDs of a container list, into *ids (count of them; free()); entries
 * without a valid Id are skipped. -EPROTO when the text is not a JSON array. */
int docker_answer_container_ids(const char *json, size_t len, docker_id **ids, size_t *count,
                                struct weft_err *err);

/* Which container an event line names: the container of a network "connect"
 * (Actor.Attributes.container) or a container "rename" (Actor.ID). 1 with id
 * set, 0 for any other event (ignored), -1 (-EPROTO) when the line is not a JSON
 * object or a connect/rename without a valid container ID. */
int docker_answer_event(const char *json, size_t len, docker_id id, struct weft_err *err);

#endif
