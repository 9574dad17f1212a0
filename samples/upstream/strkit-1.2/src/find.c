/* find.c - substring and character search */
#include <string.h>
#include <strings.h>
#include "strkit.h"

static int index(const char *s, int c)
{
    int i;

    for (i = 0; s[i]; i++)
        if (s[i] == (char)c)
            return i;
    return -1;
}

long sk_find_char(const char *s, int c)
{
    return index(s, c);
}

long sk_find_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    long i;

    for (i = 0; haystack[i]; i++)
        if (strncasecmp(haystack + i, needle, n) == 0)
            return i;
    return n == 0 ? 0 : -1;
}
