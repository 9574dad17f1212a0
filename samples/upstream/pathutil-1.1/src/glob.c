/* glob.c - shell pattern matching of paths */
#include <fnmatch.h>
#include "pathutil.h"

int pu_match(const char *pattern, const char *path, int nocase)
{
    int flags = FNM_PATHNAME | FNM_PERIOD;

    if (nocase)
        flags |= FNM_CASEFOLD;
    return fnmatch(pattern, path, flags) == 0;
}
