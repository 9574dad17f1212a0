/* version.c - library version */
#include "config.h"
#include "strkit.h"

const char *sk_version(void)
{
    return SK_VERSION;
}
