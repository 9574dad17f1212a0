/* count.c - count a character */
#include "strkit.h"

size_t sk_count_char(const char *s, int c)
{
    size_t n = 0;

    for (; *s; s++)
        if (*s == (char)c)
            n++;
    return n;
}
