/*
 * veth_alias.c: an endpoint's record as its veth's alias, compact (see veth_alias.h).
 * Fields are separated by single spaces and contain none (IDs are hex, addresses
 * and MACs have no spaces); a field that is empty or too long refuses the line.
 */
#include "fabric/veth_alias.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *veth_alias_encode(const struct host_endpoint_record *rec)
{
    char *out = malloc(VETH_ALIAS_MAX + 1);
    if (!out)
        return NULL;
    int n = snprintf(out, VETH_ALIAS_MAX + 1, "%s %s %s %s %s%s%s", VETH_ALIAS_TAG, rec->endpoint_id,
                     rec->network_id, rec->ip, rec->mac, rec->ip6[0] ? " " : "", rec->ip6);
    if (n < 0 || n > VETH_ALIAS_MAX) {
        free(out);
        return NULL;
    }
    return out;
}

/* Copies the next space-separated field of *text into out (size bytes) and moves
 * *text past it; false when there is none or it does not fit. */
static bool next_field(const char **text, char *out, size_t size)
{
    const char *start = *text;
    size_t len = strcspn(start, " ");
    if (len == 0 || len >= size)
        return false;
    memcpy(out, start, len);
    out[len] = '\0';
    *text = start + len + (start[len] == ' ');
    return true;
}

char *veth_alias_record_text(const char *alias)
{
    if (alias[0] == '{') /* written by weft before the compact form */
        return strdup(alias);
    struct host_endpoint_record rec = {0};
    char tag[sizeof(VETH_ALIAS_TAG)];
    const char *p = alias;
    if (!next_field(&p, tag, sizeof(tag)) || strcmp(tag, VETH_ALIAS_TAG) != 0 ||
        !next_field(&p, rec.endpoint_id, sizeof(rec.endpoint_id)) ||
        !next_field(&p, rec.network_id, sizeof(rec.network_id)) ||
        !next_field(&p, rec.ip, sizeof(rec.ip)) || !next_field(&p, rec.mac, sizeof(rec.mac)))
        return NULL;
    if (*p && !next_field(&p, rec.ip6, sizeof(rec.ip6)))
        return NULL;
    if (*p) /* more than weft writes */
        return NULL;
    return host_endpoint_record_encode(&rec);
}
