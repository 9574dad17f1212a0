/* join.c - the lines of a ring as one string */
#include <string.h>
#include "ringbuf.h"

/* Returns the length the joined string needs; out holds what fits. */
size_t rb_join(const struct rb_ring *r, char *out, size_t size, const char *sep)
{
    size_t i, need = 0;

    if (size > 0)
        out[0] = '\0';
    for (i = 0; i < r->count; i++) {
        if (i > 0)
            need = strlcat(out, sep, size);
        need = strlcat(out, rb_get(r, i), size);
    }
    return need;
}
