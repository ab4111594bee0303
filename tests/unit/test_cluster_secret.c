/*
 * test_cluster_secret.c: `weft keygen`'s line parses back to the same 32 bytes; a
 * secret file is refused, naming its path, when others may read it, when it is no
 * regular file, when its line is not a secret (wrong prefix, short, long, bad
 * characters, two lines), and the messages never show the secret.
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

#include "tunnel/cluster_secret.h"

struct fixture {
    char dir[64];
    char path[128];
};

static int make_dir(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/weft-cluster-XXXXXX");
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

static const char *write_file(struct fixture *f, const char *content, mode_t mode)
{
    unlink(f->path);
    int fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    size_t len = strlen(content);
    assert_int_equal(write(fd, content, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    return f->path;
}

static void keygen_text_is_one_prefixed_line_that_reads_back(void **state)
{
    struct fixture *f = *state;
    struct weft_err err = {0};
    char text[TUNNEL_SECRET_TEXT_MAX], other[TUNNEL_SECRET_TEXT_MAX];
    assert_int_equal(tunnel_secret_text_new(text, &err), 0);
    assert_int_equal(tunnel_secret_text_new(other, &err), 0);
    assert_string_not_equal(text, other);
    assert_int_equal(strlen(text), strlen(TUNNEL_SECRET_PREFIX) + 43 + 1);
    assert_memory_equal(text, TUNNEL_SECRET_PREFIX, strlen(TUNNEL_SECRET_PREFIX));
    assert_int_equal(text[strlen(text) - 1], '\n');
    assert_null(strchr(text, '=')); /* no padding */

    struct tunnel_secret parsed;
    assert_int_equal(tunnel_secret_parse(text, strlen(text), &parsed, &err), 0);
    char again[TUNNEL_SECRET_TEXT_MAX];
    sodium_bin2base64(again, sizeof(again), parsed.key, sizeof(parsed.key),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_memory_equal(again, text + strlen(TUNNEL_SECRET_PREFIX), 43);

    struct tunnel_secret *read = NULL;
    assert_int_equal(tunnel_secret_read(write_file(f, text, 0600), &read, &err), 0);
    assert_memory_equal(read->key, parsed.key, TUNNEL_SECRET_BYTES);
    tunnel_secret_free(read);
    text[strlen(text) - 1] = '\0'; /* without its newline too */
    assert_int_equal(tunnel_secret_read(write_file(f, text, 0400), &read, &err), 0);
    assert_memory_equal(read->key, parsed.key, TUNNEL_SECRET_BYTES);
    tunnel_secret_free(read);
}

static void a_file_others_may_read_is_refused_with_the_fix(void **state)
{
    struct fixture *f = *state;
    struct weft_err err = {0};
    char text[TUNNEL_SECRET_TEXT_MAX];
    assert_int_equal(tunnel_secret_text_new(text, &err), 0);
    const mode_t modes[] = {0644, 0640, 0604, 0660, 0700 | 0020};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct tunnel_secret *read = (struct tunnel_secret *)&err;
        assert_int_equal(tunnel_secret_read(write_file(f, text, modes[i]), &read, &err), -1);
        assert_null(read);
        assert_int_equal(err.code, -EPERM);
        assert_non_null(strstr(err.msg, f->path));
        assert_non_null(strstr(err.msg, "chmod 600"));
    }
}

static void what_is_no_secret_is_refused_naming_the_path(void **state)
{
    struct fixture *f = *state;
    const char *bad[] = {
        "",
        "\n",
        "hunter2\n",
        "weft-secret-v2:ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL_JNti_pqWJuY\n",
        "weft-secret-v1:\n",
        "weft-secret-v1:ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL_JNti_pqWJu\n",    /* 42 */
        "weft-secret-v1:ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL_JNti_pqWJuYA\n",  /* 44 */
        "weft-secret-v1:ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL+JNti/pqWJuY\n",   /* not URL-safe */
        "weft-secret-v1:ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL_JNti_pqWJuY=\n",  /* padded */
        "weft-secret-v1:ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL_JNti_pqWJuY\n\n", /* two lines */
        " weft-secret-v1:ZPkbIVjs1Glt9jpBgv0Z13d8xrRFJSL_JNti_pqWJuY\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct weft_err err = {0};
        struct tunnel_secret *read = NULL;
        assert_int_equal(tunnel_secret_read(write_file(f, bad[i], 0600), &read, &err), -1);
        assert_null(read);
        assert_int_equal(err.code, -EINVAL);
        assert_memory_equal(err.msg, f->path, strlen(f->path));
        assert_non_null(strstr(err.msg, "weft keygen"));
        assert_null(strstr(err.msg, "ZPkb")); /* never the secret itself */
    }
    char big[400];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct weft_err err = {0};
    struct tunnel_secret *read = NULL;
    assert_int_equal(tunnel_secret_read(write_file(f, big, 0600), &read, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    assert_non_null(strstr(err.msg, "too long"));
}

static void a_directory_or_missing_file_is_named(void **state)
{
    struct fixture *f = *state;
    struct weft_err err = {0};
    struct tunnel_secret *read = NULL;
    assert_int_equal(tunnel_secret_read(f->dir, &read, &err), -1);
    assert_int_equal(err.code, -EINVAL);
    assert_non_null(strstr(err.msg, "not a regular file"));
    unlink(f->path);
    assert_int_equal(tunnel_secret_read(f->path, &read, &err), -1);
    assert_int_equal(err.code, -ENOENT);
    assert_memory_equal(err.msg, f->path, strlen(f->path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(keygen_text_is_one_prefixed_line_that_reads_back, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(a_file_others_may_read_is_refused_with_the_fix, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(what_is_no_secret_is_refused_naming_the_path, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(a_directory_or_missing_file_is_named, make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
