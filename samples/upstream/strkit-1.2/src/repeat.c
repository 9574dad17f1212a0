/* repeat.c - repeat a string */
#include <string.h>
#include "strkit.h"

size_t sk_repeat(char *dst, size_t size, const char *s, size_t times)
{
    size_t len = strlen(s), out = 0;

    if (size == 0)
        return 0;
    while (times-- > 0 && out + len < size) {
        memcpy(dst + out, s, len);
        out += len;
    }
    dst[out] = '\0';
    return out;
}
