/* err.c - the text of an errno value, thread-safe */
#include <string.h>
#include "pathutil.h"

const char *pu_strerror(int err, char *buf, size_t size)
{
    return strerror_r(err, buf, size);
}
