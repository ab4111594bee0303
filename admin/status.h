/*
 * status.h: `weft status`, what a running daemon says about itself (issue 13).
 *
 *   weft status [--json] [--control-socket PATH] [hosts|overlays|endpoints]
 *
 * Owns the command: its flags, the client of the daemon's control socket
 * (daemon/control.h: GET /status), rendering the document for people
 * (status_render.c, pure) and the exit status: 0 healthy, 1 degraded (no store,
 * the watch not streaming), 2 the daemon unreachable or a bad command line, each
 * failure with one line on stderr saying why. Reads the document with
 * driver/status_json.h. Callers: daemon/main.c, tests. One thread.
 */
#ifndef WEFT_ADMIN_STATUS_H
#define WEFT_ADMIN_STATUS_H

#include <stdio.h>

#include "driver/status_json.h"
#include "fabric/status.h"

/* argv[0] is "status". */
int admin_status_main(int argc, char **argv);

/* The document for people: aligned sections, the ones part asks for. */
void status_render(FILE *out, const struct weft_status *status, enum status_part part);

/* "3h05m", "42s": an age for people. */
void status_format_age(int64_t seconds, char *out, size_t size);

#endif
