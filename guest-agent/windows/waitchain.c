/* waitchain.c - a user-mode wait chain: N processes (default 3) deadlocked on each other
 * through named pipes, the shape of the ALPC wait chains in the background articles.
 *
 * Node i serves \\.\pipe\labwait-<id>-<i> and is a client of node i+1 (mod N). It sends
 * its request to i+1, takes the request of i-1, and then waits for i+1's reply before it
 * would answer i-1. Every node is therefore blocked in ReadFile on the next node's pipe:
 * a cycle with no way out. The parent reports who waits on whom and exits; the nodes stay
 * (forever, or until timeout_ms, which exists for tests).
 */
#include <windows.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "jout.h"

#define WC_MAX 8

static bool parse_ul(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    if (!*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > max)
        return false;
    *out = (unsigned long)v;
    return true;
}

static void pipe_name(char *buf, size_t len, unsigned long id, unsigned long i)
{
    snprintf(buf, len, "\\\\.\\pipe\\labwait-%lu-%lu", id, i);
}

static void event_name(char *buf, size_t len, unsigned long id, unsigned long i)
{
    snprintf(buf, len, "Local\\labwait-%lu-%lu-ready", id, i);
}

static DWORD WINAPI watchdog(LPVOID ms)
{
    Sleep((DWORD)(ULONG_PTR)ms);
    ExitProcess(0);
    return 0;
}

/* waitchain-node ID INDEX N TIMEOUT_MS */
int cmd_waitchain_node(int argc, char **argv)
{
    unsigned long id, i, n, timeout;
    char mine[128], next[128], ev[128], msg[64];
    DWORD got;

    if (argc != 4 || !parse_ul(argv[0], 0xffffffffu, &id) || !parse_ul(argv[1], WC_MAX - 1, &i) ||
        !parse_ul(argv[2], WC_MAX, &n) || n < 2 || i >= n || !parse_ul(argv[3], 86400000, &timeout))
        return LABAGENT_EXIT_USAGE;
    if (timeout)
        CloseHandle(CreateThread(NULL, 0, watchdog, (LPVOID)(ULONG_PTR)timeout, 0, NULL));

    pipe_name(mine, sizeof(mine), id, i);
    pipe_name(next, sizeof(next), id, (i + 1) % n);
    event_name(ev, sizeof(ev), id, i);

    HANDLE server = CreateNamedPipeA(mine, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1,
                                     512, 512, 0, NULL);
    if (server == INVALID_HANDLE_VALUE)
        return LABAGENT_EXIT_FAIL;
    HANDLE client = INVALID_HANDLE_VALUE;
    for (int tries = 0; tries < 400 && client == INVALID_HANDLE_VALUE; tries++) {
        client = CreateFileA(next, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (client == INVALID_HANDLE_VALUE)
            Sleep(50);
    }
    if (client == INVALID_HANDLE_VALUE)
        return LABAGENT_EXIT_FAIL;
    int m = snprintf(msg, sizeof(msg), "request from %lu", i);
    if (!WriteFile(client, msg, (DWORD)m, &got, NULL))
        return LABAGENT_EXIT_FAIL;
    if (!ConnectNamedPipe(server, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
        return LABAGENT_EXIT_FAIL;
    if (!ReadFile(server, msg, sizeof(msg), &got, NULL))
        return LABAGENT_EXIT_FAIL;

    HANDLE ready = OpenEventA(EVENT_MODIFY_STATE, FALSE, ev);
    if (ready) {
        SetEvent(ready);
        CloseHandle(ready);
    }
    /* The reply from i+1 never comes: i+1 is waiting here too. */
    ReadFile(client, msg, sizeof(msg), &got, NULL);
    return LABAGENT_EXIT_OK;
}

int cmd_waitchain(int argc, char **argv)
{
    unsigned long n = 3, timeout = 0;
    char exe[MAX_PATH], cmd[MAX_PATH + 128], ev[128], name[128];
    HANDLE events[WC_MAX];
    PROCESS_INFORMATION pi[WC_MAX];
    unsigned long id = GetCurrentProcessId();

    for (int a = 0; a < argc; a++) {
        char *k, *v;
        if (agent_split_kv(argv[a], &k, &v) < 0)
            return jout_fail("waitchain", LABAGENT_EXIT_USAGE, "expected key=value, got '%s'", argv[a]);
        if (!strcmp(k, "processes")) {
            if (!parse_ul(v, WC_MAX, &n) || n < 2)
                return jout_fail("waitchain", LABAGENT_EXIT_USAGE, "processes must be 2 to %d", WC_MAX);
        } else if (!strcmp(k, "timeout_ms")) {
            if (!parse_ul(v, 86400000, &timeout))
                return jout_fail("waitchain", LABAGENT_EXIT_USAGE, "timeout_ms must be 0 to 86400000");
        } else {
            return jout_fail("waitchain", LABAGENT_EXIT_USAGE, "unknown option '%s'", k);
        }
    }
    DWORD el = GetModuleFileNameA(NULL, exe, sizeof(exe));
    if (el == 0 || el >= sizeof(exe))
        return jout_fail("waitchain", LABAGENT_EXIT_FAIL, "cannot find my own executable");

    memset(pi, 0, sizeof(pi));
    for (unsigned long i = 0; i < n; i++) {
        event_name(ev, sizeof(ev), id, i);
        events[i] = CreateEventA(NULL, TRUE, FALSE, ev);
        if (!events[i])
            return jout_fail("waitchain", LABAGENT_EXIT_FAIL, "CreateEvent: %s", jout_winerr(GetLastError()));
    }
    for (unsigned long i = 0; i < n; i++) {
        STARTUPINFOA si;
        memset(&si, 0, sizeof(si));
        si.cb = sizeof(si);
        snprintf(cmd, sizeof(cmd), "\"%s\" waitchain-node %lu %lu %lu %lu", exe, id, i, n, timeout);
        /* No inherited handles and no console: qemu-ga's output pipes must close when
         * this parent exits, or guest-exec would wait for the deadlocked children. */
        if (!CreateProcessA(exe, cmd, NULL, NULL, FALSE, DETACHED_PROCESS, NULL, NULL, &si, &pi[i])) {
            DWORD err = GetLastError();
            for (unsigned long j = 0; j < i; j++)
                TerminateProcess(pi[j].hProcess, 1);
            return jout_fail("waitchain", LABAGENT_EXIT_FAIL, "CreateProcess: %s", jout_winerr(err));
        }
    }
    DWORD w = WaitForMultipleObjects((DWORD)n, events, TRUE, 30000);
    if (w >= WAIT_OBJECT_0 + n) {
        for (unsigned long j = 0; j < n; j++)
            TerminateProcess(pi[j].hProcess, 1);
        return jout_fail("waitchain", LABAGENT_EXIT_FAIL, "the chain did not form within 30 s");
    }

    jout_begin("waitchain");
    jout_u64("chain_id", id);
    jout_u64("processes", n);
    jout_obj("ground_truth");
    jout_arr("chain");
    for (unsigned long i = 0; i < n; i++) {
        jout_obj(NULL);
        jout_u64("index", i);
        jout_u64("pid", pi[i].dwProcessId);
        jout_u64("tid", pi[i].dwThreadId);
        pipe_name(name, sizeof(name), id, i);
        jout_str("serves", name);
        pipe_name(name, sizeof(name), id, (i + 1) % n);
        jout_str("waits_on_pipe", name);
        jout_u64("waits_on_pid", pi[(i + 1) % n].dwProcessId);
        jout_obj_end();
    }
    jout_arr_end();
    jout_obj_end();
    jout_u64("timeout_ms", timeout);
    jout_print();
    for (unsigned long i = 0; i < n; i++) {
        CloseHandle(pi[i].hThread);
        CloseHandle(pi[i].hProcess);
        CloseHandle(events[i]);
    }
    return LABAGENT_EXIT_OK;
}
