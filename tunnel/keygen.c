/*
 * keygen.c: `weft keygen`, which prints a new cluster secret (see cluster_secret.h)
 * for `weft daemon --secret-file`. The secret only ever goes to stdout: to a file
 * that others could read it goes only after that file is made 0600.
 */
#include "tunnel/cluster_secret.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/secret_file.h"

static void keygen_usage(FILE *out)
{
    fprintf(out, "usage: weft keygen > FILE\n"
                 "\n"
                 "Prints a new cluster secret for encrypted overlays (-o encrypted): one line\n"
                 "\"" TUNNEL_SECRET_PREFIX "...\". Copy the file to every host, mode 0600, and\n"
                 "start each daemon with --secret-file FILE. A file given as stdout is made\n"
                 "0600 before the secret is written.\n");
}

/* A regular file on stdout (a shell redirection made it with the umask) is made
 * private before the secret goes in; a terminal or a pipe is the user's choice. */
static int protect_stdout(struct weft_err *err)
{
    struct stat st;
    if (fstat(STDOUT_FILENO, &st) < 0)
        return weft_err_set(err, -errno, "stdout: %s", strerror(errno));
    if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
        return 0;
    if (fchmod(STDOUT_FILENO, 0600) < 0)
        return weft_err_set(err, -errno,
                            "stdout is a file others may read (mode %04o) and making it 0600 "
                            "failed: %s; nothing was written",
                            (unsigned)(st.st_mode & 07777), strerror(errno));
    return 0;
}

int tunnel_keygen_main(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        keygen_usage(stdout);
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "weft keygen: unexpected argument %s\n", argv[1]);
        keygen_usage(stderr);
        return 2;
    }
    struct weft_err err = {0};
    char text[TUNNEL_SECRET_TEXT_MAX];
    if (protect_stdout(&err) < 0 || tunnel_secret_text_new(text, &err) < 0) {
        fprintf(stderr, "weft keygen: %s\n", err.msg);
        return 1;
    }
    int rc = secret_write_all(STDOUT_FILENO, text, strlen(text));
    int saved = errno;
    sodium_memzero(text, sizeof(text));
    if (rc < 0) {
        fprintf(stderr, "weft keygen: writing stdout: %s\n", strerror(saved));
        return 1;
    }
    return 0;
}
