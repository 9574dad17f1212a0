/* comp.c - is NAME usable as one component of a path? */
#include <limits.h>
#include <string.h>
#include "pathutil.h"

int pu_valid_component(const char *name)
{
    size_t len = strnlen(name, NAME_MAX + 1);

    if (len == 0 || len > NAME_MAX || strchr(name, '/') != NULL)
        return 0;
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}
