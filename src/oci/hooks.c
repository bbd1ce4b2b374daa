// SPDX-License-Identifier: Apache-2.0
/*
 * osprey-oci: lifecycle hooks. Each hook runs with the container's state
 * JSON on its stdin; a non-zero exit or a timeout is an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"

static int run_one(const struct oci_hook *h, const char *kind, const char *state, struct sb_err *e)
{
	struct timespec start, now;
	int in[2], status = 0;
	pid_t pid, w;

	if (pipe2(in, O_CLOEXEC) < 0)
		return sb_fail(e, errno, "%s hook: pipe: %s", kind, strerror(errno));
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		return sb_fail(e, errno, "%s hook: fork: %s", kind, strerror(errno));
	}
	if (pid == 0) {
		static char *const no_env[] = { NULL };
		char *const argv0[] = { h->path, NULL };

		dup2(in[0], 0);
		/* the hook's output is the runtime's stderr, never our stdout */
		dup2(2, 1);
		execve(h->path, h->n_args ? h->args : argv0, h->n_env ? h->env : no_env);
		fprintf(stderr, "osprey-oci: %s hook %s: %s\n", kind, h->path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	/* a hook that does not read its stdin must not block us */
	signal(SIGPIPE, SIG_IGN);
	if (write(in[1], state, strlen(state)) < 0 && errno != EPIPE)
		oci_log(OCI_LOG_DEBUG, "%s hook: writing the state: %s", kind, strerror(errno));
	close(in[1]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		w = waitpid(pid, &status, h->timeout ? WNOHANG : 0);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return sb_fail(e, errno, "%s hook %s: wait: %s", kind, h->path, strerror(errno));
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (h->timeout && now.tv_sec - start.tv_sec >= h->timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return sb_fail(e, ETIMEDOUT, "%s hook %s timed out after %d s", kind, h->path, h->timeout);
		}
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return sb_fail(e, ECANCELED, "%s hook %s killed by signal %d", kind, h->path, WTERMSIG(status));
	return sb_fail(e, ECANCELED, "%s hook %s failed with exit status %d", kind, h->path, WEXITSTATUS(status));
}

int oci_hooks_run(const struct oci_hook *hooks, size_t n, const char *kind, const char *state_json,
		  struct sb_err *e)
{
	for (size_t i = 0; i < n; i++) {
		int r = run_one(&hooks[i], kind, state_json, e);
		if (r < 0)
			return r;
	}
	return 0;
}
