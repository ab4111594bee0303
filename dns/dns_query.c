/* dns_query.c: STUB until the DNS message handler lands (dns_query.h). */
#include "dns/dns_query.h"

enum dns_verdict dns_query_answer(const struct dns_names *names, const struct ipv4_subnet *overlay,
                                  const uint8_t *query, size_t query_len, unsigned rotate,
                                  uint8_t *out, size_t out_cap, size_t *out_len)
{
    (void)names, (void)overlay, (void)query, (void)query_len, (void)rotate, (void)out,
        (void)out_cap, (void)out_len;
    return DNS_DROP;
}
