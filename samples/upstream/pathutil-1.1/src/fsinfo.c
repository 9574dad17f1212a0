/* fsinfo.c - free space of the file system that holds a path */
#include <sys/param.h>
#include <sys/ucred.h>
#include <sys/mount.h>
#include "pathutil.h"

int pu_fs_free(const char *path, unsigned long long *bytes)
{
    struct statfs fs;

    if (statfs(path, &fs) != 0)
        return -1;
    *bytes = (unsigned long long)fs.f_bavail * (unsigned long long)fs.f_bsize;
    return 0;
}
