/* map.c - page-backed storage for large rings */
#include <stdlib.h>
#include <sys/mman.h>
#include "config.h"
#include "ringbuf.h"

void *rb_map_pages(size_t bytes)
{
#if HAVE_MMAP
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    return p == MAP_FAILED ? NULL : p;
#else
    return calloc(1, bytes);
#endif
}

void rb_unmap_pages(void *p, size_t bytes)
{
#if HAVE_MMAP
    munmap(p, bytes);
#else
    (void)bytes;
    free(p);
#endif
}
