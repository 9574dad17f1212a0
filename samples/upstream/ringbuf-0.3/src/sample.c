/* sample.c - reservoir sampling: keep a fair random sample of a stream */
#include <stdlib.h>
#include "ringbuf.h"

/* For the seen-th line (1-based): the slot it replaces, or cap to drop it. */
size_t rb_sample_slot(unsigned long seen, size_t cap)
{
    uint32_t pick = seen <= cap ? (uint32_t)(seen - 1) : arc4random_uniform((uint32_t)seen);

    return pick < cap ? (size_t)pick : cap;
}
