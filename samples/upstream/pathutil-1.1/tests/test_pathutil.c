/* test_pathutil.c - unit tests run by `make check` */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config.h"
#include "pathutil.h"

static int failures, total;

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

/* Frees s after comparing it. */
static void check_owned(const char *name, const char *expected, char *s)
{
    check_str(name, expected, s);
    free(s);
}

static void check_norm(const char *in, const char *expected)
{
    char buf[64];

    strcpy(buf, in);
    check_str(in, expected, pu_normalize(buf));
}

struct seen { int src_is_dir, file_is_dir, entries; };

static void note_entry(const char *name, int is_dir, void *arg)
{
    struct seen *seen = arg;

    seen->entries++;
    if (strcmp(name, "src") == 0)
        seen->src_is_dir = is_dir;
    if (strcmp(name, "configure") == 0)
        seen->file_is_dir = is_dir;
}

int main(int argc, char **argv)
{
    char buf[PU_PATH_MAX], here[PU_PATH_MAX];
    struct seen seen = { 0, 1, 0 };
    unsigned long long bytes = 0;
    char *s;
    int fd;

    (void)argc;
    check_owned("pu_concat", "src/main.c", pu_concat("src/", "main.c"));
    check_owned("pu_join", "a/b", pu_join("a", "b"));
    check_owned("pu_join keeps one slash", "/tmp/x", pu_join("/tmp/", "/x"));

    check_norm("a//b/./c/", "a/b/c");
    check_norm("/a/b/../c", "/a/c");
    check_norm("a/..", ".");
    check_norm("/..", "/");
    check_norm("a/../../b", "../b");

    check_long("pu_valid_component", 1, pu_valid_component("README"));
    check_long("pu_valid_component rejects ..", 0, pu_valid_component(".."));
    check_long("pu_valid_component rejects a/b", 0, pu_valid_component("a/b"));
    memset(buf, 'x', NAME_MAX + 1);
    buf[NAME_MAX + 1] = '\0';
    check_long("pu_valid_component rejects long names", 0, pu_valid_component(buf));

    setenv("HOME", "/home/tester", 1);
    check_owned("pu_expand_tilde", "/home/tester/notes", pu_expand_tilde("~/notes"));
    check_owned("pu_expand_tilde leaves other paths", "a/~b", pu_expand_tilde("a/~b"));
    s = pu_expand_tilde("~root/x");
    check_long("pu_expand_tilde of ~user", 1, s != NULL && s[0] == '/' && strcmp(s + strlen(s) - 2, "/x") == 0);
    free(s);

    check_long("pu_canonical", 0, pu_canonical(".", here));
    check_long("pu_canonical is absolute", '/', here[0]);
    check_long("pu_canonical of a missing file", -1, pu_canonical("no/such/file", buf));
    pu_canonical("src/../src", buf);
    check_str("pu_canonical resolves ..", strcat(here, "/src"), buf);

    check_long("pu_which sh", 0, pu_which("sh", buf, sizeof(buf)));
    check_long("pu_which gives a path", 1, strstr(buf, "/sh") != NULL);
    check_long("pu_self_path", 0, pu_self_path(argv[0], buf, sizeof(buf)));
    check_long("pu_self_path names the test", 1, strstr(buf, "test_pathutil") != NULL);

    check_long("pu_has_ext", 1, pu_has_ext("dir.d/Photo.JPG", "jpg"));
    check_long("pu_has_ext in a directory name", 0, pu_has_ext("dir.jpg/photo", "jpg"));
    check_long("pu_match", 1, pu_match("src/*.c", "src/main.c", 0));
    check_long("pu_match does not cross /", 0, pu_match("*.c", "src/main.c", 0));
    check_long("pu_match case-insensitive", 1, pu_match("*.TXT", "notes.txt", 1));
    check_long("pu_match case-sensitive", 0, pu_match("*.TXT", "notes.txt", 0));

    check_long("pu_quote", 0, pu_quote(buf, sizeof(buf), "a\tb\\c d\n"));
    check_str("pu_quote escapes", "a\\011b\\\\c d\\012", buf);
    check_long("pu_quote needs room", -1, pu_quote(buf, 4, "abc"));

    check_long("pu_list", 0, pu_list(".", note_entry, &seen));
    check_long("pu_list sees src/ as a directory", 1, seen.src_is_dir);
    check_long("pu_list sees configure as a file", 0, seen.file_is_dir);
    check_long("pu_list of a file fails", -1, pu_list("configure", note_entry, &seen));

    unlink("tests/mode.tmp");
    fd = open("tests/mode.tmp", O_WRONLY | O_CREAT, 0600);
    if (fd >= 0)
        close(fd);
    chmod("tests/mode.tmp", 02640);
    check_long("pu_mode_string", 0, pu_mode_string("tests/mode.tmp", buf, sizeof(buf)));
    check_str("pu_mode_string has the permission bits only", "640", buf);
    unlink("tests/mode.tmp");

    check_long("pu_fs_free", 0, pu_fs_free(".", &bytes));
    check_long("pu_fs_free of a missing path", -1, pu_fs_free("no/such/dir", &bytes));

    check_str("pu_strerror", "No such file or directory", pu_strerror(ENOENT, buf, sizeof(buf)));

    printf("%d of %d tests failed\n", failures, total);
    return failures != 0;
}
