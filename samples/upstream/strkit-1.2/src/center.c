/* center.c - center a string in a field */
#include <string.h>
#include "strkit.h"

int sk_center(char *dst, size_t size, const char *s, size_t width)
{
    size_t len = strlen(s), left, i, out = 0;

    if (width < len)
        width = len;
    if (width + 1 > size)
        return -1;
    left = (width - len) / 2;
    for (i = 0; i < left; i++)
        dst[out++] = ' ';
    memcpy(dst + out, s, len);
    out += len;
    while (out < width)
        dst[out++] = ' ';
    dst[out] = '\0';
    return (int)out;
}
