/*
 * resolv_conf.c: the host's nameservers (resolv_conf.h). Parsing reads lines as
 * glibc's res_init does for "nameserver": the keyword at the start of a line, one
 * address after it, the rest of the line ignored. Following keeps the identity
 * (device, inode, size, mtime) of the last good read and re-reads only when a
 * stat, made at most once a second, shows another.
 */
#include "dns/resolv_conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define NAMESERVER "nameserver"
#define DNS_PORT 53
/* A file is stat'ed at most this often. */
#define RECHECK_MS 1000
/* More of a file is not read: nameserver lines sit near the top, and a file
 * this long is no resolv.conf. Only whole lines of what was read count. */
#define READ_MAX (64 * 1024)
/* Room for "address%scope". */
#define TOKEN_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 1)

/* The address text of one line, into token: false when the line names no server
 * (another keyword, a comment, no address, or an address too long to be one). */
static bool nameserver_token(const char *line, size_t len, char *token)
{
    size_t keyword = strlen(NAMESERVER), pos = 0;
    if (len <= keyword || strncmp(line, NAMESERVER, keyword) != 0)
        return false;
    pos = keyword;
    if (line[pos] != ' ' && line[pos] != '\t')
        return false;
    while (pos < len && (line[pos] == ' ' || line[pos] == '\t'))
        pos++;
    size_t start = pos;
    while (pos < len && line[pos] != ' ' && line[pos] != '\t' && line[pos] != '\r' &&
           line[pos] != '#' && line[pos] != ';')
        pos++;
    if (pos == start || pos - start >= TOKEN_MAX)
        return false;
    memcpy(token, line + start, pos - start);
    token[pos - start] = '\0';
    return true;
}

/* An IPv6 zone ("%eth0" or "%2") as an interface index; 0 when unknown. */
static uint32_t scope_id(const char *scope)
{
    char *end;
    unsigned long index = strtoul(scope, &end, 10);
    if (*scope != '\0' && *end == '\0' && index <= UINT32_MAX)
        return (uint32_t)index;
    return if_nametoindex(scope);
}

/* token as a server address, port 53. */
static bool server_parse(char *token, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    if (inet_pton(AF_INET, token, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(DNS_PORT);
        return true;
    }
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    char *scope = strchr(token, '%');
    if (scope)
        *scope++ = '\0';
    if (inet_pton(AF_INET6, token, &v6->sin6_addr) != 1)
        return false;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(DNS_PORT);
    if (scope)
        v6->sin6_scope_id = scope_id(scope);
    return true;
}

int resolv_conf_parse(const char *text, struct sockaddr_storage *out, size_t max, size_t *count,
                      struct weft_err *err)
{
    (void)err; /* nothing here allocates */
    *count = 0;
    if (!text)
        return 0;
    for (const char *line = text; *line != '\0' && *count < max;) {
        const char *newline = strchr(line, '\n');
        size_t len = newline ? (size_t)(newline - line) : strlen(line);
        char token[TOKEN_MAX];
        if (nameserver_token(line, len, token) && server_parse(token, &out[*count]))
            (*count)++;
        line += newline ? len + 1 : len;
    }
    return 0;
}

struct resolv_conf {
    char *path;
    bool checked;    /* stat was tried at least once */
    long checked_ms; /* when (clock_monotonic_ms) */
    bool read;       /* identity holds the file of servers */
    struct stat identity;
    bool warned; /* the present failure is logged */
    size_t count;
    struct sockaddr_storage servers[RESOLV_CONF_MAX];
};

struct resolv_conf *resolv_conf_new(const char *path)
{
    struct resolv_conf *rc = calloc(1, sizeof(*rc));
    if (!rc)
        return NULL;
    rc->path = strdup(path ? path : RESOLV_CONF_DEFAULT);
    if (!rc->path) {
        free(rc);
        return NULL;
    }
    return rc;
}

void resolv_conf_free(struct resolv_conf *rc)
{
    if (!rc)
        return;
    free(rc->path);
    free(rc);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The text of the open file fd (NUL-terminated, at most READ_MAX bytes, cut after
 * its last whole line when longer), allocated; NULL with errno set. */
static char *text_read(int fd)
{
    char *text = malloc(READ_MAX + 1);
    if (!text)
        return NULL;
    size_t len = 0;
    while (len < READ_MAX) {
        ssize_t n = read(fd, text + len, READ_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            free(text);
            errno = saved;
            return NULL;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    text[len] = '\0';
    if (len == READ_MAX) {
        char *last = strrchr(text, '\n');
        *(last ? last + 1 : text) = '\0';
    }
    return text;
}

/* Reads the servers of the file now at rc->path. A missing file is no server;
 * any other failure keeps the list, and says why in *why. */
static bool servers_read(struct resolv_conf *rc, const char **why)
{
    int fd = open(rc->path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 && errno == ENOENT) {
        rc->count = 0;
        rc->read = false;
        return true;
    }
    if (fd < 0 || fstat(fd, &st) != 0) {
        *why = strerror(errno);
        if (fd >= 0)
            close(fd);
        return false;
    }
    char *text = text_read(fd);
    int saved = errno;
    close(fd);
    if (!text) {
        *why = strerror(saved);
        return false;
    }
    resolv_conf_parse(text, rc->servers, RESOLV_CONF_MAX, &rc->count, NULL);
    free(text);
    rc->identity = st;
    rc->read = true;
    return true;
}

/* Whether the file at rc->path is not the one last read (or cannot be stat'ed,
 * which servers_read then sorts out). */
static bool file_changed(const struct resolv_conf *rc)
{
    struct stat st;
    if (stat(rc->path, &st) != 0)
        return errno != ENOENT || rc->read;
    return !rc->read || !same_file(&st, &rc->identity);
}

size_t resolv_conf_servers(struct resolv_conf *rc, struct sockaddr_storage *out, size_t max)
{
    long now = clock_monotonic_ms();
    if (!rc->checked || now - rc->checked_ms >= RECHECK_MS) {
        bool first = !rc->checked;
        rc->checked = true;
        rc->checked_ms = now;
        const char *why = NULL;
        bool stale = first || file_changed(rc);
        if (stale && servers_read(rc, &why)) {
            rc->warned = false;
        } else if (stale && !rc->warned) {
            log_warn("resolv.conf unreadable, keeping its last servers",
                     "path=%s servers=%zu error=\"%s\"", rc->path, rc->count, why);
            rc->warned = true;
        }
    }
    size_t n = rc->count < max ? rc->count : max;
    memcpy(out, rc->servers, n * sizeof(*out));
    return n;
}
