/* ends.c - suffix test */
#include <string.h>
#include "strkit.h"

int sk_ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);

    return lx <= ls && memcmp(s + ls - lx, suffix, lx) == 0;
}
