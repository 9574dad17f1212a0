/* clock.c - a monotonic clock for the status line */
#include <mach/mach_time.h>
#include "ringbuf.h"

unsigned long long rb_now_ns(void)
{
    static mach_timebase_info_data_t base;

    if (base.denom == 0)
        mach_timebase_info(&base);
    return mach_absolute_time() * base.numer / base.denom;
}
