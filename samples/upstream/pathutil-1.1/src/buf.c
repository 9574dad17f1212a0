/* buf.c - concatenate two strings into new memory */
#include <stdlib.h>
#include <string.h>
#include "pathutil.h"

/* Returns NULL when out of memory or when the sum does not fit in a size_t. */
char *pu_concat(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *out = la > SIZE_T_MAX - lb - 1 ? NULL : malloc(la + lb + 1);

    if (out != NULL) {
        memcpy(out, a, la);
        memcpy(out + la, b, lb + 1);
    }
    return out;
}
