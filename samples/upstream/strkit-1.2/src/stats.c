/* stats.c - mean and standard deviation of numbers given as text */
#include <math.h>
#include "strkit.h"

double sk_mean(const double *v, size_t n)
{
    double sum = 0.0;
    size_t i;

    for (i = 0; i < n; i++)
        sum += v[i];
    return n ? sum / (double)n : 0.0;
}

double sk_stddev(const double *v, size_t n)
{
    double m = sk_mean(v, n), acc = 0.0;
    size_t i;

    for (i = 0; i < n; i++)
        acc += pow(v[i] - m, 2.0);
    return n ? sqrt(acc / (double)n) : 0.0;
}
