/* squeeze.c - collapse runs of a character */
#include "strkit.h"

char *sk_squeeze(char *s, int c)
{
    char *r = s, *w = s;

    for (; *r; r++)
        if (!(*r == (char)c && w > s && w[-1] == (char)c))
            *w++ = *r;
    *w = '\0';
    return s;
}
