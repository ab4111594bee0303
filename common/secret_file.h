/*
 * secret_file.h: reading the files that hold weft's secrets (the etcd user's
 * password, the client certificate's private key) the way ssh reads its keys.
 *
 * Owns: the checks a secret file must pass before weft uses it: a regular file
 * (after symlinks), readable and writable by its owner only (no group or other
 * bit: "PATH: mode 0644 lets others read it: chmod 600 PATH"), and, for a
 * password, not empty, at most SECRET_PASSWORD_MAX bytes, no NUL byte; one
 * trailing newline is not part of the password. Callers: daemon/ at start-up
 * (and weft's admin commands). Thread-safe (no shared state). Logs nothing;
 * a message never contains the secret itself.
 */
#ifndef WEFT_SECRET_FILE_H
#define WEFT_SECRET_FILE_H

#include <stddef.h>

#include "common/err.h"

#define SECRET_PASSWORD_MAX 4096

/* Checks that path is a regular file only its owner may read or write, without
 * reading it (for a key file that libcurl reads itself). -EPERM for a mode that
 * lets others in, -EINVAL for a file that is not regular, the open's errno else. */
int secret_file_check(const char *path, struct weft_err *err);

/* Reads all of path (checked as secret_file_check does, on the open file) into the
 * caller's buf of cap bytes, e.g. locked memory from sodium_malloc; *len receives
 * the length. A file longer than cap is refused (-EFBIG), naming the path. */
int secret_file_read(const char *path, void *buf, size_t cap, size_t *len, struct weft_err *err);

/* Reads the password in path (checked as secret_file_check does) into a new
 * NUL-terminated string, *out, without one trailing newline. The caller wipes and
 * frees it with secret_password_free as soon as it has copied it. An empty
 * password is refused (-EINVAL). */
int secret_password_read(const char *path, char **out, struct weft_err *err);

/* Wipes (sodium_memzero) and frees a password from secret_password_read; NULL is fine. */
void secret_password_free(char *password);

/* Writes all of data to fd (a secret file weft makes: a password, a cluster secret),
 * retrying short writes and EINTR. 0, or -1 with errno set. */
int secret_write_all(int fd, const char *data, size_t len);

#endif
