/* flush.c - write the ring out with as few system calls as possible */
#include <limits.h>
#include <string.h>
#include <sys/uio.h>
#include "ringbuf.h"

#define RB_BATCH (IOV_MAX / 2)

int rb_write_all(const struct rb_ring *r, int fd)
{
    struct iovec iov[2 * RB_BATCH];
    size_t i = 0;

    while (i < r->count) {
        int n = 0;

        for (; i < r->count && n < 2 * RB_BATCH; i++) {
            const char *line = rb_get(r, i);

            iov[n].iov_base = (void *)line;
            iov[n++].iov_len = strlen(line);
            iov[n].iov_base = (void *)"\n";
            iov[n++].iov_len = 1;
        }
        if (writev(fd, iov, n) < 0)
            return -1;
    }
    return 0;
}
