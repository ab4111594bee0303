/*
 * tunnel_fixture.h: what the tunnel/ tests share: a VTEP from its text (IPv4 or
 * IPv6; VTEP() gives a pointer to one, for a call) and a random cluster secret in
 * locked memory (free with tunnel_secret_free). Include after cmocka.h.
 */
#ifndef WEFT_TESTS_TUNNEL_FIXTURE_H
#define WEFT_TESTS_TUNNEL_FIXTURE_H

#include <arpa/inet.h>
#include <sodium.h>
#include <stdint.h>

#include "common/ip_addr.h"
#include "tunnel/cluster_secret.h"

static inline struct ip_addr vtep(const char *text)
{
    struct ip_addr a;
    struct weft_err err = {0};
    assert_int_equal(ip_addr_parse(text, &a, &err), 0);
    return a;
}
#define VTEP(text) ((const struct ip_addr[]){vtep(text)})

static inline struct tunnel_secret *new_secret(void)
{
    struct tunnel_secret *s = sodium_malloc(sizeof(*s));
    assert_non_null(s);
    randombytes_buf(s->key, sizeof(s->key));
    return s;
}

#endif
