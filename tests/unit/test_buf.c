/*
 * test_buf.c: the growable byte buffer of common/buf.c keeps every byte, stays
 * NUL-terminated, hands its memory over, and refuses an impossible size with
 * an error instead of aborting.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void appends_keep_every_byte_across_growth(void **state)
{
    (void)state;
    struct weft_buf buf = WEFT_BUF_INIT;
    char expect[10000];
    for (size_t i = 0; i < sizeof(expect); i++) {
        char c = (char)(i * 7); /* includes NUL bytes: the buffer holds bytes, not text */
        expect[i] = c;
        assert_int_equal(weft_buf_append(&buf, &c, 1, NULL), 0);
        assert_int_equal(buf.len, i + 1);
        assert_true(buf.cap > buf.len);
        assert_int_equal(buf.data[buf.len], '\0');
    }
    assert_memory_equal(buf.data, expect, sizeof(expect));
    weft_buf_free(&buf);
    assert_null(buf.data);
    assert_int_equal(buf.len, 0);
    assert_int_equal(buf.cap, 0);
}

static void empty_append_makes_an_empty_string(void **state)
{
    (void)state;
    struct weft_buf buf = WEFT_BUF_INIT;
    assert_int_equal(weft_buf_append(&buf, NULL, 0, NULL), 0);
    assert_non_null(buf.data);
    assert_string_equal(buf.data, "");
    weft_buf_free(&buf);
}

static void reserve_makes_room_without_moving_later(void **state)
{
    (void)state;
    struct weft_buf buf = WEFT_BUF_INIT;
    assert_int_equal(weft_buf_reserve(&buf, 5000, NULL), 0);
    assert_true(buf.cap >= 5001);
    assert_int_equal(buf.len, 0);
    char *before = buf.data;
    char chunk[1000];
    memset(chunk, 'x', sizeof(chunk));
    for (int i = 0; i < 5; i++)
        assert_int_equal(weft_buf_append(&buf, chunk, sizeof(chunk), NULL), 0);
    assert_ptr_equal(buf.data, before); /* the reserved room sufficed */
    assert_int_equal(buf.len, 5000);
    weft_buf_free(&buf);
}

static void consume_drops_the_front(void **state)
{
    (void)state;
    struct weft_buf buf = WEFT_BUF_INIT;
    assert_int_equal(weft_buf_append(&buf, "line one\nline tw", 16, NULL), 0);
    weft_buf_consume(&buf, 9);
    assert_string_equal(buf.data, "line tw");
    assert_int_equal(buf.len, 7);
    assert_int_equal(weft_buf_append(&buf, "o\n", 2, NULL), 0);
    assert_string_equal(buf.data, "line two\n");
    weft_buf_consume(&buf, 100); /* more than held: empty, not overrun */
    assert_int_equal(buf.len, 0);
    assert_string_equal(buf.data, "");
    weft_buf_free(&buf);
}

static void clear_keeps_the_memory(void **state)
{
    (void)state;
    struct weft_buf buf = WEFT_BUF_INIT;
    weft_buf_clear(&buf); /* on a buffer that never held anything */
    assert_int_equal(weft_buf_append(&buf, "abc", 3, NULL), 0);
    size_t cap = buf.cap;
    weft_buf_clear(&buf);
    assert_int_equal(buf.len, 0);
    assert_int_equal(buf.cap, cap);
    assert_string_equal(buf.data, "");
    weft_buf_free(&buf);
}

static void take_hands_the_bytes_over(void **state)
{
    (void)state;
    struct weft_buf buf = WEFT_BUF_INIT;
    size_t len = 99;
    assert_null(weft_buf_take(&buf, &len)); /* nothing ever stored */
    assert_int_equal(len, 0);
    assert_int_equal(weft_buf_append(&buf, "{\"a\":1}", 7, NULL), 0);
    char *text = weft_buf_take(&buf, &len);
    assert_string_equal(text, "{\"a\":1}");
    assert_int_equal(len, 7);
    assert_null(buf.data); /* the buffer is empty and reusable */
    assert_int_equal(buf.len, 0);
    assert_int_equal(weft_buf_append(&buf, "b", 1, NULL), 0);
    assert_string_equal(buf.data, "b");
    free(text);
    weft_buf_free(&buf);
}

static void impossible_sizes_fail_with_enomem(void **state)
{
    (void)state;
    struct weft_buf buf = WEFT_BUF_INIT;
    assert_int_equal(weft_buf_append(&buf, "abc", 3, NULL), 0);
    struct weft_err err = {0};
    assert_int_equal(weft_buf_reserve(&buf, SIZE_MAX, &err), -1);
    assert_int_equal(err.code, -ENOMEM);
    assert_true(strlen(err.msg) > 0);
    assert_int_equal(weft_buf_reserve(&buf, SIZE_MAX - 3, NULL), -1); /* err may be NULL */
    assert_int_equal(weft_buf_append(&buf, "x", SIZE_MAX - 3, NULL), -1);
    /* The buffer is as it was. (A size realloc refuses is not tried here: ASan
     * stops the program on it rather than return NULL.) */
    assert_int_equal(buf.len, 3);
    assert_string_equal(buf.data, "abc");
    weft_buf_free(&buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(appends_keep_every_byte_across_growth),
        cmocka_unit_test(empty_append_makes_an_empty_string),
        cmocka_unit_test(reserve_makes_room_without_moving_later),
        cmocka_unit_test(consume_drops_the_front),
        cmocka_unit_test(clear_keeps_the_memory),
        cmocka_unit_test(take_hands_the_bytes_over),
        cmocka_unit_test(impossible_sizes_fail_with_enomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
