/* test_hash.c: the shared hash index finds every entry by its key, tells apart
 * keys whose hashes collide, stays whole across doubling and removal, and walks
 * every entry once even while the walker frees what it was given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/hash.h"

struct item {
    int value;
    struct hash_node node; /* not first, so HASH_ENTRY must do the arithmetic */
    unsigned seen;
};

static bool item_match(const struct hash_node *node, const void *key)
{
    return HASH_ENTRY(node, const struct item, node)->value == *(const int *)key;
}

static uint32_t item_hash(int value)
{
    return hash_bytes(HASH_SEED, &value, sizeof(value));
}

static struct item *find(const struct hash *h, int value, uint32_t hash)
{
    struct hash_node *n = hash_find(h, hash, &value);
    return n ? HASH_ENTRY(n, struct item, node) : NULL;
}

static void fnv1a_matches_the_reference(void **state)
{
    (void)state;
    assert_int_equal(hash_string(HASH_SEED, ""), 0x811c9dc5u);
    assert_int_equal(hash_string(HASH_SEED, "a"), 0xe40c292cu);
    assert_int_equal(hash_string(HASH_SEED, "foobar"), 0xbf9cf968u);
    /* Feeding a key in parts is feeding it whole. */
    assert_int_equal(hash_string(hash_string(HASH_SEED, "foo"), "bar"),
                     hash_bytes(HASH_SEED, "foobar", 6));
}

static void buckets_round_up_and_fini_resets(void **state)
{
    (void)state;
    struct hash h;
    assert_int_equal(hash_init(&h, 100, item_match), 0);
    assert_int_equal(h.bucket_count, 128);
    assert_int_equal(h.count, 0);
    int missing = 7;
    assert_null(hash_find(&h, item_hash(missing), &missing));
    hash_fini(&h);
    assert_null(h.buckets);
    assert_int_equal(h.bucket_count, 0);
    /* A finished index finds nothing and walks nothing, rather than crashing. */
    assert_null(hash_find(&h, item_hash(missing), &missing));
    struct hash_iter it;
    hash_iter_init(&it, &h);
    assert_null(hash_iter_next(&it));
    assert_int_equal(hash_init(&h, 0, item_match), 0);
    assert_int_equal(h.bucket_count, 1);
    hash_fini(&h);
}

/* Every key under one hash value: only the match function tells them apart. */
static void colliding_keys_stay_apart(void **state)
{
    (void)state;
    struct hash h;
    assert_int_equal(hash_init(&h, 4, item_match), 0);
    struct item items[10];
    for (int i = 0; i < 10; i++) {
        items[i] = (struct item){.value = i};
        hash_add(&h, &items[i].node, 42);
    }
    for (int i = 0; i < 10; i++)
        assert_ptr_equal(find(&h, i, 42), &items[i]);
    assert_null(find(&h, 10, 42));
    assert_null(find(&h, 3, 43)); /* the right key under another hash is not found */
    hash_remove(&h, &items[3].node);
    assert_null(find(&h, 3, 42));
    assert_ptr_equal(find(&h, 2, 42), &items[2]);
    assert_ptr_equal(find(&h, 4, 42), &items[4]);
    assert_int_equal(h.count, 9);
    hash_fini(&h);
}

static void large_index_survives_doubling_and_removal(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct item *items = calloc(N, sizeof(*items));
    assert_non_null(items);
    struct hash h;
    assert_int_equal(hash_init(&h, 16, item_match), 0);
    for (int i = 0; i < N; i++) {
        items[i].value = i;
        hash_add(&h, &items[i].node, item_hash(i));
    }
    assert_int_equal(h.count, N);
    assert_true(h.bucket_count >= N);
    for (int i = 0; i < N; i++)
        assert_ptr_equal(find(&h, i, item_hash(i)), &items[i]);
    for (int i = 0; i < N; i += 2)
        hash_remove(&h, &items[i].node);
    assert_int_equal(h.count, N / 2);
    for (int i = 0; i < N; i++) {
        if (i % 2)
            assert_ptr_equal(find(&h, i, item_hash(i)), &items[i]);
        else
            assert_null(find(&h, i, item_hash(i)));
    }
    hash_fini(&h);
    free(items);
}

/* A walk visits each node once; freeing the node just returned is allowed. */
static void walk_visits_each_once_and_tolerates_removal(void **state)
{
    (void)state;
    enum { N = 300 };
    struct hash h;
    assert_int_equal(hash_init(&h, 8, item_match), 0);
    for (int i = 0; i < N; i++) {
        struct item *it = calloc(1, sizeof(*it));
        assert_non_null(it);
        it->value = i;
        hash_add(&h, &it->node, i % 3 ? item_hash(i) : 7); /* some chains long */
    }
    struct hash_iter it;
    hash_iter_init(&it, &h);
    size_t walked = 0;
    for (struct hash_node *n; (n = hash_iter_next(&it)); walked++)
        HASH_ENTRY(n, struct item, node)->seen++;
    assert_int_equal(walked, N);
    /* Second walk: check each was seen once, and free the odd ones as we go. */
    hash_iter_init(&it, &h);
    for (struct hash_node *n; (n = hash_iter_next(&it));) {
        struct item *item = HASH_ENTRY(n, struct item, node);
        assert_int_equal(item->seen, 1);
        if (item->value % 2) {
            hash_remove(&h, n);
            free(item);
        }
    }
    assert_int_equal(h.count, N / 2);
    hash_iter_init(&it, &h);
    walked = 0;
    for (struct hash_node *n; (n = hash_iter_next(&it)); walked++) {
        struct item *item = HASH_ENTRY(n, struct item, node);
        assert_int_equal(item->value % 2, 0);
        hash_remove(&h, n);
        free(item);
    }
    assert_int_equal(walked, N / 2);
    assert_int_equal(h.count, 0);
    hash_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fnv1a_matches_the_reference),
        cmocka_unit_test(buckets_round_up_and_fini_resets),
        cmocka_unit_test(colliding_keys_stay_apart),
        cmocka_unit_test(large_index_survives_doubling_and_removal),
        cmocka_unit_test(walk_visits_each_once_and_tolerates_removal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
