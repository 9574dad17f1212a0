/* tinyproc.h */
#ifndef TINYPROC_H
#define TINYPROC_H

struct tp_result {
    int exited;      /* 1: exited, 0: killed by a signal */
    int code;        /* exit status or signal number */
    long cpu_ms;     /* user + system CPU time of the child */
};

int tp_run(char *const argv[], struct tp_result *res);
const char *tp_signal_name(int sig);
long tp_arg_max(void);
double tp_seconds(long ms);

/* Some old systems do not declare sleep() in any header. */
unsigned int sleep(int seconds);

#endif
