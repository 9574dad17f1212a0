/* vis.c - a path made safe to print: unprintable bytes as octal escapes */
#include <string.h>
#include "pathutil.h"
#include <vis.h>

/* Returns 0, or -1 when dst is too small (4 bytes per byte of src, + 1). */
int pu_quote(char *dst, size_t size, const char *src)
{
    if (size < 4 * strlen(src) + 1)
        return -1;
    strvis(dst, src, VIS_OCTAL | VIS_TAB | VIS_NL);
    return 0;
}
