/* upper.c - upper-case in place */
#include <ctype.h>
#include "strkit.h"

char *sk_upper(char *s)
{
    char *p;

    for (p = s; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    return s;
}
