/*
 * status.c: `weft status` (admin/status.h): its command line, and one GET /status
 * on the daemon's control socket, read to the end (HTTP/1.0: the daemon closes).
 */
#include "admin/status.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/buf.h"
#include "daemon/options.h"

/* The daemon asks the store two questions, each up to its timeout per member. */
#define STATUS_READ_TIMEOUT_S 20

static void usage(FILE *out)
{
    fprintf(out, "usage: weft status [--json] [--control-socket PATH] [hosts|overlays|endpoints]\n"
                 "\n"
                 "What the running daemon knows: its version and uptime, the store (members,\n"
                 "the one in use, lease, watch), this host's overlays and endpoints, the other\n"
                 "hosts, recent warnings and errors. --json prints it as one JSON document\n"
                 "(docs/status.md); a section name narrows it. --control-socket is the daemon's\n"
                 "[WEFT_CONTROL_SOCKET] (default %s).\n"
                 "\n"
                 "Exit status: 0 healthy, 1 degraded (no store, stale watch), 2 daemon\n"
                 "unreachable or bad command line.\n",
            DAEMON_DEFAULT_CONTROL_SOCKET);
}

/* The answer's body into body; -1 with err when the daemon cannot be asked. */
static int fetch_status(const char *path, struct weft_buf *body, struct weft_err *err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(addr.sun_path))
        return weft_err_set(err, -ENAMETOOLONG, "control socket path %s is too long", path);
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return weft_err_set(err, -errno, "creating a socket: %s", strerror(errno));
    struct timeval timeout = {STATUS_READ_TIMEOUT_S, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    static const char request[] = "GET /status HTTP/1.0\r\nHost: weft\r\n\r\n";
    struct weft_buf reply = {0};
    char chunk[8192];
    ssize_t n = 0;
    int rc = -1;
    if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        write(fd, request, sizeof(request) - 1) != (ssize_t)(sizeof(request) - 1)) {
        weft_err_set(err, -errno, "the daemon does not answer on %s: %s%s", path,
                     strerror(errno), errno == EACCES ? " (root only)" : "");
        goto out;
    }
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        if (weft_buf_append(&reply, chunk, (size_t)n, err) < 0)
            goto out;
    if (n < 0) {
        weft_err_set(err, -errno, "reading the daemon's answer on %s: %s", path, strerror(errno));
        goto out;
    }
    const char *start = reply.data ? memmem(reply.data, reply.len, "\r\n\r\n", 4) : NULL;
    if (!start || reply.len < 12 || memcmp(reply.data + 8, " 200", 4) != 0) {
        weft_err_set(err, -EPROTO, "the daemon on %s gave no status (%.40s)", path,
                     reply.data ? reply.data : "no answer");
        goto out;
    }
    start += 4;
    rc = weft_buf_append(body, start, reply.len - (size_t)(start - reply.data), err);
out:
    weft_buf_free(&reply);
    close(fd);
    return rc;
}

static int parse_part(const char *word, enum status_part *part)
{
    static const char *names[] = {"hosts", "overlays", "endpoints"};
    static const enum status_part parts[] = {STATUS_HOSTS, STATUS_OVERLAYS, STATUS_ENDPOINTS};
    for (size_t i = 0; i < 3; i++)
        if (strcmp(word, names[i]) == 0) {
            *part = parts[i];
            return 0;
        }
    return -1;
}

/* The document, printed as asked; the exit status its health says. */
static int show(const char *text, bool json, enum status_part part)
{
    struct weft_status status;
    struct weft_err err = {0};
    if (status_json_decode(text, &status, &err) < 0) {
        fprintf(stderr, "weft status: %s\n", err.msg);
        return 2;
    }
    char why[600];
    int health = weft_status_health(&status, why, sizeof(why));
    char *narrowed = json ? status_json_encode(&status, part) : NULL;
    if (json && narrowed)
        printf("%s\n", narrowed);
    else if (!json)
        status_render(stdout, &status, part);
    free(narrowed);
    weft_status_clear(&status);
    if (health)
        fprintf(stderr, "weft status: %s\n", why);
    return health;
}

int admin_status_main(int argc, char **argv)
{
    static const struct option flags[] = {{"json", no_argument, NULL, 'j'},
                                          {"control-socket", required_argument, NULL, 's'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    bool json = false;
    const char *socket_path = getenv("WEFT_CONTROL_SOCKET");
    enum status_part part = STATUS_ALL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", flags, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            return 0;
        }
        if (c == 'j')
            json = true;
        else if (c == 's')
            socket_path = optarg;
        else
            return usage(stderr), 2;
    }
    if (optind < argc && (optind + 1 < argc || parse_part(argv[optind], &part) < 0)) {
        fprintf(stderr, "weft status: unknown section %s (hosts, overlays or endpoints)\n",
                argv[optind]);
        return 2;
    }
    const char *path = socket_path && *socket_path ? socket_path : DAEMON_DEFAULT_CONTROL_SOCKET;
    struct weft_buf body = {0};
    struct weft_err err = {0};
    if (fetch_status(path, &body, &err) < 0) {
        fprintf(stderr, "weft status: %s\n", err.msg);
        weft_buf_free(&body);
        return 2;
    }
    int rc = show(body.data, json, part);
    weft_buf_free(&body);
    return rc;
}
