/* norm.c - remove ".", "..", and doubled slashes, in place */
#include <string.h>
#include "pathutil.h"

/* Appends the component p[0..len) to out, with a slash when out is not at its start. */
static char *put(char *out, const char *start, const char *p, size_t len)
{
    if (out > start)
        *out++ = '/';
    memmove(out, p, len);
    return out + len;
}

char *pu_normalize(char *path)
{
    int absolute = *path == '/';
    char *start = path + absolute, *out = start, *p = start;

    while (*p) {
        size_t len = strcspn(p, "/");

        if (len == 2 && p[0] == '.' && p[1] == '.') {
            char *last = out;

            while (last > start && last[-1] != '/')
                last--;
            if (out > start && !(out - last == 2 && last[0] == '.' && last[1] == '.'))
                out = last > start ? last - 1 : last; /* drop the last component */
            else if (!absolute)
                out = put(out, start, p, len);
        } else if (len > 0 && !(len == 1 && p[0] == '.')) {
            out = put(out, start, p, len);
        }
        p += len;
        while (*p == '/')
            p++;
    }
    if (out == path)
        *out++ = '.';
    *out = '\0';
    return path;
}
