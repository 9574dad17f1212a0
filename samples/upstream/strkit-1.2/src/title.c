/* title.c - capitalise the first letter of every word */
#include <ctype.h>
#include "strkit.h"

char *sk_title(char *s)
{
    char *p;
    int start = 1;

    for (p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;

        *p = (char)(start ? toupper(c) : tolower(c));
        start = isspace(c);
    }
    return s;
}
