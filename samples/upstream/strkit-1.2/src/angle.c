/* angle.c - degrees to radians */
#include <math.h>
#include "strkit.h"

double sk_deg2rad(double degrees)
{
    return degrees * M_PI / 180.0;
}
