/* test_inicfg.c - unit tests run by `make check` */
#include <stdio.h>
#include <string.h>
#include "inicfg.h"

static int failures, total;

static void check(const char *name, int ok, const char *detail)
{
    total++;
    if (ok) {
        printf("PASS: %s\n", name);
    } else {
        failures++;
        printf("FAIL: %s: %s\n", name, detail);
    }
}

int main(void)
{
    static const char text[] =
        "; sample\n"
        "top = 1\n"
        "[server]\n"
        "host = example.org  \n"
        "port=8080\n";
    struct ini_file ini;
    char detail[128];
    const char *v;
    unsigned long h;

    check("parse", ini_parse(&ini, text) == 0, "syntax error");
    check("count", ini.count == 3, "expected 3 entries");
    v = ini_get(&ini, "server.host");
    check("server.host", v && strcmp(v, "example.org") == 0, v ? v : "(missing)");
    v = ini_get(&ini, "server.port");
    check("server.port", v && strcmp(v, "8080") == 0, v ? v : "(missing)");
    v = ini_get(&ini, "top");
    check("top", v && strcmp(v, "1") == 0, v ? v : "(missing)");
    check("word class", ini_char_class('k') == INI_WORD, "'k' is not a word character");
    check("other class", ini_char_class('~') == INI_OTHER, "'~' is not 'other'");
    h = ini_hash("abc");
    sprintf(detail, "expected 0x1a47e90b, got 0x%lx", h);
    check("fnv1a32(\"abc\")", h == 0x1a47e90bUL, detail);
    ini_free(&ini);

    printf("%d of %d tests failed\n", failures, total);
    return failures ? 1 : 0;
}
