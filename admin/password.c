/*
 * password.c: the hosts' etcd passwords: made from libsodium's randomness, written
 * to files only their owner reads, and read back for --store-password-file. A
 * password never goes to a log or the terminal; buffers holding one are wiped.
 */
#include "admin/admin_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/secret_file.h"

int admin_password_new(char password[ADMIN_PASSWORD_MAX], struct weft_err *err)
{
    if (sodium_init() < 0)
        return weft_err_set(err, -EIO, "initialising libsodium failed");
    unsigned char secret[ADMIN_PASSWORD_BYTES];
    randombytes_buf(secret, sizeof(secret));
    _Static_assert(sodium_base64_ENCODED_LEN(ADMIN_PASSWORD_BYTES,
                                             sodium_base64_VARIANT_ORIGINAL) <= ADMIN_PASSWORD_MAX,
                   "ADMIN_PASSWORD_MAX holds a password");
    sodium_bin2base64(password, ADMIN_PASSWORD_MAX, secret, sizeof(secret),
                      sodium_base64_VARIANT_ORIGINAL);
    sodium_memzero(secret, sizeof(secret));
    return 0;
}

int admin_password_file_write(const char *path, const char *password, struct weft_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return weft_err_set(err, -EEXIST,
                            "%s exists: weft admit never overwrites a password file (move it "
                            "away, or name another with --password-file)",
                            path);
    if (fd < 0)
        return weft_err_set(err, -errno, "cannot create %s: %s", path, strerror(errno));
    /* The umask may only take bits away; 0600 exactly is what the daemon expects. */
    if (fchmod(fd, 0600) < 0 || secret_write_all(fd, password, strlen(password)) < 0 || fsync(fd) < 0) {
        int saved = errno ? errno : EIO;
        close(fd);
        unlink(path);
        return weft_err_set(err, -saved, "cannot write %s: %s", path, strerror(saved));
    }
    if (close(fd) < 0) {
        int saved = errno;
        unlink(path);
        return weft_err_set(err, -saved, "cannot write %s: %s", path, strerror(saved));
    }
    return 0;
}
