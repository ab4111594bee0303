/*
 * unix_socket.c: the daemon's listening socket files (unix_socket.h).
 */
#include "daemon/unix_socket.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

/* mkdir -p of the socket's directory. */
static int make_parent_dirs(const char *path, struct weft_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return weft_err_set(err, -errno, "creating directory %s: %s", dir, strerror(errno));
        *p = '/';
    }
    return 0;
}

/* A socket file nobody answers on is left by a dead daemon: remove it. A
 * live one belongs to another daemon; anything else is not ours to delete. */
static int clear_stale_socket(const struct sockaddr_un *addr, struct weft_err *err)
{
    const char *path = addr->sun_path;
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return weft_err_set(err, -errno, "checking %s: %s", path, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode))
        return weft_err_set(
            err, -EEXIST, "%s exists and is not a socket; remove it or choose another path", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return weft_err_set(err, -errno, "creating a socket: %s", strerror(errno));
    int rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
    int saved = errno;
    close(fd);
    /* EAGAIN: a full backlog, so someone is listening. */
    if (rc == 0 || saved == EAGAIN || saved == EINPROGRESS)
        return weft_err_set(err, -EADDRINUSE, "another weft daemon is listening on %s", path);
    if (saved != ECONNREFUSED)
        return weft_err_set(err, -saved, "checking %s: %s", path, strerror(saved));
    if (unlink(path) < 0 && errno != ENOENT)
        return weft_err_set(err, -errno, "removing stale socket %s: %s", path, strerror(errno));
    log_info("removed stale socket", "path=%s", path);
    return 0;
}

int unix_socket_listen(struct unix_socket *sock, const char *path, mode_t mode, int backlog,
                       struct weft_err *err)
{
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof(sock->path))
        return weft_err_set(err, -ENAMETOOLONG, "socket path \"%.200s\" must be 1 to %zu characters",
                            path, sizeof(sock->path) - 1);
    memcpy(sock->path, path, len + 1);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, sock->path, sizeof(addr.sun_path));
    if (make_parent_dirs(sock->path, err) < 0 || clear_stale_socket(&addr, err) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return weft_err_set(err, -errno, "creating a socket: %s", strerror(errno));
    struct stat st;
    if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
        weft_err_set(err, -errno, "binding %s: %s", sock->path, strerror(errno));
        goto fail_close;
    }
    if (chmod(sock->path, mode) < 0 || lstat(sock->path, &st) < 0) {
        weft_err_set(err, -errno, "setting the mode of %s: %s", sock->path, strerror(errno));
        goto fail_unlink;
    }
    sock->dev = st.st_dev;
    sock->ino = st.st_ino;
    if (listen(fd, backlog) < 0) {
        weft_err_set(err, -errno, "listening on %s: %s", sock->path, strerror(errno));
        goto fail_unlink;
    }
    return fd;

fail_unlink:
    unlink(sock->path);
fail_close:
    close(fd);
    return -1;
}

void unix_socket_remove(const struct unix_socket *sock)
{
    struct stat st;
    if (lstat(sock->path, &st) == 0 && st.st_dev == sock->dev && st.st_ino == sock->ino)
        unlink(sock->path);
}
