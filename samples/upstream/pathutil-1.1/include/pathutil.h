/* pathutil.h - small path helpers */
#ifndef PATHUTIL_H
#define PATHUTIL_H

#include <stddef.h>

/* buf.c */
char *pu_concat(const char *a, const char *b);
/* join.c */
char *pu_join(const char *dir, const char *name);
/* norm.c */
char *pu_normalize(char *path);
/* comp.c */
int pu_valid_component(const char *name);
/* home.c */
char *pu_expand_tilde(const char *path);
/* canon.c: out has room for PU_PATH_MAX bytes */
int pu_canonical(const char *path, char *out);
/* which.c */
int pu_which(const char *name, char *out, size_t size);
/* self.c */
int pu_self_path(const char *argv0, char *out, size_t size);
/* match.c */
int pu_has_ext(const char *path, const char *ext);
/* glob.c */
int pu_match(const char *pattern, const char *path, int nocase);
/* vis.c */
int pu_quote(char *dst, size_t size, const char *src);
/* list.c */
int pu_list(const char *dir, void (*fn)(const char *name, int is_dir, void *arg), void *arg);
/* mode.c */
int pu_mode_string(const char *path, char *out, size_t size);
/* fsinfo.c */
int pu_fs_free(const char *path, unsigned long long *bytes);
/* err.c */
const char *pu_strerror(int err, char *buf, size_t size);

#endif
