/* interrupt.h - one "stop now" flag that long waits and loops in the utility and agent
 * layers look at, so a run's SIGTERM ends a hash, an upload or a wait for the guest agent
 * within a moment instead of at its deadline. The flag is the command's own (set by its
 * signal handler); these modules only read it. */
#ifndef CL_UTIL_INTERRUPT_H
#define CL_UTIL_INTERRUPT_H

#include <stdbool.h>

/* Watches flag (NULL: nothing is ever interrupted). */
void cl_interrupt_watch(volatile int *flag);

/* A command's handler for SIGINT, SIGTERM and SIGHUP (it sets flag), and flag watched. */
void cl_interrupt_catch(void (*handler)(int), volatile int *flag);

/* True once the watched flag is set. */
bool cl_interrupt_pending(void);

#endif
