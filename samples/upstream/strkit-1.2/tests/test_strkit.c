/* test_strkit.c - unit tests run by `make check` */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "strkit.h"

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
    if (strcmp(expected, got) == 0) {
        printf("PASS: %s\n", name);
    } else {
        failures++;
        printf("FAIL: %s: expected \"%s\", got \"%s\"\n", name, expected, got);
    }
}

int main(void)
{
    char buf[64];
    char *fields[4];
    const char *parts[3] = { "a", "b", "c" };
    const double values[4] = { 2.0, 4.0, 4.0, 6.0 };

    sk_copy(buf, "hello world", 6);
    check_str("sk_copy truncates", "hello", buf);
    sk_copy(buf, "  mixed Case  ", sizeof(buf));
    check_str("sk_trim", "mixed Case", sk_trim(buf));
    check_str("sk_upper", "MIXED CASE", sk_upper(buf));
    check_str("sk_lower", "mixed case", sk_lower(buf));
    check_str("sk_title", "Mixed Case", sk_title(buf));
    check_str("sk_reverse", "esaC dexiM", sk_reverse(buf));
    check_long("sk_count_char", 3, (long)sk_count_char("banana", 'a'));
    check_long("sk_find_char", 2, sk_find_char("banana", 'n'));
    check_long("sk_find_nocase", 4, sk_find_nocase("Big CAT", "cat"));
    check_long("sk_starts_with", 1, sk_starts_with("prefix", "pre"));
    check_long("sk_ends_with", 1, sk_ends_with("suffix", "fix"));
    check_long("sk_is_number", 1, sk_is_number("-42"));
    sk_join(buf, sizeof(buf), parts, 3, ", ");
    check_str("sk_join", "a, b, c", buf);
    sk_repeat(buf, sizeof(buf), "ab", 3);
    check_str("sk_repeat", "ababab", buf);
    sk_pad_left(buf, sizeof(buf), "7", 3, '0');
    check_str("sk_pad_left", "007", buf);
    sk_center(buf, sizeof(buf), "x", 3);
    check_str("sk_center", " x ", buf);
    sk_copy(buf, "a--b---c", sizeof(buf));
    check_str("sk_squeeze", "a-b-c", sk_squeeze(buf, '-'));
    check_long("sk_replace_char", 2, (long)sk_replace_char(buf, '-', '+'));
    check_long("sk_split", 3, (long)sk_split(buf, '+', fields, 4));
    check_long("sk_parse_size", 4096, sk_parse_size("4k"));
    check_long("sk_count_high", 2, (long)sk_count_high("caf\xc3\xa9"));
    check_long("sk_stddev", 1414, lround(sk_stddev(values, 4) * 1000.0));
    check_long("sk_deg2rad", 3142, lround(sk_deg2rad(180.0) * 1000.0));
    check_long("sk_cpu_count", 1, sk_cpu_count() >= 1);
    check_str("sk_version", "1.2", sk_version());

    printf("%d of %d tests failed\n", failures, total);
    return failures ? 1 : 0;
}
