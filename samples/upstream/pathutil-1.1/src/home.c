/* home.c - expand a leading ~ or ~user */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "pathutil.h"

char *pu_expand_tilde(const char *path)
{
    const char *rest = path + 1 + strcspn(path + 1, "/");
    const char *home = NULL;
    char *user, *out;

    if (path[0] != '~')
        return pu_concat(path, "");
    if (rest == path + 1) {
        /* Never trust the environment of a set-user-ID program. */
        if (!issetugid())
            home = getenv("HOME");
    } else if ((user = pu_concat(path + 1, "")) != NULL) {
        struct passwd *pw;

        user[rest - path - 1] = '\0';
        pw = getpwnam(user);
        home = pw ? pw->pw_dir : NULL;
        free(user);
    }
    if (home == NULL)
        return pu_concat(path, "");
    out = pu_concat(home, rest);
    return out;
}
