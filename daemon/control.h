/*
 * control.h: the daemon's control socket, for `weft status` (issue 13).
 *
 * Owns a second unix socket, apart from the plugin socket (nothing Docker talks to
 * changes, and not in Docker's plugin directory, where Docker would take it for a
 * plugin), mode 0600 so only root reads it, and the small HTTP
 * server on it: GET /status answers the status document (driver/status_json.h)
 * built from the running daemon's memory: fabric_status_read, the version, the
 * uptime and common/log's recent lines. Anything else is 404 or 405.
 * Callers: daemon/main.c. Thread-safe: one thread per connection.
 */
#ifndef WEFT_CONTROL_H
#define WEFT_CONTROL_H

#include "common/err.h"
#include "fabric/fabric.h"

struct control_server;

/* Serves path (--control-socket; its directory is made, mode 0755, when missing). A
 * stale socket of a dead daemon is replaced, a live one refused. fabric is borrowed
 * and must outlive the server. *out is freed by control_stop. */
int control_start(const char *path, struct fabric *fabric, struct control_server **out,
                  struct weft_err *err);
/* Stops serving and removes the socket file. NULL is fine. */
void control_stop(struct control_server *server);

#endif
