/* agent.h - labagent.exe commands. Each takes the arguments after the command name,
 * prints exactly one JSON object on stdout and returns the process exit code:
 * 0 success, 1 failure, 2 usage error. */
#ifndef LABAGENT_AGENT_H
#define LABAGENT_AGENT_H

#define LABAGENT_EXIT_OK 0
#define LABAGENT_EXIT_FAIL 1
#define LABAGENT_EXIT_USAGE 2

#define LABAGENT_SERVICE "labfault"

int cmd_arm(int argc, char **argv);
int cmd_fire(int argc, char **argv);
int cmd_trigger(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_probe_ioctl(int argc, char **argv);

int cmd_install_cert(int argc, char **argv);
int cmd_install_driver(int argc, char **argv);
int cmd_remove_driver(int argc, char **argv);

int cmd_configure_dump(int argc, char **argv);
int cmd_collect(int argc, char **argv);
int cmd_check(int argc, char **argv);

int cmd_waitchain(int argc, char **argv);
int cmd_waitchain_node(int argc, char **argv);

/* Splits "key=value" in place; returns 0 or -1 when there is no '=' or no key. */
int agent_split_kv(char *arg, char **key, char **value);

#endif
