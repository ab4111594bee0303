/*
 * test_err.c: struct weft_err carries a kind and a message, set by one call;
 * wrapping adds context and keeps the kind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"

static void set_writes_kind_and_message(void **state)
{
    (void)state;
    struct weft_err err = {0};
    assert_int_equal(err.code, 0); /* {0} leaves no kind: nothing failed yet */
    assert_int_equal(weft_err_set(&err, -EEXIST, "address %s is taken", "10.1.0.5"), -1);
    assert_int_equal(err.code, -EEXIST);
    assert_string_equal(err.msg, "address 10.1.0.5 is taken");
    assert_int_equal(weft_err_set(NULL, -ENOMEM, "nobody listens"), -1);
}

static void an_error_always_has_a_kind(void **state)
{
    (void)state;
    struct weft_err err = {0};
    weft_err_set(&err, 0, "no kind given");
    assert_int_equal(err.code, -EINVAL);
    weft_err_set(&err, ENOENT, "positive errno");
    assert_int_equal(err.code, -EINVAL);
    assert_int_equal(weft_err_set(&err, -EINVAL, "subnet %s is not valid", "10.1.0.0/33"), -1);
    assert_int_equal(err.code, -EINVAL);
    assert_string_equal(err.msg, "subnet 10.1.0.0/33 is not valid");
}

static void wrap_keeps_the_kind(void **state)
{
    (void)state;
    struct weft_err err = {0};
    weft_err_set(&err, -ETIMEDOUT, "store unreachable");
    assert_int_equal(weft_err_wrap(&err, "creating network %s", "n1"), -1);
    assert_string_equal(err.msg, "creating network n1: store unreachable");
    assert_int_equal(err.code, -ETIMEDOUT);
    assert_int_equal(weft_err_wrap(NULL, "ignored"), -1);
}

static void long_messages_are_cut_not_overrun(void **state)
{
    (void)state;
    char long_text[2 * WEFT_ERR_MAX];
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    struct weft_err err = {0};
    weft_err_set(&err, -EIO, "%s", long_text);
    assert_int_equal(strlen(err.msg), WEFT_ERR_MAX - 1);
    weft_err_wrap(&err, "%s", long_text); /* the context alone fills it */
    assert_int_equal(strlen(err.msg), WEFT_ERR_MAX - 1);
    assert_int_equal(err.code, -EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_writes_kind_and_message),
        cmocka_unit_test(an_error_always_has_a_kind),
        cmocka_unit_test(wrap_keeps_the_kind),
        cmocka_unit_test(long_messages_are_cut_not_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
