/* which.c - find a program in $PATH */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pathutil.h"

int pu_which(const char *name, char *out, size_t size)
{
    const char *dirs = getenv("PATH");

    if (strchr(name, '/') != NULL || dirs == NULL)
        return -1;
    while (*dirs) {
        size_t len = strcspn(dirs, ":");
        int n = snprintf(out, size, "%.*s%s%s", (int)len, dirs, len ? "/" : "./", name);

        if (n > 0 && (size_t)n < size && access(out, X_OK) == 0)
            return 0;
        dirs += len;
        if (*dirs == ':')
            dirs++;
    }
    return -1;
}
