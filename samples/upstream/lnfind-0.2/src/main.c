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
    char *line = NULL, *word;
    size_t cap = 0;
    int fold = 0, count = 0, i = 1, w;

    if (i < argc && strcmp(argv[i], "-i") == 0) {
        fold = 1;
        i++;
    }
    if (i + 1 != argc)
        usage();
    for (word = strtok(argv[i], ","); word != NULL && count < MAX_WORDS; word = strtok(NULL, ","))
        words[count++] = word;
    if (count == 0)
        usage();
    while (getline(&line, &cap, stdin) != -1) {
        for (w = 0; w < count; w++) {
            if (fold ? lf_contains_fold(line, words[w]) : lf_contains(line, strlen(line), words[w])) {
                fputs(line, stdout);
                break;
            }
        }
    }
    free(line);
    return 0;
}
