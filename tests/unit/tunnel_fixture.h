/*
 * tunnel_fixture.h: what the tunnel/ tests share: a VTEP from its dotted text and a
 * random cluster secret in locked memory (free with tunnel_secret_free). Include
 * after cmocka.h.
 */
#ifndef WEFT_TESTS_TUNNEL_FIXTURE_H
#define WEFT_TESTS_TUNNEL_FIXTURE_H

#include <arpa/inet.h>
#include <sodium.h>
#include <stdint.h>

#include "tunnel/cluster_secret.h"

static inline uint32_t vtep(const char *text)
{
    struct in_addr a;
    assert_int_equal(inet_pton(AF_INET, text, &a), 1);
    return a.s_addr;
}

static inline struct tunnel_secret *new_secret(void)
{
    struct tunnel_secret *s = sodium_malloc(sizeof(*s));
    assert_non_null(s);
    randombytes_buf(s->key, sizeof(s->key));
    return s;
}

#endif
