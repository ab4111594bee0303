/*
 * host_keys.c: the host's X25519 key pair and the pairwise base keys (see
 * host_keys.h). Intermediate keys live on the stack only for one call and are
 * wiped before it returns.
 */
#include "tunnel/host_keys.h"

#include <stdbool.h>
#include <string.h>

/* The two directions, named from crypto_kx's roles so that both hosts agree. */
static const char label_client_to_server[] = "weft-v1 tunnel client->server";
static const char label_server_to_client[] = "weft-v1 tunnel server->client";

int tunnel_host_keys_new(struct tunnel_host_keys **out, struct weft_err *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return weft_err_set(err, -EIO, "initialising libsodium failed");
    struct tunnel_host_keys *keys = sodium_malloc(sizeof(*keys));
    if (!keys)
        return weft_err_set(err, -ENOMEM, "out of memory (or locked memory) for the host key");
    crypto_kx_keypair(keys->public_key, keys->secret_key);
    *out = keys;
    return 0;
}

void tunnel_host_keys_free(struct tunnel_host_keys *keys)
{
    sodium_free(keys);
}

void tunnel_public_key_format(const unsigned char public_key[TUNNEL_PUBLIC_KEY_BYTES],
                              char text[TUNNEL_PUBLIC_KEY_TEXT_MAX])
{
    sodium_bin2base64(text, TUNNEL_PUBLIC_KEY_TEXT_MAX, public_key, TUNNEL_PUBLIC_KEY_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

int tunnel_public_key_parse(const char *text, unsigned char public_key[TUNNEL_PUBLIC_KEY_BYTES],
                            struct weft_err *err)
{
    size_t len = strlen(text), bin_len = 0;
    const char *end = NULL;
    if (sodium_base642bin(public_key, TUNNEL_PUBLIC_KEY_BYTES, text, len, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text + len || bin_len != TUNNEL_PUBLIC_KEY_BYTES)
        return weft_err_set(err, -EINVAL, "tunnel public key \"%.64s\" is not %zu base64url "
                            "characters", text, (size_t)TUNNEL_PUBLIC_KEY_TEXT_MAX - 1);
    return 0;
}

/* out = BLAKE2b-256 keyed with the cluster secret over kx_key || label || sender ||
 * receiver (VTEPs in network byte order, as on the wire). */
static void direction_key(const struct tunnel_secret *secret, const unsigned char *kx_key,
                          const char *label, const struct ip_addr *sender,
                          const struct ip_addr *receiver, unsigned char out[TUNNEL_BASE_KEY_BYTES])
{
    crypto_generichash_state state;
    crypto_generichash_init(&state, secret->key, sizeof(secret->key), TUNNEL_BASE_KEY_BYTES);
    crypto_generichash_update(&state, kx_key, crypto_kx_SESSIONKEYBYTES);
    crypto_generichash_update(&state, (const unsigned char *)label, strlen(label));
    crypto_generichash_update(&state, sender->bytes, (size_t)ip_addr_len(sender));
    crypto_generichash_update(&state, receiver->bytes, (size_t)ip_addr_len(receiver));
    crypto_generichash_final(&state, out, TUNNEL_BASE_KEY_BYTES);
    sodium_memzero(&state, sizeof(state));
}

int tunnel_pair_derive(const struct tunnel_secret *secret, const struct tunnel_host_keys *mine,
                       const struct ip_addr *my_vtep,
                       const unsigned char peer_public_key[TUNNEL_PUBLIC_KEY_BYTES],
                       const struct ip_addr *peer_vtep, struct tunnel_pair_keys *out,
                       struct weft_err *err)
{
    sodium_memzero(out, sizeof(*out));
    if (ip_addr_len(my_vtep) == 0 || ip_addr_len(peer_vtep) == 0)
        return weft_err_set(err, -EINVAL, "a tunnel needs the VTEPs of both hosts");
    if (ip_addr_equal(my_vtep, peer_vtep))
        return weft_err_set(err, -EINVAL, "a tunnel needs two hosts: both VTEPs are the same");
    bool client = ip_addr_compare(my_vtep, peer_vtep) < 0;
    unsigned char kx_rx[crypto_kx_SESSIONKEYBYTES], kx_tx[crypto_kx_SESSIONKEYBYTES];
    int rc = client ? crypto_kx_client_session_keys(kx_rx, kx_tx, mine->public_key,
                                                    mine->secret_key, peer_public_key)
                    : crypto_kx_server_session_keys(kx_rx, kx_tx, mine->public_key,
                                                    mine->secret_key, peer_public_key);
    if (rc != 0) {
        sodium_memzero(kx_rx, sizeof(kx_rx));
        sodium_memzero(kx_tx, sizeof(kx_tx));
        return weft_err_set(err, -EINVAL, "the peer's tunnel public key is not usable");
    }
    direction_key(secret, kx_tx, client ? label_client_to_server : label_server_to_client, my_vtep,
                  peer_vtep, out->tx);
    direction_key(secret, kx_rx, client ? label_server_to_client : label_client_to_server,
                  peer_vtep, my_vtep, out->rx);
    sodium_memzero(kx_rx, sizeof(kx_rx));
    sodium_memzero(kx_tx, sizeof(kx_tx));
    return 0;
}
