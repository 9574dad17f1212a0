/* strkit.h - public interface of libstrkit */
#ifndef STRKIT_H
#define STRKIT_H

#include <stddef.h>

/* angle.c */
double sk_deg2rad(double degrees);
/* bytes.c */
long sk_parse_size(const char *s);
/* center.c */
int sk_center(char *dst, size_t size, const char *s, size_t width);
/* copy.c */
size_t sk_copy(char *dst, const char *src, size_t size);
/* count.c */
size_t sk_count_char(const char *s, int c);
/* cpus.c */
long sk_cpu_count(void);
/* ends.c */
int sk_ends_with(const char *s, const char *suffix);
/* find.c */
long sk_find_nocase(const char *haystack, const char *needle);
long sk_find_char(const char *s, int c);
/* hibit.c */
size_t sk_count_high(const char *s);
/* isnum.c */
int sk_is_number(const char *s);
/* join.c */
size_t sk_join(char *dst, size_t size, const char *const *parts, size_t n, const char *sep);
/* lower.c / upper.c / title.c */
char *sk_lower(char *s);
char *sk_upper(char *s);
char *sk_title(char *s);
/* pad.c */
int sk_pad_left(char *dst, size_t size, const char *s, size_t width, char fill);
/* repeat.c */
size_t sk_repeat(char *dst, size_t size, const char *s, size_t times);
/* replace.c */
size_t sk_replace_char(char *s, int from, int to);
/* reverse.c */
char *sk_reverse(char *s);
/* split.c */
size_t sk_split(char *s, int sep, char **fields, size_t max);
/* squeeze.c */
char *sk_squeeze(char *s, int c);
/* starts.c */
int sk_starts_with(const char *s, const char *prefix);
/* stats.c */
double sk_mean(const double *v, size_t n);
double sk_stddev(const double *v, size_t n);
/* trim.c */
char *sk_trim(char *s);
/* version.c */
const char *sk_version(void);

#endif
