/* lnfind.h - print the lines that contain any of some words */
#ifndef LNFIND_H
#define LNFIND_H

#include <stddef.h>

/* 1 when the line (len bytes) contains word, matching case exactly. */
int lf_contains(const char *line, size_t len, const char *word);

/* 1 when the NUL-terminated line contains word, ignoring case. */
int lf_contains_fold(const char *line, const char *word);

#endif
