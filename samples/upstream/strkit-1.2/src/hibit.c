/* hibit.c - count bytes outside 7-bit ASCII (UTF-8 sequences, Latin-1 letters) */
#include "strkit.h"

size_t sk_count_high(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (*s >= 0x80)
            n++;
    return n;
}
