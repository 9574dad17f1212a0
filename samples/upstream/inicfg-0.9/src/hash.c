/* hash.c - 32-bit FNV-1a, the hash stored in inicfg cache files */
#include "inicfg.h"

unsigned long ini_hash(const char *s)
{
    unsigned long h = 2166136261UL;

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619UL;
    }
    return h;
}
