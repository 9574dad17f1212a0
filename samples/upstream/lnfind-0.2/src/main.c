/* main.c - the lnfind command */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "lnfind.h"

#define MAX_WORDS 16

static void usage(void)
{
    fprintf(stderr, "usage: lnfind [-i] WORD[,WORD]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    char *words[MAX_WORDS];
    char line[4096];
    char *list, *word;
    int fold = 0, count = 0, i = 1, w;

    if (i < argc && strcmp(argv[i], "-i") == 0) {
        fold = 1;
        i++;
    }
    if (i + 1 != argc)
        usage();
    list = argv[i];
    while ((word = strsep(&list, ",")) != NULL) {
        if (*word != '\0' && count < MAX_WORDS)
            words[count++] = word;
    }
    if (count == 0)
        usage();
    while (fgets(line, sizeof line, stdin) != NULL) {
        for (w = 0; w < count; w++) {
            if (fold ? lf_contains_fold(line, words[w]) : lf_contains(line, strlen(line), words[w])) {
                fputs(line, stdout);
                break;
            }
        }
    }
    return 0;
}
