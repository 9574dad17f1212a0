/* run.c - run a command and wait for it */
#include <sys/types.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tinyproc.h"

static long cpu_ms(const struct rusage *ru)
{
    return (long)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000L
         + (long)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000L;
}

int tp_run(char *const argv[], struct tp_result *res)
{
    struct rusage ru;
    pid_t pid;
    int status;

    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0)
        return -1;
    res->cpu_ms = cpu_ms(&ru);
    if (WIFEXITED(status)) {
        res->exited = 1;
        res->code = WEXITSTATUS(status);
    } else {
        res->exited = 0;
        res->code = WTERMSIG(status);
    }
    return 0;
}
