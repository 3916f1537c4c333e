/* interrupt.c - the watched "stop now" flag (interrupt.h). */
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
