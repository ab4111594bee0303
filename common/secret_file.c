/*
 * secret_file.c: secret files checked as ssh checks its keys, and passwords read
 * from them into memory that is wiped when freed (see secret_file.h).
 */
#include "common/secret_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Which permission bit beyond the owner's is the most telling one to name. */
static const char *who_gets_in(mode_t mode)
{
    if (mode & S_IROTH)
        return "lets others read it";
    if (mode & S_IWOTH)
        return "lets others write it";
    if (mode & S_IRGRP)
        return "lets its group read it";
    if (mode & S_IWGRP)
        return "lets its group write it";
    return "lets others execute it"; /* an x bit alone: still not a private file */
}

/* Opens path for reading and checks the open file (not the name again, which may
 * change in between): regular, private. Returns the fd or -1. O_NONBLOCK keeps a
 * FIFO given by mistake from hanging the start-up. */
static int open_private(const char *path, struct weft_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int e = errno;
        return weft_err_set(err, -e, "%s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return weft_err_set(err, -e, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return weft_err_set(err, -EINVAL, "%s: not a regular file", path);
    }
    mode_t perms = st.st_mode & 07777;
    if (perms & (S_IRWXG | S_IRWXO)) {
        close(fd);
        return weft_err_set(err, -EPERM, "%s: mode %04o %s: chmod 600 %s", path, (unsigned)perms,
                            who_gets_in(perms), path);
    }
    return fd;
}

int secret_file_check(const char *path, struct weft_err *err)
{
    int fd = open_private(path, err);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Reads all of fd into buf (size bytes, one more than a password may have), so a
 * longer file is told apart from one that fills the limit. Returns the length or -1. */
static ssize_t read_all(int fd, char *buf, size_t size)
{
    size_t len = 0;
    while (len < size) {
        ssize_t n = read(fd, buf + len, size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    return (ssize_t)len;
}

int secret_file_read(const char *path, void *buf, size_t cap, size_t *len, struct weft_err *err)
{
    *len = 0;
    int fd = open_private(path, err);
    if (fd < 0)
        return -1;
    ssize_t n = read_all(fd, buf, cap);
    char extra; /* one byte more tells a file of cap bytes from a longer one */
    ssize_t more = n == (ssize_t)cap ? read_all(fd, &extra, 1) : 0;
    int read_errno = errno;
    close(fd);
    if (n < 0 || more < 0) {
        sodium_memzero(buf, cap);
        return weft_err_set(err, -read_errno, "%s: %s", path, strerror(read_errno));
    }
    if (more > 0) {
        sodium_memzero(buf, cap);
        return weft_err_set(err, -EFBIG, "%s: longer than %zu bytes", path, cap);
    }
    *len = (size_t)n;
    return 0;
}

int secret_password_read(const char *path, char **out, struct weft_err *err)
{
    *out = NULL;
    int fd = open_private(path, err);
    if (fd < 0)
        return -1;
    /* One buffer of the largest size: the password is never copied or reallocated,
     * so no stray copy is left behind to wipe. */
    char *buf = calloc(1, SECRET_PASSWORD_MAX + 2);
    if (!buf) {
        close(fd);
        return weft_err_set(err, -ENOMEM, "out of memory");
    }
    ssize_t len = read_all(fd, buf, SECRET_PASSWORD_MAX + 1);
    int read_errno = errno;
    close(fd);
    if (len < 0) {
        secret_password_free(buf);
        return weft_err_set(err, -read_errno, "%s: %s", path, strerror(read_errno));
    }
    if (len > 0 && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (len > SECRET_PASSWORD_MAX) {
        secret_password_free(buf);
        return weft_err_set(err, -EINVAL, "%s: longer than %d bytes: not a password file", path,
                            SECRET_PASSWORD_MAX);
    }
    if (len == 0) {
        secret_password_free(buf);
        return weft_err_set(err, -EINVAL, "%s: the password is empty", path);
    }
    if (memchr(buf, '\0', (size_t)len)) {
        secret_password_free(buf);
        return weft_err_set(err, -EINVAL, "%s: the password contains a NUL byte", path);
    }
    *out = buf;
    return 0;
}

void secret_password_free(char *password)
{
    if (!password)
        return;
    /* The whole buffer: a longer file's bytes beyond the password were read too. */
    sodium_memzero(password, SECRET_PASSWORD_MAX + 2);
    free(password);
}

int secret_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}
