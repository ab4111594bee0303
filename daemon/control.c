/*
 * control.c: the control socket (control.h). A libmicrohttpd server like the
 * plugin socket's (daemon/http.c) but read-only and for root: GET /status only.
 */
#include "daemon/control.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "daemon/libraries.h"
#include "daemon/unix_socket.h"
#include "driver/status_json.h"
#include "fabric/status.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

struct control_server {
    struct MHD_Daemon *mhd;
    struct fabric *fabric; /* borrowed */
    long started_ms;       /* monotonic */
    struct unix_socket sock; /* the socket file, 0600 (unix_socket.h) */
};

/* The whole document, from memory: NULL when out of memory. */
static char *status_document(struct control_server *server)
{
    struct weft_status status;
    struct weft_err err = {0};
    if (fabric_status_read(server->fabric, &status, &err) < 0)
        return NULL;
    snprintf(status.version, sizeof(status.version), "%s", WEFT_VERSION);
    daemon_libraries(status.libraries, sizeof(status.libraries));
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

int control_start(const char *path, struct fabric *fabric, struct control_server **out,
                  struct weft_err *err)
{
    *out = NULL;
    struct control_server *server = calloc(1, sizeof(*server));
    if (!server)
        return weft_err_set(err, -ENOMEM, "out of memory");
    server->fabric = fabric;
    server->started_ms = clock_monotonic_ms();
    int fd = unix_socket_listen(&server->sock, path, 0600, 16, err);
    if (fd < 0)
        goto undo_alloc;
    server->mhd = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL,
        NULL, on_request, server, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)16, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30, MHD_OPTION_END);
    if (!server->mhd) {
        weft_err_set(err, -EIO, "starting the control server on %s failed", server->sock.path);
        close(fd);
        unix_socket_remove(&server->sock);
        goto undo_alloc;
    }
    log_info("control socket listening", "socket=%s", server->sock.path);
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
    unix_socket_remove(&server->sock);
    free(server);
}
