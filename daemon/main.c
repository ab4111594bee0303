/* main.c: the weft command line (placeholder until the daemon lands). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "weft: not built yet\n");
    return 1;
}
