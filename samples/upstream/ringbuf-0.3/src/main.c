/* main.c - the ringbuf command */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "ringbuf.h"

static volatile sig_atomic_t status_wanted;

static void on_status(int sig)
{
    (void)sig;
    status_wanted = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: ringbuf [-n LINES] [-s] [-r] [-j SEP] [-V] [FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct rb_ring ring;
    FILE *fp = stdin;
    const char *sep = NULL;
    long cap = 10;
    int c, stats = 0, sample = 0;

    while ((c = getopt(argc, argv, "n:srj:V")) != -1) {
        switch (c) {
        case 'n': cap = atol(optarg); break;
        case 's': stats = 1; break;
        case 'r': sample = 1; break;
        case 'j': sep = optarg; break;
        case 'V': printf("ringbuf %s\n", RB_VERSION); return 0;
        default: usage();
        }
    }
    if (cap <= 0 || argc - optind > 1)
        usage();
    if (optind < argc && (fp = rb_open_input(argv[optind])) == NULL) {
        perror(argv[optind]);
        return 1;
    }
    if (rb_init(&ring, (size_t)cap) != 0 || rb_on_status(on_status) < 0) {
        perror("ringbuf");
        return 1;
    }
    if (sample) {
        char line[RB_LINE_MAX];
        unsigned long seen = 0;

        while (fgets(line, sizeof(line), fp) != NULL) {
            size_t usable, slot = rb_sample_slot(++seen, ring.cap);

            line[strcspn(line, "\n")] = '\0';
            if (slot < ring.cap) {
                free(ring.slot[slot]);
                ring.slot[slot] = rb_copy_line(line, &usable);
                ring.count = seen < ring.cap ? seen : ring.cap;
            }
        }
        ring.head = ring.count % ring.cap; /* rb_get(0) is slot 0 */
        ring.seen = seen;
    } else if (rb_read_lines(&ring, fp) < 0) {
        perror("ringbuf");
        return 1;
    }
    if (status_wanted)
        fprintf(stderr, "ringbuf: %lu lines read\n", ring.seen);
    if (stats) {
        double mean, stddev;
        int n = rb_stats(&ring, &mean, &stddev);

        printf("n=%d mean=%g stddev=%g\n", n, mean, stddev);
    } else if (sep != NULL) {
        char out[RB_LINE_MAX];

        rb_join(&ring, out, sizeof(out), sep);
        printf("%s\n", out);
    } else if (rb_write_all(&ring, STDOUT_FILENO) != 0) {
        perror("ringbuf");
        return 1;
    }
    rb_free(&ring);
    return 0;
}
