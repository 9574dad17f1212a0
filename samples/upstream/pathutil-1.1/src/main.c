/* main.c - the pathutil command */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "pathutil.h"

/* getopt() for systems whose headers do not declare it */
extern char *optarg;
extern int optind;
int getopt(int, char **, char *);

static void usage(void)
{
    fprintf(stderr, "usage: pathutil [-i] [-V] COMMAND ARG...\n"
                    "commands: norm PATH, join DIR NAME, canon PATH, home PATH, ext PATH EXT,\n"
                    "          match PATTERN PATH, quote TEXT, ls DIR, mode PATH, free PATH,\n"
                    "          which NAME, self, valid NAME\n");
    exit(2);
}

static void print_entry(const char *name, int is_dir, void *arg)
{
    (void)arg;
    printf("%s%s\n", name, is_dir ? "/" : "");
}

static int fail(const char *what)
{
    char buf[128];

    fprintf(stderr, "pathutil: %s: %s\n", what, pu_strerror(errno, buf, sizeof(buf)));
    return 1;
}

int main(int argc, char **argv)
{
    char buf[PU_PATH_MAX], *s;
    const char *cmd, *prog = argv[0];
    unsigned long long bytes;
    int c, nocase = 0, args;

    while ((c = getopt(argc, argv, "iV")) != -1) {
        switch (c) {
        case 'i': nocase = 1; break;
        case 'V': printf("pathutil %s\n", PU_VERSION); return 0;
        default: usage();
        }
    }
    if (optind >= argc)
        usage();
    cmd = argv[optind];
    argv += optind + 1;
    args = argc - optind - 1;
    if (strcmp(cmd, "self") == 0 && args == 0) {
        if (pu_self_path(prog, buf, sizeof(buf)) != 0)
            return fail("self");
        printf("%s\n", buf);
    } else if (args == 1 && (strcmp(cmd, "norm") == 0 || strcmp(cmd, "home") == 0)) {
        if ((s = cmd[0] == 'n' ? pu_concat(argv[0], "") : pu_expand_tilde(argv[0])) == NULL)
            return fail(argv[0]);
        printf("%s\n", cmd[0] == 'n' ? pu_normalize(s) : s);
        free(s);
    } else if (strcmp(cmd, "join") == 0 && args == 2) {
        if ((s = pu_join(argv[0], argv[1])) == NULL)
            return fail("join");
        printf("%s\n", s);
        free(s);
    } else if (strcmp(cmd, "canon") == 0 && args == 1) {
        if (pu_canonical(argv[0], buf) != 0)
            return fail(argv[0]);
        printf("%s\n", buf);
    } else if (strcmp(cmd, "ext") == 0 && args == 2) {
        return !pu_has_ext(argv[0], argv[1]);
    } else if (strcmp(cmd, "match") == 0 && args == 2) {
        return !pu_match(argv[0], argv[1], nocase);
    } else if (strcmp(cmd, "valid") == 0 && args == 1) {
        return !pu_valid_component(argv[0]);
    } else if (strcmp(cmd, "quote") == 0 && args == 1) {
        if (pu_quote(buf, sizeof(buf), argv[0]) != 0)
            return fail("quote");
        printf("%s\n", buf);
    } else if (strcmp(cmd, "ls") == 0 && args == 1) {
        if (pu_list(argv[0], print_entry, NULL) != 0)
            return fail(argv[0]);
    } else if (strcmp(cmd, "mode") == 0 && args == 1) {
        if (pu_mode_string(argv[0], buf, sizeof(buf)) != 0)
            return fail(argv[0]);
        printf("%s\n", buf);
    } else if (strcmp(cmd, "free") == 0 && args == 1) {
        if (pu_fs_free(argv[0], &bytes) != 0)
            return fail(argv[0]);
        printf("%llu\n", bytes);
    } else if (strcmp(cmd, "which") == 0 && args == 1) {
        if (pu_which(argv[0], buf, sizeof(buf)) != 0)
            return 1;
        printf("%s\n", buf);
    } else {
        usage();
    }
    return 0;
}
