/* sig.c - the status signal: ^T (SIGINFO) prints how far ringbuf got */
#include <signal.h>
#include <string.h>
#include "ringbuf.h"

/* Installs handler for the status signal; returns its number, or -1. */
int rb_on_status(void (*handler)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINFO, &sa, NULL) != 0)
        return -1;
    return SIGINFO;
}
