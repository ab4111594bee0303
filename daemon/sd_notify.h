/*
 * sd_notify.h: telling systemd the daemon's state (weft.service is Type=notify).
 *
 * Owns nothing but one datagram per call to the unix socket systemd names in
 * NOTIFY_SOCKET (a path, or "@name" in the abstract namespace), in systemd's
 * notification protocol ("READY=1", "STOPPING=1"): no libsystemd for two lines of
 * text. With NOTIFY_SOCKET unset (not under systemd, or Type=exec) it does nothing.
 * Why: "ready" must mean the plugin socket answers, so that dockerd, ordered after
 * weft, finds the plugin when it restarts containers at boot; systemd's Type=exec
 * would call weft started as soon as it runs, before the store is read.
 * Callers: daemon/main.c.
 */
#ifndef WEFT_SD_NOTIFY_H
#define WEFT_SD_NOTIFY_H

#include "common/err.h"

/* Sends state (e.g. "READY=1") to systemd. 0 when sent or not under systemd;
 * -1 with err set when NOTIFY_SOCKET is malformed or the send failed. */
int sd_notify_state(const char *state, struct weft_err *err);

#endif
