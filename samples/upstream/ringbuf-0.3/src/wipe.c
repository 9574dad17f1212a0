/* wipe.c - clear a line before its memory is reused (ringbuf -w) */
#include <string.h>
#include "ringbuf.h"

void rb_wipe(char *s)
{
    explicit_bzero(s, strlen(s));
}
