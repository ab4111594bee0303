/*
 * coalesce.c: the receive side's GRO (datapath_internal.h): TCP segments (over
 * IPv4 or IPv6) that continue each other are joined into one frame written to
 * the TAP with a virtio-net header saying "TCPv4 (or v6) GSO, mss N, checksum
 * partial", so the bridge, the veth and the container's TCP see one packet per
 * batch instead of one per segment. A segment joins when it goes to the same
 * TAP queue (overlays share a worker's coalescer), has the same Ethernet header
 * (so the same family), IP addresses, TOS and TTL (IPv6: traffic class, flow
 * label and hop limit), ports, ACK number, window and options as the held one,
 * comes right after it in sequence, and neither it nor the held ones end the
 * burst (only ACK and PSH flags; every held segment full-sized). IPv4 with
 * options or fragments and IPv6 with extension headers never join. Anything
 * else is written as it is. Every TCP frame goes to the TAP with "checksum
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
#define TCP4_OFF (ETH_HDR_LEN + 20) /* IPv4 without options */
#define TCP6_OFF (ETH_HDR_LEN + 40) /* IPv6 without extension headers */

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

static bool is_ipv6(const uint8_t *f)
{
    return get16(f + 12) == 0x86dd;
}

/* The offset of frame's TCP header when it is a whole TCP packet (IPv4: no
 * fragment; IPv6: TCP right after the header; lengths that agree), else 0. */
static size_t tcp_offset(const uint8_t *f, size_t len)
{
    if (len >= TCP6_OFF + 20 && is_ipv6(f))
        return (f[IP_OFF] >> 4) == 6 && f[IP_OFF + 6] == 6 &&
                       get16(f + IP_OFF + 4) + (size_t)TCP6_OFF == len
                   ? TCP6_OFF
                   : 0;
    if (len < IP_OFF + 20 || get16(f + 12) != 0x0800 || (f[IP_OFF] >> 4) != 4 ||
        f[IP_OFF + 9] != 6 || (get16(f + IP_OFF + 6) & 0x3fff) != 0)
        return 0;
    size_t ip_hl = (size_t)(f[IP_OFF] & 0x0f) * 4;
    if (ip_hl < 20 || get16(f + IP_OFF + 2) + (size_t)IP_OFF != len || len < IP_OFF + ip_hl + 20)
        return 0;
    return IP_OFF + ip_hl;
}

/* TCP payload length of frame if it may join a coalesced frame, else 0: a whole
 * TCP packet (tcp_offset) whose IPv4 header has no options (IPv6: TCP right after
 * the header, always); TCP with only ACK (and PSH), some payload. *tcp_off is
 * tcp_offset's answer, joinable or not. */
static size_t joinable_payload(const uint8_t *f, size_t len, size_t *tcp_off)
{
    *tcp_off = tcp_offset(f, len);
    if (*tcp_off != (is_ipv6(f) ? TCP6_OFF : TCP4_OFF))
        return 0;
    const uint8_t *tcp = f + *tcp_off;
    size_t tcp_hl = (size_t)(tcp[12] >> 4) * 4;
    if (tcp_hl < 20 || len <= *tcp_off + tcp_hl || (tcp[13] & ~(TCP_ACK | TCP_PSH)) != 0 ||
        !(tcp[13] & TCP_ACK))
        return 0;
    return len - *tcp_off - tcp_hl;
}

/* Whether the IP headers of f and the held frame h agree but for length, ID,
 * checksum: IPv4's TOS, TTL and addresses; IPv6's version, traffic class, flow
 * label, hop limit and addresses. Their Ethernet headers (so families) match. */
static bool same_ip(const uint8_t *f, const uint8_t *h)
{
    const uint8_t *a = f + IP_OFF, *b = h + IP_OFF;
    if (is_ipv6(f))
        return memcmp(a, b, 4) == 0 && a[7] == b[7] && memcmp(a + 8, b + 8, 32) == 0;
    return a[1] == b[1] && a[8] == b[8] && memcmp(a + 12, b + 12, 8) == 0;
}

/* Whether frame (TCP at tcp_off) continues the held one (same headers but for
 * length, ID, checksums, sequence and PSH; the next sequence number). */
static bool continues(const struct coalescer *c, const uint8_t *f, size_t tcp_off, size_t payload)
{
    const uint8_t *held = c->buf + DATAPATH_VNET_HDR_LEN;
    const uint8_t *tcp = f + tcp_off, *held_tcp = held + tcp_off;
    size_t tcp_hl = (size_t)(tcp[12] >> 4) * 4;
    if (c->closed || tcp_off != c->tcp_off || payload > c->mss || c->len + payload > COALESCE_MAX ||
        tcp_hl != (size_t)(held_tcp[12] >> 4) * 4)
        return false;
    if (memcmp(f, held, ETH_HDR_LEN) != 0 || !same_ip(f, held))
        return false;
    return memcmp(tcp, held_tcp, 4) == 0 && get32(tcp + 4) == c->next_seq &&
           memcmp(tcp + 8, held_tcp + 8, 4) == 0 &&           /* ACK number */
           memcmp(tcp + 14, held_tcp + 14, 2) == 0 &&         /* window */
           memcmp(tcp + 20, held_tcp + 20, tcp_hl - 20) == 0; /* options */
}

/* The frame behind buf's virtio-net header (len bytes, TCP at tcp_off) gets the
 * pseudo header's sum in its TCP checksum field, and the header says "checksum
 * partial" from there (no GSO: the caller adds it). */
static void mark_partial(uint8_t *buf, size_t len, size_t tcp_off)
{
    uint8_t *f = buf + DATAPATH_VNET_HDR_LEN;
    uint64_t sum = is_ipv6(f) ? tcp6_pseudo_sum(f + IP_OFF, len - tcp_off)
                              : tcp4_pseudo_sum(f + IP_OFF, len - tcp_off);
    put16(f + tcp_off + 16, csum_fold(sum));
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

/* A held run of several segments becomes one GSO frame: IP length (and IPv4's
 * header checksum) for the whole, TCP checksum left partial. */
static void seal_gso_header(struct coalescer *c)
{
    uint8_t *f = c->buf + DATAPATH_VNET_HDR_LEN;
    size_t tcp_hl = (size_t)(f[c->tcp_off + 12] >> 4) * 4;
    bool ipv6 = is_ipv6(f);
    if (ipv6) {
        put16(f + IP_OFF + 4, (uint16_t)(c->len - TCP6_OFF));
    } else {
        put16(f + IP_OFF + 2, (uint16_t)(c->len - ETH_HDR_LEN));
        put16(f + IP_OFF + 10, 0);
        put16(f + IP_OFF + 10, (uint16_t)~csum_fold(csum_add(0, f + IP_OFF, 20)));
    }
    mark_partial(c->buf, c->len, c->tcp_off);
    struct virtio_net_hdr hdr;
    memcpy(&hdr, c->buf, sizeof(hdr));
    hdr.gso_type = ipv6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    hdr.hdr_len = htole16((uint16_t)(c->tcp_off + tcp_hl));
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
        mark_partial(c->buf, c->len, c->tcp_off);
    write_tap(w, c->tap_fd, c->buf, DATAPATH_VNET_HDR_LEN + c->len);
    c->len = 0;
    c->segments = 0;
}

void coalesce_add(struct worker *w, int tap_fd, uint8_t *buf, size_t len)
{
    struct coalescer *c = &w->rx;
    const uint8_t *frame = buf + DATAPATH_VNET_HDR_LEN;
    size_t tcp_off = 0;
    size_t payload = joinable_payload(frame, len, &tcp_off);
    if (c->len && payload && c->tap_fd == tap_fd && continues(c, frame, tcp_off, payload)) {
        memcpy(c->buf + DATAPATH_VNET_HDR_LEN + c->len, frame + len - payload, payload);
        c->len += payload;
        c->segments++;
    } else {
        coalesce_flush(w);
        if (!payload) { /* straight through, TCP with its checksum partial */
            if (tcp_off)
                mark_partial(buf, len, tcp_off);
            write_tap(w, tap_fd, buf, DATAPATH_VNET_HDR_LEN + len);
            memset(buf, 0, DATAPATH_VNET_HDR_LEN); /* as it came */
            return;
        }
        c->tap_fd = tap_fd;
        c->tcp_off = tcp_off;
        memcpy(c->buf + DATAPATH_VNET_HDR_LEN, frame, len);
        c->len = len;
        c->segments = 1;
        c->mss = (uint16_t)payload;
    }
    uint8_t flags = frame[tcp_off + 13];
    c->next_seq = get32(frame + tcp_off + 4) + (uint32_t)payload;
    c->closed = payload < c->mss || (flags & TCP_PSH);
    if (flags & TCP_PSH) /* the joined frame carries the last segment's PSH */
        c->buf[DATAPATH_VNET_HDR_LEN + tcp_off + 13] |= TCP_PSH;
}
