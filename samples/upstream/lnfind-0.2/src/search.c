/* search.c - exact matching */
#include "compat.h"
#include "lnfind.h"

int lf_contains(const char *line, size_t len, const char *word)
{
    if (memmem(line, len, word, strlen(word)))
        return 1;
    return 0;
}
