/*
 * coalesce.c: the receive side's GRO (datapath_internal.h): TCP/IPv4 segments
 * that continue each other are joined into one frame written to the TAP with a
 * virtio-net header saying "TCPv4 GSO, mss N, checksum partial", so the bridge,
 * the veth and the container's TCP see one packet per batch instead of one per
 * segment. A segment joins when it goes to the same TAP queue (overlays share
 * a worker's coalescer), has the same Ethernet header, IP addresses,
 * TOS and TTL, ports, ACK number, window and options as the held one, comes
 * right after it in sequence, and neither it nor the held ones end the burst
 * (only ACK and PSH flags; every held segment full-sized). Anything else is
 * written as it is. Every IPv4 TCP frame goes to the TAP with "checksum
 * partial" and the pseudo header's sum in its checksum field, joined or not:
 * senders that take partial checksums (datapath.h) leave them so, the kernel
 * completes the sum if the frame leaves by a device that needs it and trusts it
 * otherwise (the transform authenticated the frame; the identity relies on the
 * UDP checksum).
 */
#include <linux/virtio_net.h>
#include <string.h>
#include <unistd.h>

#include "datapath/datapath_internal.h"

#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define IP_OFF ETH_HDR_LEN
#define TCP_OFF (ETH_HDR_LEN + 20)

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* TCP payload length of frame if it may join a coalesced frame, else 0: IPv4
 * without options or fragments, TCP with only ACK (and PSH), some payload. */
static size_t joinable_payload(const uint8_t *f, size_t len)
{
    if (len < TCP_OFF + 20 || get16(f + 12) != 0x0800 || f[IP_OFF] != 0x45 || f[IP_OFF + 9] != 6 ||
        (get16(f + IP_OFF + 6) & 0x3fff) != 0)
        return 0;
    size_t ip_len = get16(f + IP_OFF + 2), tcp_hl = (size_t)(f[TCP_OFF + 12] >> 4) * 4;
    if (ip_len + ETH_HDR_LEN != len || tcp_hl < 20 || len <= TCP_OFF + tcp_hl ||
        (f[TCP_OFF + 13] & ~(TCP_ACK | TCP_PSH)) != 0 || !(f[TCP_OFF + 13] & TCP_ACK))
        return 0;
    return len - TCP_OFF - tcp_hl;
}

/* Whether frame continues the held one (same headers but for length, ID,
 * checksums, sequence and PSH; the next sequence number). */
static bool continues(const struct coalescer *c, const uint8_t *f, size_t payload)
{
    const uint8_t *held = c->buf + DATAPATH_VNET_HDR_LEN;
    size_t tcp_hl = (size_t)(f[TCP_OFF + 12] >> 4) * 4;
    if (c->closed || payload > c->mss || c->len + payload > COALESCE_MAX ||
        tcp_hl != (size_t)(held[TCP_OFF + 12] >> 4) * 4)
        return false;
    if (memcmp(f, held, ETH_HDR_LEN) != 0 || f[IP_OFF + 1] != held[IP_OFF + 1] ||
        f[IP_OFF + 8] != held[IP_OFF + 8] || memcmp(f + IP_OFF + 12, held + IP_OFF + 12, 8) != 0)
        return false;
    return memcmp(f + TCP_OFF, held + TCP_OFF, 4) == 0 && get32(f + TCP_OFF + 4) == c->next_seq &&
           memcmp(f + TCP_OFF + 8, held + TCP_OFF + 8, 4) == 0 &&        /* ACK number */
           memcmp(f + TCP_OFF + 14, held + TCP_OFF + 14, 2) == 0 &&      /* window */
           memcmp(f + TCP_OFF + 20, held + TCP_OFF + 20, tcp_hl - 20) == 0; /* options */
}

/* The offset of frame's TCP header when it is a whole IPv4 TCP packet (no
 * fragment, lengths that agree), else 0. */
static size_t tcp4_offset(const uint8_t *f, size_t len)
{
    if (len < IP_OFF + 20 || get16(f + 12) != 0x0800 || (f[IP_OFF] >> 4) != 4 ||
        f[IP_OFF + 9] != 6 || (get16(f + IP_OFF + 6) & 0x3fff) != 0)
        return 0;
    size_t ip_hl = (size_t)(f[IP_OFF] & 0x0f) * 4;
    if (ip_hl < 20 || get16(f + IP_OFF + 2) + (size_t)IP_OFF != len || len < IP_OFF + ip_hl + 20)
        return 0;
    return IP_OFF + ip_hl;
}

/* The frame behind buf's virtio-net header (len bytes, TCP at tcp_off) gets the
 * pseudo header's sum in its TCP checksum field, and the header says "checksum
 * partial" from there (no GSO: the caller adds it). */
static void mark_partial(uint8_t *buf, size_t len, size_t tcp_off)
{
    uint8_t *f = buf + DATAPATH_VNET_HDR_LEN;
    put16(f + tcp_off + 16, csum_fold(tcp4_pseudo_sum(f + IP_OFF, len - tcp_off)));
    struct virtio_net_hdr hdr = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_NONE,
        .csum_start = htole16((uint16_t)tcp_off),
        .csum_offset = htole16(16),
    };
    memcpy(buf, &hdr, sizeof(hdr));
}

static void write_tap(struct worker *w, int tap_fd, const uint8_t *buf, size_t len)
{
    if (write(tap_fd, buf, len) < 0)
        counter_add(&w->counters.drops[DATAPATH_DROP_TAP_WRITE], 1);
    else
        counter_add(&w->counters.tap_written, 1);
}

/* A held run of several segments becomes one GSO frame: IP length and checksum
 * for the whole, TCP checksum left partial. */
static void seal_gso_header(struct coalescer *c)
{
    uint8_t *f = c->buf + DATAPATH_VNET_HDR_LEN;
    size_t tcp_hl = (size_t)(f[TCP_OFF + 12] >> 4) * 4;
    put16(f + IP_OFF + 2, (uint16_t)(c->len - ETH_HDR_LEN));
    put16(f + IP_OFF + 10, 0);
    put16(f + IP_OFF + 10, (uint16_t)~csum_fold(csum_add(0, f + IP_OFF, 20)));
    mark_partial(c->buf, c->len, TCP_OFF);
    struct virtio_net_hdr hdr;
    memcpy(&hdr, c->buf, sizeof(hdr));
    hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    hdr.hdr_len = htole16((uint16_t)(TCP_OFF + tcp_hl));
    hdr.gso_size = htole16(c->mss);
    memcpy(c->buf, &hdr, sizeof(hdr));
}

void coalesce_flush(struct worker *w)
{
    struct coalescer *c = &w->rx;
    if (c->len == 0)
        return;
    if (c->segments > 1)
        seal_gso_header(c);
    else /* one segment, whose checksum the sender may have left partial */
        mark_partial(c->buf, c->len, TCP_OFF);
    write_tap(w, c->tap_fd, c->buf, DATAPATH_VNET_HDR_LEN + c->len);
    c->len = 0;
    c->segments = 0;
}

void coalesce_add(struct worker *w, int tap_fd, uint8_t *buf, size_t len)
{
    struct coalescer *c = &w->rx;
    const uint8_t *frame = buf + DATAPATH_VNET_HDR_LEN;
    size_t payload = joinable_payload(frame, len);
    if (c->len && payload && c->tap_fd == tap_fd && continues(c, frame, payload)) {
        memcpy(c->buf + DATAPATH_VNET_HDR_LEN + c->len, frame + len - payload, payload);
        c->len += payload;
        c->segments++;
    } else {
        coalesce_flush(w);
        if (!payload) { /* straight through, TCP (IPv4) with its checksum partial */
            size_t tcp_off = tcp4_offset(frame, len);
            if (tcp_off)
                mark_partial(buf, len, tcp_off);
            write_tap(w, tap_fd, buf, DATAPATH_VNET_HDR_LEN + len);
            memset(buf, 0, DATAPATH_VNET_HDR_LEN); /* as it came */
            return;
        }
        c->tap_fd = tap_fd;
        memcpy(c->buf + DATAPATH_VNET_HDR_LEN, frame, len);
        c->len = len;
        c->segments = 1;
        c->mss = (uint16_t)payload;
    }
    uint8_t flags = frame[TCP_OFF + 13];
    c->next_seq = get32(frame + TCP_OFF + 4) + (uint32_t)payload;
    c->closed = payload < c->mss || (flags & TCP_PSH);
    if (flags & TCP_PSH) /* the joined frame carries the last segment's PSH */
        c->buf[DATAPATH_VNET_HDR_LEN + TCP_OFF + 13] |= TCP_PSH;
}
