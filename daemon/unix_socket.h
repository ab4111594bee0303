/*
 * unix_socket.h: a listening unix socket file of the daemon's: the plugin socket
 * (daemon/http.c) and the control socket (daemon/control.c). Owns making the file
 * (its directory too), replacing a stale one a dead daemon left, refusing a live one,
 * and removing the file only while it is still the one made here. Callers: daemon/.
 */
#ifndef WEFT_UNIX_SOCKET_H
#define WEFT_UNIX_SOCKET_H

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>

#include "common/err.h"

struct unix_socket {
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t dev; /* identity of the file made, so removal takes only ours */
    ino_t ino;
};

/* Makes path's directories (0755), replaces a stale socket file, binds, sets mode
 * before listening (so nobody connects earlier) and listens with backlog. Returns the
 * listening fd (non-blocking, close-on-exec), or -1 with err and nothing left behind. */
int unix_socket_listen(struct unix_socket *sock, const char *path, mode_t mode, int backlog,
                       struct weft_err *err);
/* Removes the socket file if it is still the one unix_socket_listen made. */
void unix_socket_remove(const struct unix_socket *sock);

#endif
