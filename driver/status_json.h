/*
 * status_json.h: the `weft status` document (fabric/status.h) as JSON and back.
 *
 * Owns the JSON form of struct weft_status, whose fields docs/status.md documents
 * (a stable schema: fields are added, never renamed). The daemon encodes
 * (daemon/control.c), the CLI decodes what the control socket answered
 * (admin/status.c). In driver/ because driver/ is where weft's answers become
 * JSON (tests/static/rooms.sh). Thread-safe: no state.
 */
#ifndef WEFT_STATUS_JSON_H
#define WEFT_STATUS_JSON_H

#include <stddef.h>

#include "common/err.h"
#include "fabric/status.h"

/* Which part of the document: all of it, or one section (weft status hosts|...). */
enum status_part { STATUS_ALL, STATUS_HOSTS, STATUS_OVERLAYS, STATUS_ENDPOINTS };

/* The document as JSON text (malloc'd, pretty-printed), with its "health"; NULL when
 * out of memory. part narrows it to a section (the health stays). */
char *status_json_encode(const struct weft_status *status, enum status_part part);

/* Reads a whole document (part STATUS_ALL) into out (zeroed first; free it with
 * weft_status_clear). -EPROTO with a message when text is not one. */
int status_json_decode(const char *text, struct weft_status *out, struct weft_err *err);

#endif
