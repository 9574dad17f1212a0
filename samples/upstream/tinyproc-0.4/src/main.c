/* main.c - the tinyproc command */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tinyproc.h"

static void usage(void)
{
    fprintf(stderr, "usage: tinyproc [-q] [-d SECONDS] COMMAND [ARG]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct tp_result res;
    int quiet = 0, delay = 0, i = 1;

    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-q") == 0) {
            quiet = 1;
        } else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
            delay = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--arg-max") == 0) {
            printf("%ld\n", tp_arg_max());
            return 0;
        } else {
            usage();
        }
        i++;
    }
    if (i >= argc)
        usage();
    if (delay > 0)
        sleep(delay);
    if (tp_run(argv + i, &res) != 0) {
        perror("tinyproc");
        return 125;
    }
    if (res.exited)
        printf("exit %d\n", res.code);
    else
        printf("signal %d (%s)\n", res.code, tp_signal_name(res.code));
    if (!quiet)
        printf("cpu %.3fs\n", tp_seconds(res.cpu_ms));
    return res.exited ? res.code : 128 + res.code;
}
