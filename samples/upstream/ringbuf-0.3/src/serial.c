/* serial.c - the big-endian 32-bit fields of ringbuf snapshots */
#include <sys/endian.h>
#include "ringbuf.h"

void rb_put32(unsigned char *p, uint32_t v)
{
    be32enc(p, v);
}

uint32_t rb_get32(const unsigned char *p)
{
    return be32dec(p);
}
