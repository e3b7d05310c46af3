/* Bytes held by the files under a folder: the recording case's disk write rate is the
 * growth of the relay's --recording-dir over the measured window. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define DIR_DEPTH_MAX 4         /* DIR/pcaps/NAME.pcap is depth 2 */

static int64_t tree_bytes(int dfd, unsigned depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	int64_t sum = 0;

	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((e = readdir(d))) {
		struct stat st;
		int fd;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* a file renamed or removed meanwhile (NAME.tmp -> NAME) is simply missed */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISREG(st.st_mode))
			sum += st.st_size;
		else if (S_ISDIR(st.st_mode) && depth < DIR_DEPTH_MAX &&
			 (fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			int64_t sub = tree_bytes(fd, depth + 1);

			if (sub > 0)
				sum += sub;
		}
	}
	closedir(d);
	return sum;
}

int64_t dir_bytes(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : tree_bytes(fd, 0);
}
