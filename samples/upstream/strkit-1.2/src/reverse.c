/* reverse.c - reverse in place */
#include <string.h>
#include "strkit.h"

char *sk_reverse(char *s)
{
    size_t i, j = strlen(s);

    for (i = 0; j > 0 && i < j - 1; i++, j--) {
        char t = s[i];

        s[i] = s[j - 1];
        s[j - 1] = t;
    }
    return s;
}
