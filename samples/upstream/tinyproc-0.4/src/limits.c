/* limits.c - system limits */
#include <sys/syslimits.h>
#include "tinyproc.h"

long tp_arg_max(void)
{
    return ARG_MAX;
}
