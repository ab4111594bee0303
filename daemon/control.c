/*
 * control.c: the control socket (control.h). A libmicrohttpd server like the
 * plugin socket's (daemon/http.c) but read-only and for root: GET /status only.
 */
#include "daemon/control.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "driver/status_json.h"
#include "fabric/status.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

struct control_server {
    struct MHD_Daemon *mhd;
    struct fabric *fabric; /* borrowed */
    long started_ms;       /* monotonic */
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t dev; /* our socket file, so stop removes only ours */
    ino_t ino;
};

/* The whole document, from memory: NULL when out of memory. */
static char *status_document(struct control_server *server)
{
    struct weft_status status;
    struct weft_err err = {0};
    if (fabric_status_read(server->fabric, &status, &err) < 0)
        return NULL;
    snprintf(status.version, sizeof(status.version), "%s", WEFT_VERSION);
    status.uptime_s = (clock_monotonic_ms() - server->started_ms) / 1000;
    status.errors = calloc(LOG_RECENT_MAX, sizeof(*status.errors));
    if (status.errors)
        status.error_count = log_recent(status.errors, LOG_RECENT_MAX);
    char *text = status_json_encode(&status, STATUS_ALL);
    weft_status_clear(&status);
    return text;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, char *body,
                             enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), body, mode);
    if (!resp) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    static int first_call; /* marks a connection whose headers were seen */
    (void)version;
    (void)upload_data;
    if (!*con_cls) { /* headers only: answer once any body is read (there should be none) */
        *con_cls = &first_call;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    static char not_allowed[] = "{\"error\":\"the control socket answers GET only\"}\n";
    static char not_found[] = "{\"error\":\"no such path; try GET /status\"}\n";
    static char oom[] = "{\"error\":\"out of memory\"}\n";
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed, MHD_RESPMEM_PERSISTENT);
    if (strcmp(url, "/status") != 0)
        return reply(conn, MHD_HTTP_NOT_FOUND, not_found, MHD_RESPMEM_PERSISTENT);
    char *doc = status_document(cls);
    if (!doc)
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, oom, MHD_RESPMEM_PERSISTENT);
    return reply(conn, MHD_HTTP_OK, doc, MHD_RESPMEM_MUST_FREE);
}

/* A socket file nobody answers on was left by a dead daemon: removed. */
static int clear_stale(const struct sockaddr_un *addr, struct weft_err *err)
{
    struct stat st;
    if (lstat(addr->sun_path, &st) < 0)
        return errno == ENOENT ? 0 : weft_err_set(err, -errno, "checking %s: %s", addr->sun_path,
                                                  strerror(errno));
    if (!S_ISSOCK(st.st_mode))
        return weft_err_set(err, -EEXIST, "%s exists and is not a socket", addr->sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return weft_err_set(err, -errno, "creating a socket: %s", strerror(errno));
    int rc = connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
    close(fd);
    if (rc == 0)
        return weft_err_set(err, -EADDRINUSE, "another weft daemon answers on %s", addr->sun_path);
    if (unlink(addr->sun_path) < 0 && errno != ENOENT)
        return weft_err_set(err, -errno, "removing stale socket %s: %s", addr->sun_path,
                            strerror(errno));
    return 0;
}

/* Binds and listens; mode 0600 is set before listen, so nobody else connects earlier. */
static int open_socket(struct control_server *server, struct weft_err *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    memcpy(addr.sun_path, server->path, sizeof(addr.sun_path));
    char dir[sizeof(addr.sun_path)];
    memcpy(dir, server->path, sizeof(dir));
    if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
        return weft_err_set(err, -errno, "making the directory of %s: %s", server->path,
                            strerror(errno));
    if (clear_stale(&addr, err) < 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return weft_err_set(err, -errno, "creating a socket: %s", strerror(errno));
    struct stat st;
    if (bind(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0) {
        weft_err_set(err, -errno, "binding %s: %s", server->path, strerror(errno));
        goto undo_socket;
    }
    if (chmod(server->path, 0600) < 0 || lstat(server->path, &st) < 0 || listen(fd, 16) < 0) {
        weft_err_set(err, -errno, "setting up %s: %s", server->path, strerror(errno));
        goto undo_bind;
    }
    server->dev = st.st_dev;
    server->ino = st.st_ino;
    return fd;
undo_bind:
    unlink(server->path);
undo_socket:
    close(fd);
    return -1;
}

static void remove_socket_file(const struct control_server *server)
{
    struct stat st;
    if (lstat(server->path, &st) == 0 && st.st_dev == server->dev && st.st_ino == server->ino)
        unlink(server->path);
}

int control_start(const char *path, struct fabric *fabric, struct control_server **out,
                  struct weft_err *err)
{
    *out = NULL;
    struct control_server *server = calloc(1, sizeof(*server));
    if (!server)
        return weft_err_set(err, -ENOMEM, "out of memory");
    server->fabric = fabric;
    server->started_ms = clock_monotonic_ms();
    if (strlen(path) == 0 || strlen(path) >= sizeof(server->path)) {
        weft_err_set(err, -ENAMETOOLONG, "control socket path \"%.200s\" must be 1 to %zu "
                     "characters", path, sizeof(server->path) - 1);
        goto undo_alloc;
    }
    memcpy(server->path, path, strlen(path) + 1);
    int fd = open_socket(server, err);
    if (fd < 0)
        goto undo_alloc;
    server->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL,
        NULL, on_request, server, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)16, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
    if (!server->mhd) {
        weft_err_set(err, -EIO, "starting the control server on %s failed", server->path);
        close(fd);
        remove_socket_file(server);
        goto undo_alloc;
    }
    log_info("control socket listening", "socket=%s", server->path);
    *out = server;
    return 0;
undo_alloc:
    free(server);
    return -1;
}

void control_stop(struct control_server *server)
{
    if (!server)
        return;
    MHD_stop_daemon(server->mhd);
    remove_socket_file(server);
    free(server);
}
