/*
 * tso.c: user-space TCP segmentation of the TAP's super-frames, TCP over IPv4 or
 * IPv6 (issue 11: "TSO/GSO super-frames segmented by weft before encryption").
 * The kernel hands the TAP one frame of up to 64 KiB per burst instead of dozens
 * of MTU-sized ones; each segment gets what a NIC's TSO would give it: IP total
 * length and ID (+1 per segment) and header checksum, or IPv6's payload length,
 * TCP sequence, FIN/PSH only on the last, CWR only on the first, and the TCP
 * checksum computed in full, or left partial (the pseudo header's sum) for a
 * receiver that completes it, as weft's does: the frame was authenticated by the
 * transform, and the cost is a pass over every byte. IPv6 segments are always
 * summed in full: a peer's "takes partial checksums" was said of IPv4 first.
 */
#include <string.h>

#include "datapath/datapath_internal.h"

#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

enum datapath_drop tso_begin(struct tso_iter *it, const struct tap_frame *f, bool partial_csum)
{
    uint8_t *fr = f->data;
    it->len = it->next = 0; /* nothing to cut unless the headers pass */
    it->index = 0;
    it->ipv6 = f->len >= ETH_HDR_LEN + 40 && get16(fr + 12) == 0x86dd;
    it->partial_csum = partial_csum && !it->ipv6;
    size_t ip_hl;
    if (it->ipv6) {
        /* TCP right behind the fixed header: the kernel's TSO6 super-frames from a
         * container carry no extension headers. */
        ip_hl = 40;
        if ((fr[ETH_HDR_LEN] >> 4) != 6 || fr[ETH_HDR_LEN + 6] != 6 ||
            f->len < ETH_HDR_LEN + ip_hl + 20)
            return DATAPATH_DROP_BAD_FRAME;
    } else {
        if (f->len < ETH_HDR_LEN + 20 || get16(fr + 12) != 0x0800)
            return DATAPATH_DROP_BAD_FRAME;
        ip_hl = (size_t)(fr[ETH_HDR_LEN] & 0x0f) * 4;
        if ((fr[ETH_HDR_LEN] >> 4) != 4 || ip_hl < 20 || fr[ETH_HDR_LEN + 9] != 6 ||
            f->len < ETH_HDR_LEN + ip_hl + 20)
            return DATAPATH_DROP_BAD_FRAME;
    }
    size_t tcp_off = ETH_HDR_LEN + ip_hl;
    size_t tcp_hl = (size_t)(fr[tcp_off + 12] >> 4) * 4;
    if (tcp_hl < 20 || f->len <= tcp_off + tcp_hl)
        return DATAPATH_DROP_BAD_FRAME; /* a super-frame carries payload */
    it->frame = fr;
    it->len = f->len;
    it->ip_off = ETH_HDR_LEN;
    it->tcp_off = tcp_off;
    it->payload_off = it->next = tcp_off + tcp_hl;
    it->mss = f->gso_size;
    memcpy(it->hdr, fr, it->payload_off); /* at most TSO_HDR_MAX: 4-bit lengths */
    return DATAPATH_OK;
}

/* The TCP checksum over the pseudo header, the TCP header and payload of seg; or,
 * partial, the pseudo header's sum alone (the receiver completes or trusts it). */
static void tcp_checksum(uint8_t *seg, size_t ip_off, size_t tcp_off, size_t len, bool ipv6,
                         bool partial)
{
    size_t tcp_len = len - tcp_off;
    put16(seg + tcp_off + 16, 0);
    uint64_t sum =
        ipv6 ? tcp6_pseudo_sum(seg + ip_off, tcp_len) : tcp4_pseudo_sum(seg + ip_off, tcp_len);
    if (partial)
        put16(seg + tcp_off + 16, csum_fold(sum));
    else
        put16(seg + tcp_off + 16, (uint16_t)~csum_fold(csum_add(sum, seg + tcp_off, tcp_len)));
}

bool tso_next(struct tso_iter *it, size_t cap, uint8_t **seg, size_t *seg_len)
{
    if (it->next >= it->len || (it->index > 0 && it->next == it->payload_off))
        return false;
    size_t chunk = it->len - it->next < it->mss ? it->len - it->next : it->mss;
    size_t hdr_len = it->payload_off, len = hdr_len + chunk;
    if (len > cap)
        return false;
    bool last = it->next + chunk == it->len;
    /* The first segment's headers are where the kernel put them; a later one's
     * go over the previous payload's last bytes, already sealed. */
    uint8_t *out = it->frame + it->next - hdr_len;
    memcpy(out, it->hdr, hdr_len);
    uint8_t *ip = out + it->ip_off, *tcp = out + it->tcp_off;
    if (it->ipv6) {
        put16(ip + 4, (uint16_t)(len - it->tcp_off)); /* payload length: TCP header and data */
    } else {
        put16(ip + 2, (uint16_t)(len - it->ip_off));
        put16(ip + 4, (uint16_t)(get16(ip + 4) + it->index));
        put16(ip + 10, 0);
        put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, it->tcp_off - it->ip_off)));
    }
    uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
    put32(tcp + 4, seq + (uint32_t)(it->next - it->payload_off));
    if (!last)
        tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
    if (it->index > 0)
        tcp[13] &= (uint8_t)~TCP_CWR;
    tcp_checksum(out, it->ip_off, it->tcp_off, len, it->ipv6, it->partial_csum);
    it->next += chunk;
    it->index++;
    *seg = out;
    *seg_len = len;
    return true;
}
