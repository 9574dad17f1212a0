/* split.c - split in place on a separator */
#include "strkit.h"

size_t sk_split(char *s, int sep, char **fields, size_t max)
{
    size_t n = 0;

    if (max == 0)
        return 0;
    fields[n++] = s;
    for (; *s; s++)
        if (*s == (char)sep) {
            *s = '\0';
            if (n == max)
                break;
            fields[n++] = s + 1;
        }
    return n;
}
