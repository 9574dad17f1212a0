/* pad.c - left padding */
#include <string.h>
#include "strkit.h"

int sk_pad_left(char *dst, size_t size, const char *s, size_t width, char fill)
{
    size_t len = strlen(s), pad;

    if (width < len)
        width = len;
    if (width + 1 > size)
        return -1;
    pad = width - len;
    memset(dst, fill, pad);
    memcpy(dst + pad, s, len + 1);
    return (int)width;
}
