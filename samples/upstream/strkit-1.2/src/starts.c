/* starts.c - prefix test */
#include <string.h>
#include "strkit.h"

int sk_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}
