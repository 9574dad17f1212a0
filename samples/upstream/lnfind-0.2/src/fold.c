/* fold.c - matching without regard to case */
#include "compat.h"
#include "lnfind.h"

int lf_contains_fold(const char *line, const char *word)
{
    if (strcasestr(line, word))
        return 1;
    return 0;
}
