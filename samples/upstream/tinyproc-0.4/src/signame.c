/* signame.c - human readable signal names */
#include <signal.h>
#include <string.h>
#include "tinyproc.h"

const char *tp_signal_name(int sig)
{
    if (sig > 0 && sig < NSIG)
        return sys_siglist[sig];
    return "Unknown signal";
}
