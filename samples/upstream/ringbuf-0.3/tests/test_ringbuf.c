/* test_ringbuf.c - unit tests run by `make check` */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ringbuf.h"

static int failures, total;
static volatile sig_atomic_t got_status;

static void check_long(const char *name, long expected, long got)
{
    total++;
    if (expected == got) {
        printf("PASS: %s\n", name);
    } else {
        failures++;
        printf("FAIL: %s: expected %ld, got %ld\n", name, expected, got);
    }
}

static void check_str(const char *name, const char *expected, const char *got)
{
    total++;
    if (got != NULL && strcmp(expected, got) == 0) {
        printf("PASS: %s\n", name);
    } else {
        failures++;
        printf("FAIL: %s: expected \"%s\", got \"%s\"\n", name, expected, got ? got : "(null)");
    }
}

static void on_status(int sig)
{
    (void)sig;
    got_status = 1;
}

int main(void)
{
    struct rb_ring ring;
    unsigned char field[4];
    char buf[64], secret[] = "hunter2";
    size_t usable, i, dropped = 0, kept = 0;
    unsigned long long t0, t1;
    double mean, stddev;
    char *copy, *page;
    int pipefd[2], sig;
    FILE *fp;

    rb_init(&ring, 3);
    for (i = 1; i <= 5; i++) {
        sprintf(buf, "%d", (int)i * 2);
        rb_push(&ring, buf);
    }
    check_long("ring keeps the last 3", 3, (long)ring.count);
    check_str("oldest kept line", "6", rb_get(&ring, 0));
    check_str("newest line", "10", rb_get(&ring, 2));
    check_long("lines seen", 5, (long)ring.seen);

    rb_join(&ring, buf, sizeof(buf), ",");
    check_str("rb_join", "6,8,10", buf);
    check_long("rb_join returns the joined length", 6, (long)rb_join(&ring, buf, sizeof(buf), "+"));
    rb_join(&ring, buf, 4, ",");
    check_str("rb_join truncates", "6,8", buf);

    check_long("rb_stats count", 3, rb_stats(&ring, &mean, &stddev));
    check_long("rb_stats mean", 8, (long)(mean + 0.5));
    check_long("rb_stats stddev x1000", 1633, (long)(stddev * 1000 + 0.5));

    copy = rb_copy_line("hello", &usable);
    check_str("rb_copy_line", "hello", copy);
    check_long("rb_copy_line usable size", 1, usable >= 6);

    rb_put32(field, 0x01020304UL);
    check_long("rb_put32 is big-endian", 1, field[0] == 1 && field[3] == 4);
    check_long("rb_get32", 0x01020304L, (long)rb_get32(field));

    t0 = rb_now_ns();
    t1 = rb_now_ns();
    check_long("rb_now_ns is monotonic", 1, t0 > 0 && t1 >= t0);

    rb_human_size(buf, sizeof(buf), 512);
    check_str("rb_human_size bytes", "512B", buf);
    rb_human_size(buf, sizeof(buf), 1536);
    check_str("rb_human_size kilo", "1.5K", buf);
    rb_human_size(buf, sizeof(buf), 20ULL * 1024 * 1024);
    check_str("rb_human_size mega", "20M", buf);

    for (i = 1; i <= 1000; i++) {
        size_t slot = rb_sample_slot((unsigned long)i, 4);

        if (i <= 4 && slot != i - 1)
            break;
        if (slot == 4)
            dropped++;
        else if (slot < 4)
            kept++;
    }
    check_long("rb_sample_slot fills the ring first", 1001, (long)i);
    check_long("rb_sample_slot drops most of a long stream", 1, dropped > 900 && kept > 4);

    rb_wipe(secret);
    check_long("rb_wipe", 0, (long)(secret[0] | secret[3] | secret[6]));

    page = rb_map_pages(8192);
    check_long("rb_map_pages", 1, page != NULL);
    if (page != NULL) {
        check_long("mapped pages are zero", 0, page[0] | page[8191]);
        page[8191] = 'x';
        rb_unmap_pages(page, 8192);
    }

    sig = rb_on_status(on_status);
    check_long("rb_on_status", 1, sig > 0);
    if (sig > 0)
        raise(sig);
    check_long("status handler ran", 1, (long)got_status);

    fp = rb_open_input("tests/lines.txt");
    check_long("rb_open_input", 1, fp != NULL);
    if (fp != NULL) {
        check_long("input is close-on-exec", FD_CLOEXEC, (long)(fcntl(fileno(fp), F_GETFD) & FD_CLOEXEC));
        rb_free(&ring);
        rb_init(&ring, 2);
        check_long("rb_read_lines", 4, rb_read_lines(&ring, fp));
        check_str("rb_read_lines strips newlines", "gamma", rb_get(&ring, 0));
        check_str("rb_read_lines keeps the last lines", "delta", rb_get(&ring, 1));
        fclose(fp);
    }

    if (pipe(pipefd) == 0) {
        ssize_t n;

        check_long("rb_write_all", 0, rb_write_all(&ring, pipefd[1]));
        close(pipefd[1]);
        n = read(pipefd[0], buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        check_str("rb_write_all writes lines", "gamma\ndelta\n", buf);
        close(pipefd[0]);
    }

    check_long("rb_lag", 4999999000L, rb_lag(5000000000L, 1000L));
    check_long("rb_lag of a reader ahead", 5, rb_lag(10L, 15L));

    rb_free(&ring);
    printf("%d of %d tests failed\n", failures, total);
    return failures != 0;
}
