/* human.c - sizes for people: 512B, 1.5K, 20M */
#include <libutil.h>
#include "ringbuf.h"

int rb_human_size(char *buf, size_t len, unsigned long long bytes)
{
    return humanize_number(buf, len, (int64_t)bytes, "B", HN_AUTOSCALE, HN_DECIMAL | HN_NOSPACE);
}
