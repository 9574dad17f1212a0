/* bytes.c - parse a byte count with an optional unit: "512", "4k", "2M" */
#include <ctype.h>
#include "strkit.h"

static int parse_digits(const char **p, size_t *out)
{
    size_t n = 0;

    if (!isdigit((unsigned char)**p))
        return -1;
    while (isdigit((unsigned char)**p))
        n = n * 10 + (size_t)(*(*p)++ - '0');
    *out = n;
    return 0;
}

long sk_parse_size(const char *s)
{
    unsigned int n;

    if (parse_digits(&s, &n) != 0)
        return -1;
    switch (*s) {
    case '\0':
        return (long)n;
    case 'k':
    case 'K':
        return (long)n * 1024L;
    case 'm':
    case 'M':
        return (long)n * 1024L * 1024L;
    default:
        return -1;
    }
}
