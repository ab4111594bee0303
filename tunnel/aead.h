/*
 * aead.h: the AEAD of encrypted overlays and its per-epoch keys (issue 11).
 *
 * Owns: the choice of cipher (AES-256-GCM where the CPU has AES-NI and CLMUL, as
 * crypto_aead_aes256gcm_is_available() says, else ChaCha20-Poly1305 IETF; both from
 * libsodium, 32-byte keys, 12-byte nonces, 16-byte tags); deriving an epoch's key
 * from a direction's base key (crypto_kdf with the epoch as subkey id, so any
 * epoch's key costs one derivation, no chain); sealing and opening with it. A
 * struct tunnel_aead_key holds expanded key material: it lives inside sessions,
 * which are sodium_malloc'd (locked, 16-byte aligned as AES-GCM's state needs).
 * Callers: tunnel/session.c and tunnel/packet.c; tests and the benchmark. Thread-
 * safe: a key is read-only between tunnel_aead_key_set and tunnel_aead_key_wipe.
 */
#ifndef WEFT_TUNNEL_AEAD_H
#define WEFT_TUNNEL_AEAD_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* Values of the cipher byte on the wire: both ends must use the same one. */
enum tunnel_cipher {
    TUNNEL_CIPHER_AES256GCM = 1,
    TUNNEL_CIPHER_CHACHA20POLY1305 = 2,
};

#define TUNNEL_NONCE_BYTES 12 /* epoch u32 BE || counter u64 BE */
#define TUNNEL_TAG_BYTES 16
#define TUNNEL_KEY_BYTES 32

struct tunnel_aead_key {
    union {
        crypto_aead_aes256gcm_state aes; /* expanded once (beforenm) */
        unsigned char chacha[TUNNEL_KEY_BYTES];
    } k;
    uint8_t cipher; /* enum tunnel_cipher; 0 while unset */
};

/* The process's cipher: AES-256-GCM when the CPU runs it in hardware, else
 * ChaCha20-Poly1305. Calls sodium_init. Every host of a cluster must come to the
 * same answer for traffic to pass (a mismatch is counted as wrong_cipher). */
enum tunnel_cipher tunnel_cipher_choose(void);
/* "aes256gcm", "chacha20poly1305" or "unknown". */
const char *tunnel_cipher_name(int cipher);

/* key = the key of epoch under base_key, for cipher. -ENOTSUP for AES-256-GCM on a
 * CPU without it, -EINVAL for an unknown cipher; key is unchanged then. */
int tunnel_aead_key_set(struct tunnel_aead_key *key, int cipher,
                        const unsigned char base_key[TUNNEL_KEY_BYTES], uint32_t epoch,
                        struct weft_err *err);
void tunnel_aead_key_wipe(struct tunnel_aead_key *key);

/* out = ciphertext of in (len bytes) || tag: len + TUNNEL_TAG_BYTES bytes. out and
 * in do not overlap. -1 for a key that was never set (or is wiped). */
int tunnel_aead_seal(const struct tunnel_aead_key *key, uint8_t *out, const uint8_t *in,
                     size_t len, const uint8_t *ad, size_t ad_len,
                     const uint8_t nonce[TUNNEL_NONCE_BYTES]);
/* out = plaintext of in (len bytes, the tag included; len >= TUNNEL_TAG_BYTES).
 * Returns 0, or -1 when the tag does not verify (out then holds nothing useful).
 * out and in do not overlap. */
int tunnel_aead_open(const struct tunnel_aead_key *key, uint8_t *out, const uint8_t *in,
                     size_t len, const uint8_t *ad, size_t ad_len,
                     const uint8_t nonce[TUNNEL_NONCE_BYTES]);

#endif
