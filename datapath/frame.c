/*
 * frame.c: per-packet parsing of datapath/: the virtio-net header in front of a
 * TAP frame, and weft's 8-byte header in front of every datagram:
 *   byte 0 version (1), byte 1 type (1: an Ethernet frame), bytes 2-3 zero,
 *   bytes 4-7 the VNI (big endian).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <linux/virtio_net.h>
#include <string.h>

#include "datapath/datapath_internal.h"

#define WIRE_VERSION 1
#define WIRE_TYPE_FRAME 1

/* Words are added in the machine's byte order and the folded sum swapped to
 * network order at the end: the ones' complement sum does not care which byte
 * of a word is the high one (RFC 1071, "byte order independence"), nor how wide
 * the words are as long as every carry comes back in at the bottom. The bulk
 * goes 16 bytes a round into two 64-bit sums with their carries counted, two
 * chains the CPU adds side by side (twice as fast as one 32-bit chain). */
static uint64_t add_end_around(uint64_t a, uint64_t b)
{
    a += b;
    return a + (a < b);
}

uint64_t csum_add(uint64_t sum, const uint8_t *data, size_t len)
{
    size_t i = 0;
    uint64_t a = 0, b = 0, carries = 0;
    for (; i + 16 <= len; i += 16) {
        uint64_t v[2];
        memcpy(v, data + i, 16);
        a += v[0];
        carries += a < v[0];
        b += v[1];
        carries += b < v[1];
    }
    uint64_t bulk = add_end_around(add_end_around(a, b), carries);
    sum += (uint32_t)bulk;
    sum += bulk >> 32;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, data + i, 8);
        sum += (uint32_t)v;
        sum += v >> 32;
    }
    for (; i + 2 <= len; i += 2) {
        uint16_t v;
        memcpy(&v, data + i, 2);
        sum += v;
    }
    if (i < len) { /* the odd byte is the high one of a network-order word */
        uint8_t last[2] = {data[i], 0};
        uint16_t v;
        memcpy(&v, last, 2);
        sum += v;
    }
    return sum;
}

uint64_t tcp4_pseudo_sum(const uint8_t *ip, size_t tcp_len)
{
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8); /* source and destination address */
    pseudo[8] = 0;
    pseudo[9] = 6;
    pseudo[10] = (uint8_t)(tcp_len >> 8);
    pseudo[11] = (uint8_t)tcp_len;
    return csum_add(0, pseudo, sizeof(pseudo));
}

uint64_t tcp6_pseudo_sum(const uint8_t *ip, size_t tcp_len)
{
    uint8_t tail[8] = {(uint8_t)(tcp_len >> 24),
                       (uint8_t)(tcp_len >> 16),
                       (uint8_t)(tcp_len >> 8),
                       (uint8_t)tcp_len,
                       0,
                       0,
                       0,
                       6};
    return csum_add(csum_add(0, ip + 8, 32), tail, sizeof(tail)); /* source, destination */
}

uint16_t csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return ntohs((uint16_t)sum);
}

/* The Internet checksum of data, folded, not complemented. */
static uint16_t ones_sum(const uint8_t *data, size_t len)
{
    return csum_fold(csum_add(0, data, len));
}

/* CHECKSUM_PARTIAL: the field holds the pseudo-header sum; the sum from
 * csum_start to the end, complemented, goes there (what a NIC would do). */
static enum datapath_drop complete_checksum(uint8_t *frame, size_t len, size_t start,
                                            size_t offset)
{
    if (start >= len || offset > len - start || len - start - offset < 2)
        return DATAPATH_DROP_BAD_FRAME;
    uint16_t sum = (uint16_t)~ones_sum(frame + start, len - start);
    frame[start + offset] = (uint8_t)(sum >> 8);
    frame[start + offset + 1] = (uint8_t)sum;
    return DATAPATH_OK;
}

enum datapath_drop frame_from_tap(uint8_t *buf, size_t n, struct tap_frame *out)
{
    struct virtio_net_hdr hdr;
    if (n < DATAPATH_VNET_HDR_LEN + ETH_HDR_LEN)
        return DATAPATH_DROP_BAD_FRAME;
    memcpy(&hdr, buf, sizeof(hdr));
    out->data = buf + DATAPATH_VNET_HDR_LEN;
    out->len = n - DATAPATH_VNET_HDR_LEN;
    out->gso_size = 0;
    /* vxlan/tap.h offers the kernel TSO for TCP over IPv4 and IPv6 (and CSUM):
     * anything else (UDP) is segmented before it reaches us. ECN's flag only says
     * CWR may be set. */
    switch (hdr.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE:
        break;
    case VIRTIO_NET_HDR_GSO_TCPV4:
    case VIRTIO_NET_HDR_GSO_TCPV6:
        out->gso_size = le16toh(hdr.gso_size);
        /* tso_begin checks the headers and recomputes every checksum. */
        return out->gso_size ? DATAPATH_OK : DATAPATH_DROP_BAD_FRAME;
    default:
        return DATAPATH_DROP_BAD_FRAME;
    }
    if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        return complete_checksum(out->data, out->len, le16toh(hdr.csum_start),
                                 le16toh(hdr.csum_offset));
    return DATAPATH_OK;
}

bool frame_is_tcp(const uint8_t *frame, size_t len)
{
    if (len < ETH_HDR_LEN + 40)
        return false;
    uint16_t type = (uint16_t)(frame[12] << 8 | frame[13]);
    const uint8_t *ip = frame + ETH_HDR_LEN;
    return (type == 0x0800 && ip[9] == 6) || (type == 0x86dd && ip[6] == 6);
}

void wire_header_write(uint8_t hdr[DATAPATH_HDR_LEN], uint32_t vni)
{
    uint32_t vni_be = htobe32(vni);
    hdr[0] = WIRE_VERSION;
    hdr[1] = WIRE_TYPE_FRAME;
    hdr[2] = hdr[3] = 0;
    memcpy(hdr + 4, &vni_be, 4);
}

enum datapath_drop wire_header_vni(const uint8_t *pkt, size_t len, uint32_t *vni)
{
    uint32_t vni_be;
    if (len < DATAPATH_HDR_LEN + ETH_HDR_LEN || pkt[0] != WIRE_VERSION ||
        pkt[1] != WIRE_TYPE_FRAME)
        return DATAPATH_DROP_MALFORMED;
    memcpy(&vni_be, pkt + 4, 4);
    *vni = be32toh(vni_be);
    return DATAPATH_OK;
}
