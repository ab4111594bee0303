/*
 * aead.h: the AEAD of encrypted overlays and its per-epoch keys (issue 11).
 *
 * Owns: the ciphers, all from libsodium: AEGIS-128L (libsodium >= 1.0.19, on a CPU
 * with AES-NI; 16-byte keys, 16-byte nonces of which the last 4 are 0, 32-byte tags),
 * AES-256-GCM (where crypto_aead_aes256gcm_is_available() says the CPU runs it;
 * 32-byte keys, 12-byte nonces, 16-byte tags) and ChaCha20-Poly1305 IETF (everywhere;
 * as AES-256-GCM). Which of them this process runs, how two hosts agree on one (the
 * best that both run: a host's member record lists its own), deriving an epoch's key
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

/* Values of the cipher byte on the wire: both ends of a pair use the same one. */
enum tunnel_cipher {
    TUNNEL_CIPHER_AES256GCM = 1,
    TUNNEL_CIPHER_CHACHA20POLY1305 = 2,
    TUNNEL_CIPHER_AEGIS128L = 3,
};

/* Whether this build's libsodium has AEGIS-128L (1.0.19 and later). */
#ifdef crypto_aead_aegis128l_KEYBYTES
#define TUNNEL_HAVE_AEGIS 1
#else
#define TUNNEL_HAVE_AEGIS 0
#endif

#define TUNNEL_NONCE_BYTES 12   /* epoch u32 BE || counter u64 BE */
#define TUNNEL_TAG_BYTES_MAX 32 /* AEGIS-128L's; the others' are 16 */
#define TUNNEL_KEY_BYTES 32     /* of base keys; AEGIS-128L's epoch keys are 16 */

struct tunnel_aead_key {
    union {
        crypto_aead_aes256gcm_state aes; /* expanded once (beforenm) */
        unsigned char chacha[TUNNEL_KEY_BYTES];
        unsigned char aegis[16];
    } k;
    uint8_t cipher; /* enum tunnel_cipher; 0 while unset */
};

/* A set of ciphers: bit (1u << cipher) for each. */
#define TUNNEL_CIPHER_BIT(cipher) (1u << (cipher))
/* What a member record without a cipher list (an older weft) is taken to offer: the
 * two ciphers older daemons chose between. */
#define TUNNEL_CIPHERS_LEGACY                                                                      \
    (TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_AES256GCM) | TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_CHACHA20POLY1305))
/* The longest cipher list text (tunnel_ciphers_format), NUL included. */
#define TUNNEL_CIPHERS_TEXT_MAX 48

/* The ciphers this process runs: ChaCha20-Poly1305 always, AES-256-GCM where the CPU
 * runs it in hardware, AEGIS-128L where the library has it and the CPU has AES-NI.
 * Calls sodium_init. */
unsigned tunnel_ciphers_available(void);
/* The cipher a pair uses: the first of AEGIS-128L, AES-256-GCM, ChaCha20-Poly1305 in
 * both sets (both hosts come to the same answer), or 0 when they share none. */
int tunnel_cipher_pick(unsigned mine, unsigned theirs);
/* The best cipher this process runs (tunnel_cipher_pick of the available with
 * themselves): what two hosts of one build on one kind of CPU use. */
enum tunnel_cipher tunnel_cipher_choose(void);
/* "aegis128l", "aes256gcm", "chacha20poly1305" or "unknown". */
const char *tunnel_cipher_name(int cipher);
/* The set as a member record carries it: names, best first, one space between. */
void tunnel_ciphers_format(unsigned ciphers, char text[TUNNEL_CIPHERS_TEXT_MAX]);
/* The set a member record's list names. Names this build does not know are left out
 * (a newer host may offer more); "" is TUNNEL_CIPHERS_LEGACY. -EINVAL for a text that
 * is not names of a-z and 0-9 with one space between, or longer than
 * TUNNEL_CIPHERS_TEXT_MAX - 1. */
int tunnel_ciphers_parse(const char *text, unsigned *ciphers, struct weft_err *err);
/* The tag's length for cipher: 32 for AEGIS-128L, 16 for the others, 0 if unknown. */
size_t tunnel_aead_tag_bytes(int cipher);

/* key = the key of epoch under base_key, for cipher. -ENOTSUP for a cipher this
 * process does not run (tunnel_ciphers_available), -EINVAL for an unknown one; key
 * is unchanged then. */
int tunnel_aead_key_set(struct tunnel_aead_key *key, int cipher,
                        const unsigned char base_key[TUNNEL_KEY_BYTES], uint32_t epoch,
                        struct weft_err *err);
void tunnel_aead_key_wipe(struct tunnel_aead_key *key);

/* out = ciphertext of in (len bytes) || tag: len + tunnel_aead_tag_bytes(cipher)
 * bytes. out and in do not overlap. -1 for a key that was never set (or is wiped). */
int tunnel_aead_seal(const struct tunnel_aead_key *key, uint8_t *out, const uint8_t *in,
                     size_t len, const uint8_t *ad, size_t ad_len,
                     const uint8_t nonce[TUNNEL_NONCE_BYTES]);
/* out = plaintext of in (len bytes, the tag included; len >= the cipher's tag).
 * Returns 0, or -1 when the tag does not verify (out then holds nothing useful).
 * out and in do not overlap. */
int tunnel_aead_open(const struct tunnel_aead_key *key, uint8_t *out, const uint8_t *in,
                     size_t len, const uint8_t *ad, size_t ad_len,
                     const uint8_t nonce[TUNNEL_NONCE_BYTES]);

#endif
