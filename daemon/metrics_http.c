/*
 * metrics_http.c: the /metrics endpoint (metrics_http.h). One polling thread is
 * enough: a scrape writes a few kilobytes from atomics and /proc, with no lock
 * and no store or kernel call, so it never waits on the rest of the daemon.
 */
#include "daemon/metrics_http.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "common/metrics_process.h"
#include "common/metrics_text.h"
#include "common/weft_metrics.h"

#define METRICS_CONNECTION_LIMIT 16
#define METRICS_IDLE_TIMEOUT_S 30

struct metrics_http {
    struct MHD_Daemon *mhd;
    char address[128];
};

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int status,
                                  const char *content_type, char *body, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result reply_plain(struct MHD_Connection *conn, unsigned int status,
                                   const char *text)
{
    char *body = strdup(text);
    return body ? reply_text(conn, status, "text/plain; charset=utf-8", body, strlen(body))
                : MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    if (!*con_cls) { /* headers are in: answer on the next call, once any body is read */
        *con_cls = conn;
        return MHD_YES;
    }
    if (*upload_data_size > 0) { /* a body is no part of a scrape: dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") != 0)
        return reply_plain(conn, MHD_HTTP_NOT_FOUND, "weft serves only /metrics\n");
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return reply_plain(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "use GET\n");
    struct weft_buf out = WEFT_BUF_INIT;
    struct weft_err err = {0};
    if (weft_metrics_write(&out, &err) < 0 || metrics_process_write(&out, &err) < 0) {
        weft_buf_free(&out);
        return reply_plain(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    size_t len;
    char *body = weft_buf_take(&out, &len);
    return reply_text(conn, MHD_HTTP_OK, METRICS_TEXT_CONTENT_TYPE, body ? body : strdup(""), len);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[256];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\r\n")] = '\0';
    for (char *p = line; *p; p++)
        if (*p == '"')
            *p = '\'';
    log_warn("metrics server", "detail=\"%s\"", line);
}

/* Splits "HOST:PORT" or "[V6]:PORT" into host and port. */
static int split_address(const char *address, char *host, size_t host_size, char port[8],
                         struct weft_err *err)
{
    const char *colon = strrchr(address, ':');
    const char *start = address, *end = colon;
    if (address[0] == '[') {
        const char *close = strchr(address, ']');
        if (!close || close + 1 != colon)
            colon = NULL;
        start = address + 1;
        end = close;
    }
    size_t port_len = colon ? strlen(colon + 1) : 0;
    if (!colon || end <= start || (size_t)(end - start) >= host_size || port_len == 0 ||
        port_len > 5 || strspn(colon + 1, "0123456789") != port_len)
        return weft_err_set(err, -EINVAL,
                            "--metrics %.100s: expected HOST:PORT (an IPv6 host in brackets, "
                            "[::1]:9776)",
                            address);
    memcpy(host, start, (size_t)(end - start));
    host[end - start] = '\0';
    snprintf(port, 8, "%s", colon + 1);
    return 0;
}

/* A listening TCP socket on address. */
static int open_listener(const char *address, struct weft_err *err)
{
    char host[100], port[8];
    if (split_address(address, host, sizeof(host), port, err) < 0)
        return -1;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0)
        return weft_err_set(err, -EINVAL, "--metrics %s: %s", address, gai_strerror(rc));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 32) < 0) {
        weft_err_set(err, -errno, "--metrics %s: %s", address, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int metrics_http_start(const char *address, struct metrics_http **out, struct weft_err *err)
{
    *out = NULL;
    struct metrics_http *server = calloc(1, sizeof(*server));
    if (!server)
        return weft_err_set(err, -ENOMEM, "out of memory");
    snprintf(server->address, sizeof(server->address), "%s", address);
    int fd = open_listener(address, err);
    if (fd < 0) {
        free(server);
        return -1;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG;
    server->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)METRICS_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)METRICS_IDLE_TIMEOUT_S, MHD_OPTION_END);
    if (!server->mhd) {
        close(fd);
        free(server);
        return weft_err_set(err, -EIO, "starting the metrics server on %s failed", address);
    }
    log_info("serving metrics", "address=%s path=/metrics", server->address);
    *out = server;
    return 0;
}

void metrics_http_stop(struct metrics_http *server)
{
    if (!server)
        return;
    MHD_stop_daemon(server->mhd); /* closes the listening socket too */
    free(server);
}
