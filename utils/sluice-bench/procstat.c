/* CPU time and RSS of the relay (from /proc) and of ourselves. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ssize_t read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = 0;
	close(fd);
	return n;
}

/* Fields 14 and 15 of a stat file (/proc/PID/stat, /proc/PID/task/TID/stat), counted
 * after the ")" that ends comm (which may itself contain spaces and parentheses): their
 * sum into ns, utime alone into user if not NULL; comm into comm if not NULL. */
static int stat_file_cpu(const char *path, uint64_t *ns, uint64_t *user, char *comm,
			 size_t commlen)
{
	char buf[2048], *p, *c;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);

	if (read_file(path, buf, sizeof(buf)) < 0)
		return -EIO;
	p = strrchr(buf, ')');
	c = strchr(buf, '(');
	if (!p || !c || c > p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -EINVAL;
	*ns = (ut + st) * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
	if (user)
		*user = ut * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
	if (comm)
		snprintf(comm, commlen, "%.*s", (int)(p - c - 1), c + 1);
	return 0;
}

static int stat_cpu(int pid, uint64_t *ns, uint64_t *user)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	return stat_file_cpu(path, ns, user, NULL, 0);
}

static void threads_add(struct proc_threads *t, const char *comm, uint64_t ns)
{
	unsigned i;

	for (i = 0; i < t->n && strcmp(t->t[i].comm, comm); i++)
		;
	if (i == t->n) {
		if (t->n == PROC_THREAD_NAMES)
			return;         /* more names than we keep: the rest is not shown */
		snprintf(t->t[t->n++].comm, sizeof(t->t[0].comm), "%s", comm);
	}
	t->t[i].cpu_ns += ns;
}

int proc_threads(int pid, struct proc_threads *t)
{
	char path[300], comm[sizeof(t->t[0].comm)];
	struct dirent *e;
	uint64_t ns;
	DIR *d;

	memset(t, 0, sizeof(*t));
	if (pid <= 0)
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	if (!(d = opendir(path)))
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, e->d_name);
		if (!stat_file_cpu(path, &ns, NULL, comm, sizeof(comm)))
			threads_add(t, comm, ns);
	}
	closedir(d);
	t->ok = true;
	return 0;
}

static int status_rss(int pid, uint64_t *kib)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -EIO;
	p = strstr(buf, "\nVmRSS:");
	if (!p)
		return -EINVAL;
	*kib = strtoull(p + 7, NULL, 10);
	return 0;
}

int proc_sample(int pid, struct proc_sample *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	if (pid <= 0)
		return -ENOENT;
	s->at_ns = mono_ns();
	ret = stat_cpu(pid, &s->cpu_ns, &s->user_ns);
	if (!ret)
		ret = status_rss(pid, &s->rss_kib);
	s->ok = ret == 0;
	return ret;
}

int proc_fd_count(int pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if (!(d = opendir(path)))
		return -errno;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}
