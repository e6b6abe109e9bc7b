/* hallgw-agent's child processes: programs from the config's argv arrays,
 * started with fork() and execvp(), never through a shell. Command data
 * (a notify message) is only ever one more argv element. */
#ifndef HALLGW_AGENT_EXEC_H
#define HALLGW_AGENT_EXEC_H

#include <stddef.h>
#include <sys/types.h>

/* Starts argv[0..argc) plus extra as one last argument (when not NULL), in
 * a new process group, with stdin from /dev/null and stdout and stderr to
 * out_fd (the agent's own stderr when out_fd < 0). Returns 0 and *pid once
 * the program runs, or the negative errno of the fork or of execvp (so
 * "no such program" is reported here, not as an exit status). */
int agent_exec_start(char *const *argv, size_t argc, const char *extra, int out_fd, pid_t *pid);

/* 1 and the wait status when the child has ended, 0 while it runs, or a
 * negative errno. Never blocks. */
int agent_exec_poll(pid_t pid, int *status);

/* Sends sig to the child's process group. */
void agent_exec_signal(pid_t pid, int sig);

/* "exit status 2", "killed by signal 9": a wait status in words. */
void agent_exec_describe(int status, char *buf, size_t size);

#endif
