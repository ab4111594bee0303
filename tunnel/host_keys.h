/*
 * host_keys.h: this host's X25519 key pair for encrypted overlays and the pairwise
 * base keys it shares with each peer (issue 11).
 *
 * Owns: the key pair (crypto_kx, in sodium_malloc'd memory, made fresh at every
 * daemon start and never stored, so that the per-direction keys of one run never
 * come back in the next: the counters they nonce with restart at zero), its public
 * key's text form for the host record, and tunnel_pair_derive: from the X25519
 * shared secret *and* the cluster secret, one base key per direction. Whoever can
 * read and write etcd but lacks the cluster secret learns nothing: each base key is
 * a keyed BLAKE2b under the cluster secret. Both hosts derive the same two keys: my
 * tx is the peer's rx.
 * Callers: the data path / fabric when a peer's public key appears or changes;
 * tests. Thread-safe: a key pair is read-only after tunnel_host_keys_new.
 */
#ifndef WEFT_TUNNEL_HOST_KEYS_H
#define WEFT_TUNNEL_HOST_KEYS_H

#include <sodium.h>
#include <stdint.h>

#include "common/err.h"
#include "common/ip_addr.h"
#include "tunnel/cluster_secret.h"

#define TUNNEL_PUBLIC_KEY_BYTES crypto_kx_PUBLICKEYBYTES
#define TUNNEL_BASE_KEY_BYTES 32
/* The public key in unpadded URL-safe base64 (43 characters) and its NUL. */
#define TUNNEL_PUBLIC_KEY_TEXT_MAX                                                                 \
    sodium_base64_ENCODED_LEN(TUNNEL_PUBLIC_KEY_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)

struct tunnel_host_keys {
    unsigned char public_key[TUNNEL_PUBLIC_KEY_BYTES];
    unsigned char secret_key[crypto_kx_SECRETKEYBYTES];
};

/* A pair's base keys: tx seals what this host sends to the peer, rx opens what it
 * receives from it. Key material: keep it in locked memory or wipe it
 * (sodium_memzero) as soon as the sessions (tunnel/session.h) have it. */
struct tunnel_pair_keys {
    unsigned char tx[TUNNEL_BASE_KEY_BYTES];
    unsigned char rx[TUNNEL_BASE_KEY_BYTES];
};

/* A new random key pair in locked memory (free with tunnel_host_keys_free). */
int tunnel_host_keys_new(struct tunnel_host_keys **out, struct weft_err *err);
void tunnel_host_keys_free(struct tunnel_host_keys *keys);

/* The public key as text for the host record, and back (-EINVAL with a message
 * for anything that is not 43 base64url characters). */
void tunnel_public_key_format(const unsigned char public_key[TUNNEL_PUBLIC_KEY_BYTES],
                              char text[TUNNEL_PUBLIC_KEY_TEXT_MAX]);
int tunnel_public_key_parse(const char *text, unsigned char public_key[TUNNEL_PUBLIC_KEY_BYTES],
                            struct weft_err *err);

/* The base keys between this host (mine, my_vtep) and a peer (peer_public_key,
 * peer_vtep), IPv4 or IPv6; the lower one (ip_addr_compare) plays crypto_kx's
 * client. Each direction's key is BLAKE2b keyed with the cluster secret over (its
 * crypto_kx key || a direction label || sender VTEP || receiver VTEP), the VTEPs'
 * network-order bytes (4 or 16). -EINVAL for equal VTEPs, a VTEP without a family
 * or a public key crypto_kx refuses; out is wiped then. */
int tunnel_pair_derive(const struct tunnel_secret *secret, const struct tunnel_host_keys *mine,
                       const struct ip_addr *my_vtep,
                       const unsigned char peer_public_key[TUNNEL_PUBLIC_KEY_BYTES],
                       const struct ip_addr *peer_vtep, struct tunnel_pair_keys *out,
                       struct weft_err *err);

#endif
