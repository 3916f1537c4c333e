/* agent.h - talking to qemu-guest-agent through lab/virt (virDomainQemuAgentCommand).
 *
 * Everything the guest says is hostile: replies are bounded in size, parsed with json-c
 * and checked field by field. A missing, late or malformed reply is an error with a
 * reason, never a hang: every call has an absolute deadline (cl_now() based).
 * Transient agent errors (the agent restarting, "not available for now") are retried
 * until the deadline and only then become the caller's error.
 */
#ifndef CL_AGENT_H
#define CL_AGENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* The domain, opaque here: libvirt's cl_agent_dom (lab/virt owns the libvirt calls). */
struct _virDomain;
typedef struct _virDomain *cl_agent_dom;

#define CL_AGENT_MAX_REPLY (8u << 20)      /* bytes of JSON accepted from one reply */
#define CL_AGENT_MAX_OUTPUT (1u << 20)     /* decoded stdout/stderr kept from one command */
#define CL_AGENT_MAX_UPLOAD (64u << 20)    /* largest file pushed into a guest */

/* --- pure parsing (no libvirt), fuzzed --- */

/* {"return": X} -> *ret = X (a new reference); {"error": {"class", "desc"}} -> CL_ERR_AGENT
 * with the class and description; anything else -> CL_ERR_AGENT naming what is wrong. */
bool cl_agent_parse_reply(const char *text, size_t len, json_object **ret, cl_error **errp);

typedef struct {
    bool exited;
    int exitcode;          /* valid when exited and !signaled */
    bool signaled;
    int signal;
    char *out, *err;       /* decoded, NUL-terminated, at most maxout bytes each */
    size_t outlen, errlen;
    bool out_truncated, err_truncated;
} cl_agent_exec_status;

/* Parses the return value of guest-exec-status. */
bool cl_agent_parse_exec_status(json_object *ret, size_t maxout, cl_agent_exec_status *st, cl_error **errp);
void cl_agent_exec_status_clear(cl_agent_exec_status *st);

/* Decodes base64 into at most max bytes (more is cut and *truncated set). */
bool cl_base64_decode(const char *in, size_t inlen, size_t max, char **out, size_t *outlen,
                      bool *truncated, cl_error **errp);
char *cl_base64_encode(const void *data, size_t len);

/* Parses one guest-file-read return value: {"count", "buf-b64", "eof"}. The data must
 * decode to exactly count bytes and count must not exceed what was asked for. */
bool cl_agent_parse_file_read(json_object *ret, size_t asked, char **data, size_t *len, bool *eof, cl_error **errp);

/* --- commands through lab/virt/agentcmd.c --- */

/* Sends one command (a JSON text) and parses the reply. */
bool cl_agent_command(cl_agent_dom dom, const char *cmd, double deadline, json_object **ret, cl_error **errp);

/* guest-ping until it answers or the deadline passes. */
bool cl_agent_wait_ping(cl_agent_dom dom, double deadline, cl_error **errp);

/* Copies a host file into the guest (guest-file-open/write/close, chunked). */
bool cl_agent_upload(cl_agent_dom dom, const char *host_path, const char *guest_path, double deadline,
                     cl_error **errp);

/* Fetches a guest file the guest said is `size` bytes with sha256 `sha` into host_path
 * (written under a temporary name, renamed when complete and verified). The host path is
 * always the caller's; nothing the guest says becomes a host path. A size over max, a
 * file that grows or shrinks while read, or a digest mismatch is an error and leaves no
 * file behind. */
bool cl_agent_download(cl_agent_dom dom, const char *guest_path, uint64_t size, const char *sha, uint64_t max,
                       const char *host_path, double deadline, cl_error **errp);

/* guest-exec with captured output; returns the guest pid. */
bool cl_agent_exec_start(cl_agent_dom dom, char *const argv[], double deadline, long *pid, cl_error **errp);

/* Polls guest-exec-status until the process exits or the deadline passes
 * (CL_ERR_TIMEOUT, st untouched). */
bool cl_agent_exec_wait(cl_agent_dom dom, long pid, double deadline, cl_agent_exec_status *st, cl_error **errp);

/* exec_start + exec_wait. */
bool cl_agent_exec(cl_agent_dom dom, char *const argv[], double deadline, cl_agent_exec_status *st,
                   cl_error **errp);

#endif
