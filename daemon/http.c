/*
 * http.c: the HTTP side of the plugin socket (http.h). Owns the libmicrohttpd
 * daemon and the per-request body buffer (the socket file is unix_socket.c's);
 * every call's meaning is driver_handle's, and a refusal's words are encoded by
 * driver_error_answer, so this file knows HTTP but not JSON. Callers:
 * daemon/main.c, tests.
 *
 * One thread per connection: IPAM calls wait on etcd, and a slow one must not
 * hold up the others (fabric serializes domain calls itself).
 */
#include "daemon/http.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "daemon/unix_socket.h"

#define CONTENT_TYPE "application/vnd.docker.plugins.v1+json"
#define CONNECTION_LIMIT 256
/* The kernel holds a burst of connects while the accept thread starts a thread for
 * each: up to the connection limit, so a burst within it is never refused (128
 * refused some of 250 at once: make stress). */
#define LISTEN_BACKLOG CONNECTION_LIMIT
#define IDLE_TIMEOUT_S 300

struct http_server {
    struct MHD_Daemon *mhd;
    http_handler_fn handler;
    void *handler_cls; /* borrowed */
    struct unix_socket sock; /* the socket file (unix_socket.h) */
};

/* One request in progress: its body so far, or why it is refused. A refused
 * request's body is still read (and dropped) before the answer: a server that
 * answers and closes while the client is still writing makes the client see a
 * reset ("Failed sending data to the peer") instead of the answer. */
struct call {
    struct weft_buf body; /* zeroed by calloc: empty */
    size_t dropped;    /* bytes read and dropped since the refusal */
    bool too_large;    /* answer 413 once the body is read */
    bool wrong_method; /* answer 405 once the body is read */
    char method[17];   /* for the 405's text */
    bool replied;
};

static enum MHD_Result reply(struct MHD_Connection *conn, int status, char *body)
{
    static char oom[] = DRIVER_OOM_ANSWER;
    struct MHD_Response *resp;
    if (body) {
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
        if (!resp)
            free(body);
    } else {
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        resp = MHD_create_response_from_buffer(strlen(oom), oom, MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned int)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Answers an HTTP-level refusal (method, size) the way driver errors look. */
static enum MHD_Result reply_error(struct MHD_Connection *conn, struct call *call, int status,
                                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result reply_error(struct MHD_Connection *conn, struct call *call, int status,
                                   const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (unsigned char *p = (unsigned char *)msg; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f || *p == '"')
            *p = '?';
    }
    log_info("plugin call refused", "status=%d err=\"%s\"", status, msg);
    struct driver_response answer;
    driver_error_answer(status, msg, &answer);
    call->replied = true;
    return reply(conn, answer.status, answer.body);
}

/* Answers a refusal decided earlier, once its body has been read. */
static enum MHD_Result reply_refusal(struct MHD_Connection *conn, struct call *call)
{
    if (call->wrong_method)
        return reply_error(conn, call, MHD_HTTP_METHOD_NOT_ALLOWED, "plugin calls are POST, not %s",
                           call->method);
    return reply_error(conn, call, MHD_HTTP_CONTENT_TOO_LARGE,
                       "request body is larger than %d bytes", HTTP_BODY_MAX);
}

/* Drops body bytes of a refused request; false when there are too many to keep reading. */
static bool drop_body(struct call *call, size_t n)
{
    call->dropped += n;
    if (call->dropped <= HTTP_DRAIN_MAX)
        return true;
    log_warn("plugin call body dropped", "reason=\"larger than %d bytes, connection closed\"",
             HTTP_DRAIN_MAX);
    return false;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *server = cls;
    struct call *call = *con_cls;
    (void)version;

    if (!call) { /* headers are in, no body yet: decide what we can */
        call = calloc(1, sizeof(*call));
        if (!call)
            return MHD_NO;
        *con_cls = call;
        if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
            call->wrong_method = true;
            snprintf(call->method, sizeof(call->method), "%s", method);
        }
        const char *length =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long declared = length ? strtoull(length, NULL, 10) : 0;
        if (declared > HTTP_BODY_MAX)
            call->too_large = true;
        /* Too much to read: answer now. libmicrohttpd then sends no "100 Continue",
         * so a client that asked for one never sends the body. */
        if (declared > HTTP_DRAIN_MAX)
            return reply_refusal(conn, call);
        return MHD_YES;
    }
    if (call->replied) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (call->too_large || call->wrong_method)
            return drop_body(call, n) ? MHD_YES : MHD_NO;
        if (call->body.len + n > HTTP_BODY_MAX) { /* no Content-Length (chunked): drop, answer at end */
            call->too_large = true;
            size_t had = call->body.len;
            weft_buf_free(&call->body);
            return drop_body(call, had + n) ? MHD_YES : MHD_NO;
        }
        return weft_buf_append(&call->body, upload_data, n, NULL) < 0 ? MHD_NO : MHD_YES;
    }
    if (call->too_large || call->wrong_method)
        return reply_refusal(conn, call);
    struct driver_response resp;
    server->handler(server->handler_cls, url, call->body.data, call->body.len, &resp);
    call->replied = true;
    return reply(conn, resp.status, resp.body);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    struct call *call = *con_cls;
    if (call) {
        weft_buf_free(&call->body);
        free(call);
        *con_cls = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[256];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\r\n")] = '\0';
    for (unsigned char *p = (unsigned char *)line; *p; p++) {
        if (*p == '"')
            *p = '\'';
    }
    log_warn("http server", "detail=\"%s\"", line);
}

static void handle_driver_call(void *cls, const char *path, const char *body, size_t body_len,
                               struct driver_response *out)
{
    driver_handle(cls, path, body, body_len, out);
}

int http_server_start(const char *socket_path, struct driver_ctx *ctx, struct http_server **out,
                      struct weft_err *err)
{
    return http_server_start_handler(socket_path, handle_driver_call, ctx, out, err);
}

int http_server_start_handler(const char *socket_path, http_handler_fn handler, void *cls,
                              struct http_server **out, struct weft_err *err)
{
    *out = NULL;
    struct http_server *server = calloc(1, sizeof(*server));
    if (!server)
        return weft_err_set(err, -ENOMEM, "out of memory");
    server->handler = handler;
    server->handler_cls = cls;
    int fd = unix_socket_listen(&server->sock, socket_path, 0660, LISTEN_BACKLOG, err);
    if (fd < 0)
        goto fail_free;

    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                         MHD_USE_POLL | MHD_USE_ERROR_LOG;
    server->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, server, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)IDLE_TIMEOUT_S, MHD_OPTION_END);
    if (!server->mhd) {
        weft_err_set(err, -EIO, "starting the HTTP server on %s failed", server->sock.path);
        close(fd);
        unix_socket_remove(&server->sock);
        goto fail_free;
    }
    log_info("listening", "socket=%s", server->sock.path);
    *out = server;
    return 0;

fail_free:
    free(server);
    return -1;
}

void http_server_stop(struct http_server *server)
{
    if (!server)
        return;
    MHD_stop_daemon(server->mhd); /* closes the listening socket too */
    unix_socket_remove(&server->sock);
    log_info("stopped listening", "socket=%s", server->sock.path);
    free(server);
}
