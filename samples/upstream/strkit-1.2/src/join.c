/* join.c - join strings with a separator */
#include <string.h>
#include "strkit.h"

size_t sk_join(char *dst, size_t size, const char *const *parts, size_t n, const char *sep)
{
    size_t i, out = 0, seplen = strlen(sep);

    if (size == 0)
        return 0;
    for (i = 0; i < n; i++) {
        size_t len = strlen(parts[i]);

        if (i > 0) {
            if (out + seplen >= size)
                break;
            memcpy(dst + out, sep, seplen);
            out += seplen;
        }
        if (out + len >= size)
            len = size - out - 1;
        memcpy(dst + out, parts[i], len);
        out += len;
    }
    dst[out] = '\0';
    return out;
}
