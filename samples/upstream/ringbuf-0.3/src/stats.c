/* stats.c - mean and standard deviation of the numbers in a ring */
#include <math.h>
#include <stdlib.h>
#include "ringbuf.h"

/* Lines that are not numbers are skipped; returns how many were numbers. */
int rb_stats(const struct rb_ring *r, double *mean, double *stddev)
{
    double sum = 0.0, squares = 0.0;
    int n = 0;
    size_t i;

    for (i = 0; i < r->count; i++) {
        char *end;
        double v = strtod(rb_get(r, i), &end);

        if (end == rb_get(r, i) || *end != '\0')
            continue;
        sum += v;
        squares += v * v;
        n++;
    }
    *mean = n ? sum / n : 0.0;
    *stddev = n ? sqrt(squares / n - *mean * *mean) : 0.0;
    return n;
}
