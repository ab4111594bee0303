/*
 * aead.c: AEGIS-128L, AES-256-GCM or ChaCha20-Poly1305 from libsodium, keyed per
 * epoch (see aead.h). Nothing here is hand-rolled: only the choice and the calls.
 */
#include "tunnel/aead.h"

#include <stdio.h>
#include <string.h>

/* crypto_kdf's context: 8 characters naming what the subkeys are for. */
static const char epoch_kdf_context[crypto_kdf_CONTEXTBYTES + 1] = "weftepch";

/* The ciphers by preference: the fastest per byte on a CPU with AES-NI first. */
static const int preference[] = {TUNNEL_CIPHER_AEGIS128L, TUNNEL_CIPHER_AES256GCM,
                                 TUNNEL_CIPHER_CHACHA20POLY1305};

_Static_assert(crypto_aead_aes256gcm_NPUBBYTES == TUNNEL_NONCE_BYTES, "AES-GCM nonce");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == TUNNEL_NONCE_BYTES, "ChaCha nonce");
_Static_assert(crypto_aead_aes256gcm_ABYTES <= TUNNEL_TAG_BYTES_MAX, "AES-GCM tag");
_Static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES <= TUNNEL_TAG_BYTES_MAX, "ChaCha tag");
_Static_assert(crypto_kdf_KEYBYTES == TUNNEL_KEY_BYTES, "base keys are crypto_kdf keys");
#if TUNNEL_HAVE_AEGIS
_Static_assert(crypto_aead_aegis128l_ABYTES <= TUNNEL_TAG_BYTES_MAX, "AEGIS tag");
_Static_assert(crypto_aead_aegis128l_NPUBBYTES >= TUNNEL_NONCE_BYTES, "AEGIS nonce");
_Static_assert(crypto_aead_aegis128l_KEYBYTES == sizeof(((struct tunnel_aead_key *)0)->k.aegis),
               "AEGIS key");
#endif

unsigned tunnel_ciphers_available(void)
{
    unsigned set = TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_CHACHA20POLY1305);
    if (sodium_init() < 0)
        return set;
    if (crypto_aead_aes256gcm_is_available())
        set |= TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_AES256GCM);
    /* libsodium runs AEGIS without AES-NI too, but slower than ChaCha20 then. */
    if (TUNNEL_HAVE_AEGIS && sodium_runtime_has_aesni())
        set |= TUNNEL_CIPHER_BIT(TUNNEL_CIPHER_AEGIS128L);
    return set;
}

int tunnel_cipher_pick(unsigned mine, unsigned theirs)
{
    for (size_t i = 0; i < sizeof(preference) / sizeof(preference[0]); i++)
        if (mine & theirs & TUNNEL_CIPHER_BIT(preference[i]))
            return preference[i];
    return 0;
}

enum tunnel_cipher tunnel_cipher_choose(void)
{
    unsigned available = tunnel_ciphers_available();
    return (enum tunnel_cipher)tunnel_cipher_pick(available, available);
}

const char *tunnel_cipher_name(int cipher)
{
    switch (cipher) {
    case TUNNEL_CIPHER_AES256GCM:
        return "aes256gcm";
    case TUNNEL_CIPHER_CHACHA20POLY1305:
        return "chacha20poly1305";
    case TUNNEL_CIPHER_AEGIS128L:
        return "aegis128l";
    default:
        return "unknown";
    }
}

void tunnel_ciphers_format(unsigned ciphers, char text[TUNNEL_CIPHERS_TEXT_MAX])
{
    size_t used = 0;
    text[0] = '\0';
    for (size_t i = 0; i < sizeof(preference) / sizeof(preference[0]); i++)
        if (ciphers & TUNNEL_CIPHER_BIT(preference[i]))
            used += (size_t)snprintf(text + used, TUNNEL_CIPHERS_TEXT_MAX - used, "%s%s",
                                     used ? " " : "", tunnel_cipher_name(preference[i]));
}

int tunnel_ciphers_parse(const char *text, unsigned *ciphers, struct weft_err *err)
{
    size_t len = strlen(text);
    if (len == 0) {
        *ciphers = TUNNEL_CIPHERS_LEGACY;
        return 0;
    }
    if (len >= TUNNEL_CIPHERS_TEXT_MAX)
        return weft_err_set(err, -EINVAL, "a cipher list of %zu bytes (at most %d)", len,
                            TUNNEL_CIPHERS_TEXT_MAX - 1);
    unsigned set = 0;
    for (const char *p = text; *p;) {
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
        if (n == 0 || (p[n] != '\0' && (p[n] != ' ' || p[n + 1] == '\0')))
            return weft_err_set(err, -EINVAL,
                                "cipher list \"%s\" is not names of a-z and 0-9, one space apart",
                                text);
        for (size_t i = 0; i < sizeof(preference) / sizeof(preference[0]); i++) {
            const char *name = tunnel_cipher_name(preference[i]);
            if (strlen(name) == n && strncmp(p, name, n) == 0)
                set |= TUNNEL_CIPHER_BIT(preference[i]);
        }
        p += n + (p[n] == ' ');
    }
    *ciphers = set;
    return 0;
}

size_t tunnel_aead_tag_bytes(int cipher)
{
    switch (cipher) {
    case TUNNEL_CIPHER_AES256GCM:
        return crypto_aead_aes256gcm_ABYTES;
    case TUNNEL_CIPHER_CHACHA20POLY1305:
        return crypto_aead_chacha20poly1305_ietf_ABYTES;
#if TUNNEL_HAVE_AEGIS
    case TUNNEL_CIPHER_AEGIS128L:
        return crypto_aead_aegis128l_ABYTES;
#endif
    default:
        return 0;
    }
}

int tunnel_aead_key_set(struct tunnel_aead_key *key, int cipher,
                        const unsigned char base_key[TUNNEL_KEY_BYTES], uint32_t epoch,
                        struct weft_err *err)
{
    /* Checked before the old key goes: a failure leaves the key as it was. */
    if (sodium_init() < 0)
        return weft_err_set(err, -EIO, "initialising libsodium failed");
    if (cipher != TUNNEL_CIPHER_AES256GCM && cipher != TUNNEL_CIPHER_CHACHA20POLY1305 &&
        cipher != TUNNEL_CIPHER_AEGIS128L)
        return weft_err_set(err, -EINVAL, "unknown tunnel cipher %d", cipher);
    if (!(tunnel_ciphers_available() & TUNNEL_CIPHER_BIT(cipher)))
        return weft_err_set(err, -ENOTSUP, "this host does not run %s (%s)",
                            tunnel_cipher_name(cipher),
                            cipher == TUNNEL_CIPHER_AEGIS128L && !TUNNEL_HAVE_AEGIS
                                ? "built with a libsodium older than 1.0.19"
                                : "the CPU lacks AES-NI");
    tunnel_aead_key_wipe(key);
    unsigned char epoch_key[TUNNEL_KEY_BYTES];
    crypto_kdf_derive_from_key(epoch_key, sizeof(epoch_key), epoch, epoch_kdf_context, base_key);
    if (cipher == TUNNEL_CIPHER_AES256GCM)
        crypto_aead_aes256gcm_beforenm(&key->k.aes, epoch_key);
    else if (cipher == TUNNEL_CIPHER_AEGIS128L)
        memcpy(key->k.aegis, epoch_key, sizeof(key->k.aegis)); /* the first 16 bytes */
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

#if TUNNEL_HAVE_AEGIS
/* AEGIS-128L's 16-byte nonce: the packet's 12 bytes, then zeros. */
static void aegis_nonce(unsigned char out[crypto_aead_aegis128l_NPUBBYTES],
                        const uint8_t nonce[TUNNEL_NONCE_BYTES])
{
    memset(out, 0, crypto_aead_aegis128l_NPUBBYTES);
    memcpy(out, nonce, TUNNEL_NONCE_BYTES);
}
#endif

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
#if TUNNEL_HAVE_AEGIS
    if (key->cipher == TUNNEL_CIPHER_AEGIS128L) {
        unsigned char npub[crypto_aead_aegis128l_NPUBBYTES];
        aegis_nonce(npub, nonce);
        return crypto_aead_aegis128l_encrypt(out, &out_len, in, len, ad, ad_len, NULL, npub,
                                             key->k.aegis) == 0 ? 0 : -1;
    }
#endif
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
#if TUNNEL_HAVE_AEGIS
    if (key->cipher == TUNNEL_CIPHER_AEGIS128L) {
        unsigned char npub[crypto_aead_aegis128l_NPUBBYTES];
        aegis_nonce(npub, nonce);
        return crypto_aead_aegis128l_decrypt(out, &out_len, NULL, in, len, ad, ad_len, npub,
                                             key->k.aegis) == 0 ? 0 : -1;
    }
#endif
    return -1;
}
