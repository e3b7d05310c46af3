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

/* Fields 14 and 15 of /proc/PID/stat, counted after the ")" that ends comm (which may
 * itself contain spaces and parentheses). */
static int stat_cpu(int pid, uint64_t *ns)
{
	char path[64], buf[2048], *p;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -EIO;
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -EINVAL;
	*ns = (ut + st) * (1000000000ull / (uint64_t)(hz > 0 ? hz : 100));
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
	ret = stat_cpu(pid, &s->cpu_ns);
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
