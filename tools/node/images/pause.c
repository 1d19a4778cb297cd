/*
 * The pod sandbox ("pause") container of the local node: it holds the pod's
 * namespaces open and does nothing else. Built static by
 * tools/node/provision.sh, so the image needs no libc or shell.
 *
 * As PID 1 of the sandbox it must end on SIGTERM/SIGINT (the kernel gives
 * PID 1 no default handlers, so an unhandled signal would be ignored and
 * every pod deletion would wait for SIGKILL) and reap orphans that end up in
 * its PID namespace.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signo) {
    (void)signo;
    _exit(0);
}

static void reap(int signo) {
    (void)signo;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(void) {
    struct sigaction on_stop = {.sa_handler = stop};
    struct sigaction on_child = {.sa_handler = reap, .sa_flags = SA_NOCLDSTOP};
    if (sigaction(SIGINT, &on_stop, NULL) < 0 || sigaction(SIGTERM, &on_stop, NULL) < 0 ||
        sigaction(SIGCHLD, &on_child, NULL) < 0) {
        return 1;
    }
    for (;;) {
        pause();
    }
}
