/* trim.c - strip leading and trailing white space in place */
#include <ctype.h>
#include <string.h>
#include "strkit.h"

char *sk_trim(char *s)
{
    char *start = s, *end;

    while (*start && isspace((unsigned char)*start))
        start++;
    end = start + strlen(start);
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    *end = '\0';
    if (start != s)
        memmove(s, start, (size_t)(end - start) + 1);
    return s;
}
