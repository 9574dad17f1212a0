/* mode.c - the permission bits of a file, in octal ("755") */
#include <stdio.h>
#include <sys/stat.h>
#include "pathutil.h"

int pu_mode_string(const char *path, char *out, size_t size)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return -1;
    snprintf(out, size, "%o", (unsigned)(st.st_mode & ACCESSPERMS));
    return 0;
}
