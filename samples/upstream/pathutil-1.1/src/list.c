/* list.c - the entries of a directory, and whether each is a directory */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "pathutil.h"

/* Calls fn for every entry but "." and ".."; returns -1 when dir cannot be read. */
int pu_list(const char *dir, void (*fn)(const char *name, int is_dir, void *arg), void *arg)
{
    struct stat st;
    struct dirent *e;
    DIR *d;

    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || (d = opendir(dir)) == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            fn(e->d_name, e->d_type == DT_DIR, arg);
    }
    closedir(d);
    return 0;
}
