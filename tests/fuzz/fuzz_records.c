/*
 * fuzz_records.c: libFuzzer target over what the daemon reads from the store: the
 * record decoders (store/records.c) and the checks the watch and the restart run on
 * keys and bodies (fabric/record_check.c). Whoever can write etcd writes these.
 *
 * The first input byte picks the reader; the rest is KEY '\n' VALUE (no newline:
 * all of it is the value, the key ""). What must hold, beyond not crashing and no
 * sanitizer report:
 *  - a record a decoder accepts encodes again, and that text decodes to the same
 *    text (nothing accepted that weft would not write back the same);
 *  - a fabric/ record that passes both checks has its body's VTEP equal to its key's
 *    host, names that pass record_check_names, and a peer's key address in its subnet;
 *  - a failure always comes with a message.
 * Built with -DFUZZ_RECORDS_VERBOSE it prints each reader's verdict (to check that a
 * seed of corpus_records.sh passes where it should).
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "fabric/record_check.h"
#include "store/records.h"

#define INPUT_MAX 4096

static void failed_with_message(int rc, const struct weft_err *err)
{
#ifdef FUZZ_RECORDS_VERBOSE
    fprintf(stderr, "rc %d %s\n", rc, rc < 0 ? err->msg : "");
#endif
    if (rc < 0 && err->msg[0] == '\0')
        abort();
}

/* decode -> encode -> decode -> encode: the two texts are the same. */
#define ROUND_TRIP(type, decode, encode, value)                                                    \
    do {                                                                                           \
        struct type *first = calloc(1, sizeof(struct type)),                                       \
                    *second = calloc(1, sizeof(struct type));                                      \
        struct weft_err err = {0};                                                                 \
        if (!first || !second)                                                                     \
            abort();                                                                               \
        int rc = decode(value, first, &err);                                                       \
        failed_with_message(rc, &err);                                                             \
        if (rc == 0) {                                                                             \
            char *text = encode(first);                                                            \
            if (!text || decode(text, second, &err) < 0)                                           \
                abort(); /* weft cannot read what it wrote */                                      \
            char *again = encode(second);                                                          \
            if (!again || strcmp(text, again) != 0)                                                \
                abort();                                                                           \
            free(text);                                                                            \
            free(again);                                                                           \
        }                                                                                          \
        free(first);                                                                               \
        free(second);                                                                              \
    } while (0)

static void fabric_record(const char *key, const char *value)
{
    struct fabric_record *rec = calloc(1, sizeof(*rec));
    if (!rec)
        abort();
    struct weft_err err = {0};
    int rc = record_check_key(key, rec, &err);
    failed_with_message(rc, &err);
    if (rc == 0) {
        err = (struct weft_err){0};
        rc = record_check_body(value, rec, &err);
        failed_with_message(rc, &err);
    }
    if (rc == 0) {
        if (!ip_addr_equal(&rec->vtep, &rec->host))
            abort(); /* believed only from its owner's prefix */
        if (record_check_names(rec->names, &err) < 0)
            abort();
        struct ipv4_subnet subnet;
        if (rec->is_peer && (ipv4_subnet_parse(rec->subnet, &subnet, NULL) < 0 ||
                             !ipv4_subnet_contains(&subnet, ntohl(rec->addr))))
            abort();
    }
    free(rec);
}

static void host_records(const char *key, const char *value)
{
    struct host_network_record *net = calloc(1, sizeof(*net));
    struct host_endpoint_record *ep = calloc(1, sizeof(*ep));
    if (!net || !ep)
        abort();
    struct ipv4_subnet subnet;
    struct weft_err err = {0};
    int rc = record_check_host_network(key, value, net, &subnet, &err);
    failed_with_message(rc, &err);
    if (rc < 0 && ipv4_subnet_parse("10.77.0.0/24", &subnet, NULL) < 0)
        abort();
    uint32_t ip;
    int prefix_len;
    uint8_t mac[6];
    err = (struct weft_err){0};
    rc = record_check_host_endpoint(key, value, &subnet, ep, &ip, &prefix_len, mac, &err);
    failed_with_message(rc, &err);
    if (rc == 0 && (!ipv4_subnet_contains(&subnet, ip) || prefix_len != subnet.prefix_len))
        abort();
    free(net);
    free(ep);
}

static void overlay_record(const char *key, const char *value)
{
    struct overlay_record rec;
    struct weft_err err = {0};
    /* The key stands for the subnet the caller expects (it may be no subnet at all). */
    failed_with_message(record_check_overlay(key, value, &rec, &err), &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > INPUT_MAX)
        return 0;
    char *text = malloc(size);
    if (!text)
        abort();
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *nl = strchr(text, '\n');
    const char *key = "", *value = text;
    if (nl) {
        *nl = '\0';
        key = text;
        value = nl + 1;
    }
    switch (data[0] % 10) {
    case 0:
        fabric_record(key, value);
        break;
    case 1:
        host_records(key, value);
        break;
    case 2:
        overlay_record(key, value);
        break;
    case 3:
        ROUND_TRIP(overlay_record, overlay_record_decode, overlay_record_encode, value);
        break;
    case 4:
        ROUND_TRIP(addr_record, addr_record_decode, addr_record_encode, value);
        break;
    case 5:
        ROUND_TRIP(pool_record, pool_record_decode, pool_record_encode, value);
        break;
    case 6:
        ROUND_TRIP(peer_record, peer_record_decode, peer_record_encode, value);
        break;
    case 7:
        ROUND_TRIP(member_record, member_record_decode, member_record_encode, value);
        break;
    case 8:
        ROUND_TRIP(host_network_record, host_network_record_decode, host_network_record_encode,
                   value);
        break;
    default:
        ROUND_TRIP(host_endpoint_record, host_endpoint_record_decode, host_endpoint_record_encode,
                   value);
        break;
    }
    free(text);
    return 0;
}
