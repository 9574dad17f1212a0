/* line.c - read a stream into the ring, one line at a time */
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "ringbuf.h"

/* Returns the number of lines read, or -1 when out of memory. */
long rb_read_lines(struct rb_ring *r, FILE *fp)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long n = 0;

    while (n >= 0 && (len = getline(&line, &cap, fp)) != -1) {
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        n = rb_push(r, line) == 0 ? n + 1 : -1;
    }
    free(line);
    return n;
}
