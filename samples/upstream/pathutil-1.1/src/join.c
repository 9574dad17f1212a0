/* join.c - DIR + NAME with exactly one slash between them */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pathutil.h"

char *pu_join(const char *dir, const char *name)
{
    const char *sep = (*dir && dir[strlen(dir) - 1] != '/') ? "/" : "";
    char *out;

    while (*name == '/')
        name++;
    if (asprintf(&out, "%s%s%s", dir, sep, name) < 0)
        return NULL;
    return out;
}
