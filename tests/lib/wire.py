#!/usr/bin/env python3
"""wire.py: what an attacker on the underlay sees and can do, for the encrypted
overlay's tests. Reads tcpdump captures (pcap, Ethernet) of UDP between hosts, over
IPv4 or IPv6.

  wire.py count-marker PCAP HEX      packets whose UDP payload holds the bytes HEX
  wire.py distinct PCAP SKIP         exit 1 if two datagrams share an 8-byte window
                                     past their first SKIP bytes (prints the count)
A capture taken on a veth holds a UDP GSO send as one packet: its datagrams are cut
apart again at their weft and tunnel headers (the same 10 bytes starting each one).
  wire.py epochs PCAP                distinct epochs in weft tunnel headers
  wire.py resend PCAP MODE DST PORT  sends the last captured payload to DST:PORT from
                                     this namespace, as captured (MODE replay) or with
                                     its last byte flipped (MODE tamper)
"""
import socket
import struct
import sys

WEFT_HDR = 8  # datapath/ header (version, type, VNI)
EPOCH_OFF = WEFT_HDR + 4  # tunnel/packet.h: magic, type, cipher, reserved, epoch u32


def udp_payloads(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit(f"{path}: link type {linktype}, want Ethernet (1)")
    out, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) >= 14 + 20 and frame[12:14] == b"\x08\x00":  # IPv4
            ihl = (frame[14] & 0x0F) * 4
            if frame[14 + 9] == 17:
                out.append(frame[14 + ihl + 8:])
        elif len(frame) >= 14 + 40 and frame[12:14] == b"\x86\xdd":  # IPv6, no extensions
            if frame[14 + 6] == 17:
                out.append(frame[14 + 40 + 8:])
    return out


def datagrams(payloads):
    """weft datagrams, a GSO run cut at each repeat of its first datagram's headers."""
    out = []
    for p in payloads:
        start = p[:WEFT_HDR + 2]  # weft header (VNI) + tunnel magic and type
        cuts, i = [0], p.find(start, 1)
        while i > 0:
            cuts.append(i)
            i = p.find(start, i + 1)
        cuts.append(len(p))
        out += [p[a:b] for a, b in zip(cuts, cuts[1:])]
    return out


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    payloads = udp_payloads(path)
    if cmd == "count-marker":
        marker = bytes.fromhex(sys.argv[3])
        print(sum(1 for p in payloads if marker in p))
    elif cmd == "distinct":
        skip = int(sys.argv[3])
        seen = {}
        payloads = datagrams(payloads)
        for i, p in enumerate(payloads):
            body = p[skip:]
            for j in range(0, len(body) - 7):
                w = body[j:j + 8]
                if seen.get(w, i) != i:
                    print(f"packets {seen[w]} and {i} share the bytes {w.hex()}")
                    sys.exit(1)
                seen[w] = i
        print(len(payloads))
    elif cmd == "epochs":
        epochs = {struct.unpack(">I", p[EPOCH_OFF:EPOCH_OFF + 4])[0]
                  for p in datagrams(payloads) if len(p) >= EPOCH_OFF + 4}
        print(len(epochs))
    elif cmd == "resend":
        mode, dst, port = sys.argv[3], sys.argv[4], int(sys.argv[5])
        if not payloads:
            sys.exit("nothing captured to resend")
        p = bytearray(datagrams(payloads)[-1])
        if mode == "tamper":
            p[-1] ^= 0x01
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(bytes(p), (dst, port))
        print(len(p))
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
