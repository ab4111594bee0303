/* sd_notify.c: systemd's notification protocol, one datagram (sd_notify.h). */
#include "daemon/sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sd_notify_state(const char *state, struct weft_err *err)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path)
        return 0;
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if ((path[0] != '/' && path[0] != '@') || len >= sizeof(addr.sun_path))
        return weft_err_set(err, -EINVAL, "NOTIFY_SOCKET=%.200s is not a socket path", path);
    memcpy(addr.sun_path, path, len);
    if (addr.sun_path[0] == '@') /* the abstract namespace */
        addr.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return weft_err_set(err, -errno, "socket for systemd's notification: %s", strerror(errno));
    socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t sent = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len);
    int saved = errno;
    close(fd);
    if (sent < 0)
        return weft_err_set(err, -saved, "telling systemd %s at %.200s: %s", state, path,
                            strerror(saved));
    return 0;
}
