/*
 * packet.h: the wire format of encrypted overlays (issue 11): one Ethernet frame
 * per UDP datagram, sealed with its direction's epoch key.
 *
 *   0      1      2        3         4            8                16
 *   +------+------+--------+---------+------------+----------------+------------+---------+
 *   |magic | type | cipher | reserved| epoch u32  | counter u64    | ciphertext | tag     |
 *   | 0xA1 | 1    | 1, 2, 3| 0       | big endian | big endian     | of frame   | 16 or 32|
 *   +------+------+--------+---------+------------+----------------+------------+---------+
 *
 * The cipher is the pair's (tunnel/aead.h): 1 AES-256-GCM, 2 ChaCha20-Poly1305 (16-byte
 * tags), 3 AEGIS-128L (32-byte tags).
 *
 * The nonce is the header's bytes 4..16 (epoch || counter). The AAD is the header,
 * the sender's and the receiver's VTEPs (network byte order: 4 bytes each on an
 * IPv4 underlay, 16 on an IPv6 one), so a packet
 * authenticates only from the host that sealed it, to the host it was sealed for,
 * and then the caller's extra AAD (the data path's weft header with the VNI, which
 * travels in front of this header), so a packet opens only in the overlay it was
 * sealed for.
 * Owns: the header, sealing and opening, and the overhead the overlay MTU must
 * leave room for. Callers: the data path (one tunnel_seal per frame read from the
 * TAP, one tunnel_open per datagram), the fuzzer, tests. Thread-safety as
 * session.h: a tx or rx is used by one thread at a time. No allocation: the caller
 * gives the buffers, and out never overlaps the frame or the datagram.
 */
#ifndef WEFT_TUNNEL_PACKET_H
#define WEFT_TUNNEL_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "tunnel/session.h"

#define TUNNEL_MAGIC 0xA1 /* the format's version 1 */
#define TUNNEL_TYPE_DATA 1
#define TUNNEL_HEADER_BYTES 16
/* The header and two VTEPs, IPv6 the longest. */
#define TUNNEL_AAD_BYTES_MAX (TUNNEL_HEADER_BYTES + 2 * 16)
/* The most extra AAD a caller may bind (the data path's header is 8 bytes). */
#define TUNNEL_EXTRA_AAD_MAX 32
/* The most sealing adds to a frame (the longest tag): what the MTU leaves room for. */
#define TUNNEL_OVERHEAD (TUNNEL_HEADER_BYTES + TUNNEL_TAG_BYTES_MAX)

/* Seals frame (len bytes) for tx's peer into out (out_cap bytes; len +
 * TUNNEL_OVERHEAD are always enough), binding extra_aad (extra_len bytes, at most
 * TUNNEL_EXTRA_AAD_MAX; NULL with 0 for none), which is not written to out:
 * *out_len is the length of what was. -EMSGSIZE when out is too small, -EINVAL for
 * too much extra AAD, -EOVERFLOW when tx used up its epochs. */
int tunnel_seal(struct tunnel_tx *tx, uint64_t now, const uint8_t *extra_aad, size_t extra_len,
                const uint8_t *frame, size_t len, uint8_t *out, size_t out_cap, size_t *out_len,
                struct weft_err *err);

/* Opens a datagram from sender_vtep (the UDP source) into out
 * (out_cap bytes), with the extra AAD the sender bound (as tunnel_seal; the data
 * path's header as received): returns 0 with the frame's length in *out_len, or -1
 * with *reason saying why it was dropped (counted in rx->stats; nothing is logged).
 * Extra AAD that differs from the sealer's fails authentication. A datagram whose
 * frame would not fit out_cap, or more than TUNNEL_EXTRA_AAD_MAX extra, is a bad
 * header. */
int tunnel_open(struct tunnel_rx *rx, uint64_t now, const struct ip_addr *sender_vtep,
                const uint8_t *extra_aad, size_t extra_len, const uint8_t *packet, size_t len,
                uint8_t *out, size_t out_cap, size_t *out_len, enum tunnel_drop *reason);

#endif
