/* compat.h - what lnfind needs from the C library */
#ifndef LNFIND_COMPAT_H
#define LNFIND_COMPAT_H

#include <stddef.h>
#include <string.h>

#endif
