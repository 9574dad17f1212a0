/* ring.c - the ring itself */
#include <stdlib.h>
#include "ringbuf.h"

int rb_init(struct rb_ring *r, size_t cap)
{
    r->slot = calloc(cap ? cap : 1, sizeof(char *));
    r->cap = cap ? cap : 1;
    r->head = 0;
    r->count = 0;
    r->seen = 0;
    return r->slot == NULL ? -1 : 0;
}

int rb_push(struct rb_ring *r, const char *line)
{
    size_t usable;
    char *copy = rb_copy_line(line, &usable);

    if (copy == NULL)
        return -1;
    free(r->slot[r->head]);
    r->slot[r->head] = copy;
    r->head = (r->head + 1) % r->cap;
    if (r->count < r->cap)
        r->count++;
    r->seen++;
    return 0;
}

const char *rb_get(const struct rb_ring *r, size_t i)
{
    if (i >= r->count)
        return NULL;
    return r->slot[(r->head + r->cap - r->count + i) % r->cap];
}

void rb_free(struct rb_ring *r)
{
    size_t i;

    for (i = 0; i < r->cap; i++)
        free(r->slot[i]);
    free(r->slot);
    r->slot = NULL;
    r->count = 0;
}
