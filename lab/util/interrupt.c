/* interrupt.c - the watched "stop now" flag (interrupt.h). */
#include <signal.h>
#include <stddef.h>

#include "interrupt.h"

static volatile int *watched;

void cl_interrupt_watch(volatile int *flag)
{
    watched = flag;
}

bool cl_interrupt_pending(void)
{
    return watched && *watched;
}

void cl_interrupt_catch(void (*handler)(int), volatile int *flag)
{
    struct sigaction sa = { .sa_handler = handler };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    cl_interrupt_watch(flag);
}
