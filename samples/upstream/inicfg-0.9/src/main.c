/* main.c - inidump: print the entries of an INI file */
#include <stdio.h>
#include <stdlib.h>
#include "inicfg.h"
#include "platform.h"

int main(int argc, char **argv)
{
    static char text[INI_MAX_FILE];
    struct ini_file ini;
    const struct ini_entry *e;
    size_t n;
    FILE *f;
    int bad;

    if (argc != 2) {
        fprintf(stderr, "usage: inidump FILE\n");
        return 2;
    }
    f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    bad = ini_parse(&ini, text);
    if (bad) {
        fprintf(stderr, "%s:%d: syntax error\n", argv[1], bad);
        return 1;
    }
    for (e = ini.first; e; e = e->next)
        printf("%s = %s  # %08lx\n", e->data, e->data + e->keylen + 1, e->hash);
    ini_free(&ini);
    return 0;
}
