/*
 * aead.c: AES-256-GCM or ChaCha20-Poly1305 from libsodium, keyed per epoch (see
 * aead.h). Nothing here is hand-rolled: only the choice and the calls.
 */
#include "tunnel/aead.h"

#include <string.h>

/* crypto_kdf's context: 8 characters naming what the subkeys are for. */
static const char epoch_kdf_context[crypto_kdf_CONTEXTBYTES + 1] = "weftepch";

_Static_assert(crypto_aead_aes256gcm_NPUBBYTES == TUNNEL_NONCE_BYTES, "AES-GCM nonce");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == TUNNEL_NONCE_BYTES, "ChaCha nonce");
_Static_assert(crypto_aead_aes256gcm_ABYTES == TUNNEL_TAG_BYTES, "AES-GCM tag");
_Static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == TUNNEL_TAG_BYTES, "ChaCha tag");
_Static_assert(crypto_kdf_KEYBYTES == TUNNEL_KEY_BYTES, "base keys are crypto_kdf keys");

enum tunnel_cipher tunnel_cipher_choose(void)
{
    if (sodium_init() >= 0 && crypto_aead_aes256gcm_is_available())
        return TUNNEL_CIPHER_AES256GCM;
    return TUNNEL_CIPHER_CHACHA20POLY1305;
}

const char *tunnel_cipher_name(int cipher)
{
    switch (cipher) {
    case TUNNEL_CIPHER_AES256GCM:
        return "aes256gcm";
    case TUNNEL_CIPHER_CHACHA20POLY1305:
        return "chacha20poly1305";
    default:
        return "unknown";
    }
}

int tunnel_aead_key_set(struct tunnel_aead_key *key, int cipher,
                        const unsigned char base_key[TUNNEL_KEY_BYTES], uint32_t epoch,
                        struct weft_err *err)
{
    /* Checked before the old key goes: a failure leaves the key as it was. */
    if (sodium_init() < 0)
        return weft_err_set(err, -EIO, "initialising libsodium failed");
    if (cipher == TUNNEL_CIPHER_AES256GCM && !crypto_aead_aes256gcm_is_available())
        return weft_err_set(err, -ENOTSUP, "this CPU has no AES-256-GCM in hardware");
    if (cipher != TUNNEL_CIPHER_AES256GCM && cipher != TUNNEL_CIPHER_CHACHA20POLY1305)
        return weft_err_set(err, -EINVAL, "unknown tunnel cipher %d", cipher);
    tunnel_aead_key_wipe(key);
    unsigned char epoch_key[TUNNEL_KEY_BYTES];
    crypto_kdf_derive_from_key(epoch_key, sizeof(epoch_key), epoch, epoch_kdf_context, base_key);
    if (cipher == TUNNEL_CIPHER_AES256GCM)
        crypto_aead_aes256gcm_beforenm(&key->k.aes, epoch_key);
    else
        memcpy(key->k.chacha, epoch_key, sizeof(epoch_key));
    sodium_memzero(epoch_key, sizeof(epoch_key));
    key->cipher = (uint8_t)cipher;
    return 0;
}

void tunnel_aead_key_wipe(struct tunnel_aead_key *key)
{
    sodium_memzero(key, sizeof(*key));
}

int tunnel_aead_seal(const struct tunnel_aead_key *key, uint8_t *out, const uint8_t *in,
                     size_t len, const uint8_t *ad, size_t ad_len,
                     const uint8_t nonce[TUNNEL_NONCE_BYTES])
{
    unsigned long long out_len;
    if (key->cipher == TUNNEL_CIPHER_AES256GCM)
        return crypto_aead_aes256gcm_encrypt_afternm(out, &out_len, in, len, ad, ad_len, NULL,
                                                     nonce, &key->k.aes) == 0 ? 0 : -1;
    if (key->cipher == TUNNEL_CIPHER_CHACHA20POLY1305)
        return crypto_aead_chacha20poly1305_ietf_encrypt(out, &out_len, in, len, ad, ad_len, NULL,
                                                         nonce, key->k.chacha) == 0 ? 0 : -1;
    return -1; /* no key set: never seal under an all-zero key */
}

int tunnel_aead_open(const struct tunnel_aead_key *key, uint8_t *out, const uint8_t *in,
                     size_t len, const uint8_t *ad, size_t ad_len,
                     const uint8_t nonce[TUNNEL_NONCE_BYTES])
{
    unsigned long long out_len;
    if (key->cipher == TUNNEL_CIPHER_AES256GCM)
        return crypto_aead_aes256gcm_decrypt_afternm(out, &out_len, NULL, in, len, ad, ad_len,
                                                     nonce, &key->k.aes) == 0 ? 0 : -1;
    if (key->cipher == TUNNEL_CIPHER_CHACHA20POLY1305)
        return crypto_aead_chacha20poly1305_ietf_decrypt(out, &out_len, NULL, in, len, ad, ad_len,
                                                         nonce, key->k.chacha) == 0 ? 0 : -1;
    return -1;
}
