/* isnum.c - decimal number test */
#include <ctype.h>
#include "strkit.h"

int sk_is_number(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}
