/* main.c - the strkit command */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "strkit.h"

static void usage(void)
{
    fprintf(stderr, "usage: %s upper|lower|title|reverse|trim TEXT\n"
                    "       %s stddev NUMBER...\n"
                    "       %s cpus|version\n",
            getprogname(), getprogname(), getprogname());
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    if (strcmp(argv[1], "version") == 0) {
        printf("strkit %s\n", sk_version());
    } else if (strcmp(argv[1], "cpus") == 0) {
        printf("%ld\n", sk_cpu_count());
    } else if (strcmp(argv[1], "stddev") == 0) {
        double v[64];
        int i, n = 0;

        for (i = 2; i < argc && n < 64; i++)
            v[n++] = strtod(argv[i], NULL);
        printf("%g\n", sk_stddev(v, (size_t)n));
    } else if (argc == 3) {
        char buf[256];

        sk_copy(buf, argv[2], sizeof(buf));
        if (strcmp(argv[1], "upper") == 0)
            sk_upper(buf);
        else if (strcmp(argv[1], "lower") == 0)
            sk_lower(buf);
        else if (strcmp(argv[1], "title") == 0)
            sk_title(buf);
        else if (strcmp(argv[1], "reverse") == 0)
            sk_reverse(buf);
        else if (strcmp(argv[1], "trim") == 0)
            sk_trim(buf);
        else
            usage();
        printf("%s\n", buf);
    } else {
        usage();
    }
    return 0;
}
