/*
 * tunnel_bench.c: how fast one core seals and opens encrypted-overlay packets
 * (tunnel/packet.h), for sizing the user-space data path of issue 11.
 *
 *   tunnel_bench [SECONDS]
 *       For 1400-byte and 64-byte frames and each AEAD this CPU runs, seals a frame
 *       and opens the datagram again, in one thread, for SECONDS (default 1) per
 *       case; prints one line per case: the AEAD, the frame size, Mpps and Gbit/s
 *       of frames through seal+open, and ns per packet; the AEAD the process would
 *       choose is marked. No network, no system calls in the loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tunnel/packet.h"

static const struct ip_addr vtep_a = {.family = AF_INET, .bytes = {10, 0, 1, 1}};
static const struct ip_addr vtep_b = {.family = AF_INET, .bytes = {10, 0, 1, 2}};

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs seal+open of size-byte frames for about duration seconds; packets per second. */
static int measure(int cipher, size_t size, double duration, double *pps)
{
    static uint8_t frame[1400], packet[1400 + TUNNEL_OVERHEAD], out[1400];
    static const uint8_t hdr[8] = {1, 1, 0, 0, 0, 0, 42, 0}; /* the data path's, as AAD */
    struct weft_err err = {0};
    unsigned char base[TUNNEL_KEY_BYTES];
    randombytes_buf(base, sizeof(base));
    randombytes_buf(frame, sizeof(frame));
    struct tunnel_tx *tx = NULL;
    struct tunnel_rx *rx = NULL;
    if (tunnel_tx_new(base, cipher, &vtep_a, &vtep_b, 0, &tx, &err) < 0 ||
        tunnel_rx_new(base, cipher, &vtep_b, &vtep_a, 0, &rx, &err) < 0) {
        fprintf(stderr, "tunnel_bench: %s\n", err.msg);
        tunnel_tx_free(tx);
        return -1;
    }
    sodium_memzero(base, sizeof(base));
    uint64_t count = 0;
    double start = seconds_now(), elapsed = 0;
    while (elapsed < duration) {
        for (int i = 0; i < 4096; i++, count++) {
            size_t len, out_len;
            enum tunnel_drop reason = TUNNEL_DROP_NONE;
            if (tunnel_seal(tx, 0, hdr, sizeof(hdr), frame, size, packet, sizeof(packet), &len,
                            &err) < 0 ||
                tunnel_open(rx, 0, &vtep_a, hdr, sizeof(hdr), packet, len, out, sizeof(out),
                            &out_len, &reason) < 0) {
                fprintf(stderr, "tunnel_bench: packet %llu did not go through (%s)\n",
                        (unsigned long long)count, err.code ? err.msg : tunnel_drop_name(reason));
                tunnel_tx_free(tx);
                tunnel_rx_free(rx);
                return -1;
            }
        }
        elapsed = seconds_now() - start;
    }
    tunnel_tx_free(tx);
    tunnel_rx_free(rx);
    *pps = (double)count / elapsed;
    return 0;
}

int main(int argc, char **argv)
{
    double duration = argc > 1 ? atof(argv[1]) : 1.0;
    if (sodium_init() < 0 || duration <= 0) {
        fprintf(stderr, "usage: tunnel_bench [SECONDS]\n");
        return 2;
    }
    int chosen = tunnel_cipher_choose();
    const int ciphers[] = {TUNNEL_CIPHER_AEGIS128L, TUNNEL_CIPHER_AES256GCM,
                           TUNNEL_CIPHER_CHACHA20POLY1305};
    const size_t sizes[] = {1400, 64};
    printf("%-18s %6s %8s %8s %8s  (seal+open, one core; libsodium %s)\n", "aead", "frame", "Mpps",
           "Gbit/s", "ns/pkt", sodium_version_string());
    for (size_t c = 0; c < sizeof(ciphers) / sizeof(ciphers[0]); c++) {
        if (!(tunnel_ciphers_available() & TUNNEL_CIPHER_BIT(ciphers[c])))
            continue; /* not in this build, or not on this CPU */
        for (size_t s = 0; s < 2; s++) {
            double pps;
            if (measure(ciphers[c], sizes[s], duration, &pps) < 0)
                return 1;
            printf("%-18s %6zu %8.3f %8.3f %8.0f%s\n", tunnel_cipher_name(ciphers[c]), sizes[s],
                   pps / 1e6, pps * (double)sizes[s] * 8 / 1e9, 1e9 / pps,
                   ciphers[c] == chosen ? "  <- chosen" : "");
        }
    }
    return 0;
}
