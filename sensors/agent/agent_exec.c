/* hallgw-agent's child processes (see agent_exec.h). */
#include "agent_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARGV_MAX 64

/* In the child, between fork() and exec: only async-signal-safe calls. */
static void mark_cloexec_from(int lowfd)
{
#ifdef CLOSE_RANGE_CLOEXEC
    if (close_range((unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = lowfd; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static void child(char *const *args, int null_fd, int out_fd, int err_pipe)
{
    sigset_t none;
    int e;

    (void)setpgid(0, 0);
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    (void)signal(SIGPIPE, SIG_DFL);
    if (dup2(null_fd, 0) < 0 || (out_fd >= 0 && (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)))
        goto fail;
    if (out_fd < 0 && dup2(2, 1) < 0)
        goto fail;
    mark_cloexec_from(3); /* err_pipe too: a successful exec closes it */
    execvp(args[0], args);
fail:
    e = errno;
    (void)!write(err_pipe, &e, sizeof(e));
    _exit(127);
}

int agent_exec_start(char *const *argv, size_t argc, const char *extra, int out_fd, pid_t *pid)
{
    char *args[ARGV_MAX + 2];
    int pipefd[2], null_fd, e = 0, rc = 0;
    ssize_t n;

    if (argc == 0 || argc > ARGV_MAX)
        return -E2BIG;
    for (size_t i = 0; i < argc; i++)
        args[i] = argv[i];
    args[argc] = (char *)extra;
    args[argc + (extra ? 1 : 0)] = NULL;
    if ((null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        rc = -errno;
        goto out_null;
    }
    *pid = fork();
    if (*pid < 0) {
        rc = -errno;
        goto out_pipe;
    }
    if (*pid == 0)
        child(args, null_fd, out_fd, pipefd[1]);
    (void)setpgid(*pid, *pid); /* also here, so a signal right away reaches the group */
    close(pipefd[1]);
    pipefd[1] = -1;
    do
        n = read(pipefd[0], &e, sizeof(e));
    while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(e)) {
        int status;
        (void)waitpid(*pid, &status, 0);
        rc = -(e ? e : ENOEXEC);
    }
out_pipe:
    close(pipefd[0]);
    if (pipefd[1] >= 0)
        close(pipefd[1]);
out_null:
    close(null_fd);
    return rc;
}

int agent_exec_poll(pid_t pid, int *status)
{
    pid_t r = waitpid(pid, status, WNOHANG);

    if (r < 0)
        return -errno;
    return r == pid ? 1 : 0;
}

void agent_exec_signal(pid_t pid, int sig)
{
    if (pid > 0 && kill(-pid, sig) < 0)
        (void)kill(pid, sig);
}

void agent_exec_describe(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        (void)snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        (void)snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
                       strsignal(WTERMSIG(status)));
    else
        (void)snprintf(buf, size, "wait status %d", status);
}
