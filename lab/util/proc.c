/* proc.c - reading /proc/PID/stat; running a helper program. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

bool cl_proc_stat_read(pid_t pid, cl_proc_stat *out)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields restart after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return false;
    memset(out, 0, sizeof(*out));
    int field = 2;
    char *save = NULL;
    for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        switch (++field) {
        case 3: out->state = tok[0]; break;
        case 4: out->ppid = strtol(tok, NULL, 10); break;
        case 22: out->start_time = strtoull(tok, NULL, 10); return true;
        }
    }
    return false;
}

unsigned long long cl_proc_start_time(pid_t pid)
{
    cl_proc_stat st;
    return cl_proc_stat_read(pid, &st) ? st.start_time : 0;
}

bool cl_proc_run_quiet(char *const argv[], cl_error **errp)
{
    pid_t pid = fork();
    if (pid < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot fork %s", argv[0]);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0)
            dup2(devnull, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return cl_error_set(errp, CL_ERR_IO, "%s %s failed (status %d)", argv[0], argv[1] ? argv[1] : "", status);
    return true;
}
