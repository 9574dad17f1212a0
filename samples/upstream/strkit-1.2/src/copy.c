/* copy.c - bounded string copy */
#include <string.h>
#include "strkit.h"

size_t sk_copy(char *dst, const char *src, size_t size)
{
    return strlcpy(dst, src, size);
}
