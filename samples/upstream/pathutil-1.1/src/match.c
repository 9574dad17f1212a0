/* match.c - does a path have an extension? (case-insensitive, as on macOS) */
#include <string.h>
#include "pathutil.h"
#include <xlocale.h>

int pu_has_ext(const char *path, const char *ext)
{
    const char *dot = strrchr(path, '.');

    return dot != NULL && strchr(dot, '/') == NULL && strcasecmp_l(dot + 1, ext, LC_C_LOCALE) == 0;
}
