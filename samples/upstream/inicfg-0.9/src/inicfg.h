/* inicfg.h - a small INI file reader */
#ifndef INICFG_H
#define INICFG_H

#include <stddef.h>

enum ini_class { INI_OTHER, INI_WORD, INI_SPACE, INI_EQUALS, INI_OPEN, INI_CLOSE, INI_COMMENT };

struct ini_entry {
    struct ini_entry *next;
    unsigned long hash;     /* ini_hash() of the key */
    size_t keylen;
    char data[];            /* "section.key" '\0' value '\0' */
};

struct ini_file {
    struct ini_entry *first;
    size_t count;
};

unsigned long ini_hash(const char *s);
int ini_char_class(int c);
int ini_parse(struct ini_file *ini, const char *text);
const char *ini_get(const struct ini_file *ini, const char *key);
void ini_free(struct ini_file *ini);

#endif
