/* cpus.c - number of online processors */
#include <sys/types.h>
#include <sys/sysctl.h>
#include "config.h"
#include "strkit.h"

long sk_cpu_count(void)
{
    int mib[2] = { CTL_HW, HW_NCPU };
    int ncpu = 1;
    size_t len = sizeof(ncpu);

    if (sysctl(mib, 2, &ncpu, &len, NULL, 0) != 0)
        return 1;
    return ncpu;
}
