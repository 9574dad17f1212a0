/* open.c - open an input file that child processes do not inherit */
#include <fcntl.h>
#include <unistd.h>
#include "ringbuf.h"

FILE *rb_open_input(const char *path)
{
    FILE *fp;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return NULL;
    fp = fdopen(fd, "r");
    if (fp == NULL)
        close(fd);
    return fp;
}
