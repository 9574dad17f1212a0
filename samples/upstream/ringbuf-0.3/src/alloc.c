/* alloc.c - line copies, sized to what the allocator really gave */
#include <stdlib.h>
#include <string.h>
#include "ringbuf.h"
#include <malloc/malloc.h>

char *rb_copy_line(const char *line, size_t *usable)
{
    char *copy = malloc(strlen(line) + 1);

    *usable = copy ? malloc_size(copy) : 0;
    return copy ? strcpy(copy, line) : NULL;
}
