/* canon.c - the absolute path with every symbolic link resolved */
#include <stdlib.h>
#include "config.h"
#include "pathutil.h"

int pu_canonical(const char *path, char *out)
{
    return realpath(path, out) ? 0 : -1;
}
