/* ringbuf.h - a fixed-capacity ring of text lines */
#ifndef RINGBUF_H
#define RINGBUF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RB_LINE_MAX 4096

struct rb_ring {
    char **slot;        /* cap line pointers, NULL when empty */
    size_t cap;
    size_t head;        /* the slot the next line goes to */
    size_t count;       /* lines held */
    unsigned long seen; /* lines pushed since rb_init */
};

/* ring.c */
int rb_init(struct rb_ring *r, size_t cap);
int rb_push(struct rb_ring *r, const char *line);
const char *rb_get(const struct rb_ring *r, size_t i); /* 0 = oldest */
void rb_free(struct rb_ring *r);

/* alloc.c */
char *rb_copy_line(const char *line, size_t *usable);

/* serial.c: big-endian fields of the snapshot format */
void rb_put32(unsigned char *p, uint32_t v);
uint32_t rb_get32(const unsigned char *p);

/* clock.c */
unsigned long long rb_now_ns(void);

/* human.c */
int rb_human_size(char *buf, size_t len, unsigned long long bytes);

/* line.c */
long rb_read_lines(struct rb_ring *r, FILE *fp);

/* sample.c */
size_t rb_sample_slot(unsigned long seen, size_t cap);

/* join.c */
size_t rb_join(const struct rb_ring *r, char *out, size_t size, const char *sep);

/* wipe.c */
void rb_wipe(char *s);

/* map.c */
void *rb_map_pages(size_t bytes);
void rb_unmap_pages(void *p, size_t bytes);

/* sig.c */
int rb_on_status(void (*handler)(int));

/* open.c */
FILE *rb_open_input(const char *path);

/* flush.c */
int rb_write_all(const struct rb_ring *r, int fd);

/* stats.c */
int rb_stats(const struct rb_ring *r, double *mean, double *stddev);

/* lag.c */
long rb_lag(long written, long read);

#endif
