/* lag.c - how far a reader is behind the writer, in bytes */
#include <stdlib.h>
#include "ringbuf.h"

long rb_lag(long written, long read)
{
    return abs(written - read);
}
