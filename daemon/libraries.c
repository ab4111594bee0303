/*
 * libraries.c: the versions the running daemon's libraries report (libraries.h).
 * Each library is asked by the module that owns it (store/ for libcurl and jansson,
 * dns/ for ldns); libmicrohttpd and libsodium are the daemon's own.
 */
#include "daemon/libraries.h"

#include <microhttpd.h>
#include <sodium.h>
#include <stdio.h>

#include "dns/dns_query.h"
#include "store/etcd.h"

void daemon_libraries(char *out, size_t size)
{
    char client[160], dns[48];
    etcd_client_libraries(client, sizeof(client));
    dns_library_version(dns, sizeof(dns));
    const char *mhd = MHD_get_version();
    snprintf(out, size, "%s libmicrohttpd/%s %s libsodium/%s", client, mhd ? mhd : "?", dns,
             sodium_version_string());
}
