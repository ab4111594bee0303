/*
 * libraries.h: which libraries, at which versions, the running daemon carries.
 * The daemon links every library but libc and libmnl statically by default
 * (docs/design.md, "What the daemon links"), so after a security update of one of
 * them an operator needs to see whether a daemon was rebuilt with the fix:
 * `weft status` shows this line (daemon/control.c fills it in). Read from the
 * libraries themselves at run time, never from the headers weft was compiled with.
 * Anyone in the daemon may call it; it is thread-safe.
 */
#ifndef WEFT_DAEMON_LIBRARIES_H
#define WEFT_DAEMON_LIBRARIES_H

#include <stddef.h>

/* "libcurl/8.21.0 OpenSSL/3.0.19 nghttp2/1.52.0 jansson/2.14 libmicrohttpd/1.0.10
 * ldns/1.8.3 libsodium/1.0.22" into out (cut to size, always terminated). */
void daemon_libraries(char *out, size_t size);

#endif
