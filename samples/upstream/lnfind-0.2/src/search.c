/* search.c - exact matching */
#include "compat.h"
#include "lnfind.h"

int lf_contains(const char *line, size_t len, const char *word)
{
    return memmem(line, len, word, strlen(word)) != NULL;
}
