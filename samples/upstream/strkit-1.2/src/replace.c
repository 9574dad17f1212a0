/* replace.c - replace one character by another */
#include "strkit.h"

size_t sk_replace_char(char *s, int from, int to)
{
    size_t n = 0;

    for (; *s; s++)
        if (*s == (char)from) {
            *s = (char)to;
            n++;
        }
    return n;
}
