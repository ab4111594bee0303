/*
 * test_secret_file.c: secret files are refused as ssh refuses its keys (a mode
 * that lets group or others in, named with the path and the chmod that fixes it),
 * a directory or a missing file is refused with its path, an empty password is
 * refused, and one trailing newline is not part of the password.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/secret_file.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int make_dir(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/weft-secret-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/secret", f->dir);
    *state = f;
    return 0;
}

static int remove_dir(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Writes content to the fixture's file with exactly mode (the umask set aside). */
static const char *write_secret(struct fixture *f, const char *content, size_t len, mode_t mode)
{
    unlink(f->path);
    int fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return f->path;
}

static void mode_0600_is_accepted(void **state)
{
    struct fixture *f = *state;
    struct weft_err err = {0};
    const char *path = write_secret(f, "s3cret\n", 7, 0600);
    assert_int_equal(secret_file_check(path, &err), 0);
    char *password = NULL;
    assert_int_equal(secret_password_read(path, &password, &err), 0);
    assert_string_equal(password, "s3cret");
    secret_password_free(password);
    write_secret(f, "key", 3, 0400); /* stricter is fine */
    assert_int_equal(secret_file_check(path, &err), 0);
}

/* mode, and what the message must say about it. */
static void assert_refused(struct fixture *f, mode_t mode, const char *what)
{
    struct weft_err err = {0};
    const char *path = write_secret(f, "s3cret", 6, mode);
    char want[256];
    snprintf(want, sizeof(want), "%s: mode %04o %s: chmod 600 %s", path, (unsigned)mode, what,
             path);
    assert_int_equal(secret_file_check(path, &err), -1);
    assert_int_equal(err.code, -EPERM);
    assert_string_equal(err.msg, want);
    char *password = (char *)"untouched";
    memset(&err, 0, sizeof(err));
    assert_int_equal(secret_password_read(path, &password, &err), -1);
    assert_null(password);
    assert_string_equal(err.msg, want);
    assert_null(strstr(err.msg, "s3cret")); /* a message never shows the secret */
}

static void group_or_others_bits_are_refused_with_path_and_mode(void **state)
{
    struct fixture *f = *state;
    assert_refused(f, 0640, "lets its group read it");
    assert_refused(f, 0644, "lets others read it");
    assert_refused(f, 0604, "lets others read it");
    assert_refused(f, 0620, "lets its group write it");
    assert_refused(f, 0602, "lets others write it");
}

static void a_directory_is_refused(void **state)
{
    struct fixture *f = *state;
    struct weft_err err = {0};
    assert_int_equal(secret_file_check(f->dir, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    char want[128];
    snprintf(want, sizeof(want), "%s: not a regular file", f->dir);
    assert_string_equal(err.msg, want);
    char *password = NULL;
    assert_int_equal(secret_password_read(f->dir, &password, &err), -1);
    assert_string_equal(err.msg, want);
}

static void a_missing_file_is_named(void **state)
{
    struct fixture *f = *state;
    struct weft_err err = {0};
    unlink(f->path);
    char want[192];
    snprintf(want, sizeof(want), "%s: No such file or directory", f->path);
    assert_int_equal(secret_file_check(f->path, &err), -1);
    assert_int_equal(err.code, -ENOENT);
    assert_string_equal(err.msg, want);
    char *password = NULL;
    assert_int_equal(secret_password_read(f->path, &password, &err), -1);
    assert_string_equal(err.msg, want);
}

static void an_empty_password_is_refused(void **state)
{
    struct fixture *f = *state;
    struct weft_err err = {0};
    char *password = NULL;
    const char *empty[] = {"", "\n"}; /* a lone newline is an empty password too */
    for (size_t i = 0; i < 2; i++) {
        const char *path = write_secret(f, empty[i], strlen(empty[i]), 0600);
        assert_int_equal(secret_password_read(path, &password, &err), -1);
        assert_null(password);
        assert_int_equal(err.code, -EINVAL);
        assert_non_null(strstr(err.msg, "the password is empty"));
        assert_non_null(strstr(err.msg, path));
    }
}

static void one_trailing_newline_is_stripped(void **state)
{
    struct fixture *f = *state;
    struct weft_err err = {0};
    char *password = NULL;
    const char *path = write_secret(f, "pw\n\n", 4, 0600); /* only the last one goes */
    assert_int_equal(secret_password_read(path, &password, &err), 0);
    assert_string_equal(password, "pw\n");
    secret_password_free(password);
    write_secret(f, "no newline", 10, 0600);
    assert_int_equal(secret_password_read(path, &password, &err), 0);
    assert_string_equal(password, "no newline");
    secret_password_free(password);
    write_secret(f, " spaces kept \n", 14, 0600);
    assert_int_equal(secret_password_read(path, &password, &err), 0);
    assert_string_equal(password, " spaces kept ");
    secret_password_free(password);
    secret_password_free(NULL);
}

static void a_nul_byte_or_an_oversized_file_is_refused(void **state)
{
    struct fixture *f = *state;
    struct weft_err err = {0};
    char *password = NULL;
    const char *path = write_secret(f, "ab\0cd", 5, 0600);
    assert_int_equal(secret_password_read(path, &password, &err), -1);
    assert_non_null(strstr(err.msg, "NUL byte"));
    static char big[SECRET_PASSWORD_MAX + 1];
    memset(big, 'x', sizeof(big));
    write_secret(f, big, sizeof(big), 0600);
    assert_int_equal(secret_password_read(path, &password, &err), -1);
    assert_non_null(strstr(err.msg, "longer than"));
    write_secret(f, big, SECRET_PASSWORD_MAX, 0600); /* exactly the limit is fine */
    assert_int_equal(secret_password_read(path, &password, &err), 0);
    assert_int_equal(strlen(password), SECRET_PASSWORD_MAX);
    secret_password_free(password);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(mode_0600_is_accepted, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(group_or_others_bits_are_refused_with_path_and_mode,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_directory_is_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_missing_file_is_named, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(an_empty_password_is_refused, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(one_trailing_newline_is_stripped, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(a_nul_byte_or_an_oversized_file_is_refused, make_dir,
                                        remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
