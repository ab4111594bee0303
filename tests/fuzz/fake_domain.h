/*
 * fake_domain.h: stand-ins for fabric/ and ipam/ in the fuzz build only, so a
 * valid request runs past validation into the call and the answer building.
 * Each fake checks what the driver handed it (aborting on a value validation
 * should have refused) and succeeds or fails depending on the IDs, so both
 * answer paths run. Callers: tests/fuzz/fuzz_requests.c.
 */
#ifndef WEFT_FAKE_DOMAIN_H
#define WEFT_FAKE_DOMAIN_H

#include "fabric/fabric.h"
#include "store/etcd.h"

/* Non-NULL handles the fakes accept; nothing may dereference them. */
struct fabric *fake_fabric(void);
struct etcd *fake_etcd(void);

#endif
