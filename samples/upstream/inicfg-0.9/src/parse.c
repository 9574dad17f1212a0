/* parse.c - parse INI text into a list of entries */
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "inicfg.h"

#if !HAVE_STRLCPY
static size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;

        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}
#endif

static const char *skip_space(const char *p)
{
    while (ini_char_class((unsigned char)*p) == INI_SPACE)
        p++;
    return p;
}

static size_t word_len(const char *p)
{
    size_t n = 0;

    while (ini_char_class((unsigned char)p[n]) == INI_WORD)
        n++;
    return n;
}

static int add_entry(struct ini_file *ini, const char *key, const char *value, size_t vlen)
{
    size_t klen = strlen(key);
    struct ini_entry *e = malloc(sizeof(*e) + klen + vlen + 2), **tail;

    if (!e)
        return -1;
    e->next = NULL;
    e->hash = ini_hash(key);
    e->keylen = klen;
    memcpy(e->data, key, klen + 1);
    memcpy(e->data + klen + 1, value, vlen);
    e->data[klen + 1 + vlen] = '\0';
    for (tail = &ini->first; *tail; tail = &(*tail)->next)
        ;
    *tail = e;
    ini->count++;
    return 0;
}

int ini_parse(struct ini_file *ini, const char *text)
{
    char section[64] = "", key[160];
    const char *p = text;
    int line = 1;

    ini->first = NULL;
    ini->count = 0;
    while (*p) {
        const char *end = strchr(p, '\n');
        size_t n;

        if (!end)
            end = p + strlen(p);
        p = skip_space(p);
        switch (ini_char_class((unsigned char)*p)) {
        case INI_OPEN:
            n = word_len(p + 1);
            if (p[1 + n] != ']' || n >= sizeof(section))
                return line;
            memcpy(section, p + 1, n);
            section[n] = '\0';
            break;
        case INI_WORD:
            n = word_len(p);
            if (strlen(section) + n + 2 > sizeof(key))
                return line;
            strlcpy(key, section, sizeof(key));
            if (section[0])
                strcat(key, ".");
            strncat(key, p, n);
            p = skip_space(p + n);
            if (*p != '=')
                return line;
            p = skip_space(p + 1);
            n = (size_t)(end - p);
            while (n > 0 && ini_char_class((unsigned char)p[n - 1]) == INI_SPACE)
                n--;
            if (add_entry(ini, key, p, n) != 0)
                return line;
            break;
        default:
            if (p != end && ini_char_class((unsigned char)*p) != INI_COMMENT)
                return line;
        }
        p = *end ? end + 1 : end;
        line++;
    }
    return 0;
}

const char *ini_get(const struct ini_file *ini, const char *key)
{
    unsigned long h = ini_hash(key);
    const struct ini_entry *e;

    for (e = ini->first; e; e = e->next)
        if (e->hash == h && strcmp(e->data, key) == 0)
            return e->data + e->keylen + 1;
    return NULL;
}

void ini_free(struct ini_file *ini)
{
    while (ini->first) {
        struct ini_entry *next = ini->first->next;

        free(ini->first);
        ini->first = next;
    }
    ini->count = 0;
}
