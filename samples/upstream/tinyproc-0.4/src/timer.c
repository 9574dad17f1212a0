/* timer.c - CPU time helpers */
#include "tinyproc.h"

double tp_seconds(long ms)
{
    return (double)ms / 1000.0;
}
