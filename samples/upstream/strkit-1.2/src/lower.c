/* lower.c - lower-case in place */
#include <ctype.h>
#include "strkit.h"

char *sk_lower(char *s)
{
    char *p;

    for (p = s; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return s;
}
