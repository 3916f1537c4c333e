/* main.c - labagent.exe: the in-guest helper the host drives through qemu-ga guest-exec.
 * Same command line as the Linux agent; see drivers/windows/README.md. */
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "jout.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage;
};

static const struct command commands[] = {
    { "install-cert", cmd_install_cert, "install-cert [FILE.cer]" },
    { "install-driver", cmd_install_driver, "install-driver PATH" },
    { "remove-driver", cmd_remove_driver, "remove-driver" },
    { "configure-dump", cmd_configure_dump,
      "configure-dump none|full|kernel|small|automatic|active [always_keep=0|1] [nmi=0|1] [overwrite=0|1] "
      "[autoreboot=0|1] [dump_file=PATH] [minidump_dir=PATH] [verifier_flags=N] [verifier_drivers=NAMES] "
      "[special_pool_tag=TAG]" },
    { "arm", cmd_arm, "arm FAULT [key=value ...]" },
    { "fire", cmd_fire, "fire" },
    { "trigger", cmd_trigger, "trigger FAULT [key=value ...]" },
    { "status", cmd_status, "status" },
    { "collect", cmd_collect, "collect" },
    { "check", cmd_check, "check" },
    { "waitchain", cmd_waitchain, "waitchain [processes=N] [timeout_ms=N]" },
    { "waitchain-node", cmd_waitchain_node, NULL },    /* internal: one process of the chain */
    { "probe-ioctl", cmd_probe_ioctl, "probe-ioctl" },  /* test aid: buffer-length checks */
};

int agent_split_kv(char *arg, char **key, char **value)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return -1;
    *eq = 0;
    *key = arg;
    *value = eq + 1;
    return 0;
}

static int usage(void)
{
    char text[2048];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (!commands[i].usage)
            continue;
        int w = snprintf(text + n, sizeof(text) - n, "%s%s", n ? "; " : "", commands[i].usage);
        if (w < 0 || (size_t)w >= sizeof(text) - n)
            break;
        n += (size_t)w;
    }
    return jout_fail(NULL, LABAGENT_EXIT_USAGE, "usage: labagent %s", text);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 2, argv + 2);
    return usage();
}
