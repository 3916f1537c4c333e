/* console.h - a domain's serial console read live over the libvirt connection
 * (virDomainOpenConsole) into a local file.
 *
 * On a host whose files are not this machine's, QEMU cannot write the console into the
 * run directory: the serial port is a pty on that host, and libvirt streams it. Every
 * chunk is appended to the file as it arrives, so the last lines before a crash are on
 * this machine's disk even if the run dies right after. The console is guest output: the
 * file is capped, bytes past the cap are read and dropped (the guest never blocks on us).
 */
#ifndef CL_VIRT_CONSOLE_H
#define CL_VIRT_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

#include "virt.h"

typedef struct cl_console_stream cl_console_stream;

typedef struct {
    uint64_t bytes;      /* written to the file */
    uint64_t dropped;    /* read past the cap and dropped */
    bool eof;            /* the host ended the stream (the domain went away) */
    char error[256];     /* why the stream ended early, if it did */
} cl_console_stats;

/* Opens the domain's first console (the serial port; it must be a pty on the host) and
 * appends what it says to path (created if missing), at most max_bytes. Call it while the
 * domain is paused, before its first instruction, to miss nothing. The bytes are read on
 * the connection's event loop thread. */
cl_console_stream *cl_console_open(cl_virt *v, cl_domain *dom, const char *path, uint64_t max_bytes, cl_error **errp);

/* Waits up to wait_s for the host to end the stream (the domain was destroyed: what it said
 * last is still in flight), then stops reading and frees. NULL-safe. *st (optional) gets
 * the counts. */
void cl_console_close(cl_console_stream *c, double wait_s, cl_console_stats *st);

#endif
