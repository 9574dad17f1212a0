/* self.c - the path of the running program */
#include <stdint.h>
#include "pathutil.h"
#include <mach-o/dyld.h>

int pu_self_path(const char *argv0, char *out, size_t size)
{
    uint32_t len = (uint32_t)size;

    (void)argv0;
    return _NSGetExecutablePath(out, &len) == 0 ? 0 : -1;
}
