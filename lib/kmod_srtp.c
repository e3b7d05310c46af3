/* SRTP of kernel entries: the control messages and the state read-back (see
 * include/sluice/kmod_srtp.h). kmod_add_srtp() lives in kmod.c, beside the slot
 * bookkeeping. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sluice/kmod_srtp.h"

static void hdr(struct sluice_msg_hdr *h, uint16_t cmd, size_t len)
{
	memset(h, 0, sizeof(*h));
	h->version = SLUICE_ABI_VERSION;
	h->cmd = cmd;
	h->len = (uint16_t)len;
}

int kmod_srtp_set(struct kmod *k, int slot, const struct kmod_srtp *x)
{
	struct sluice_msg_srtp m;

	if (slot < 0 || (unsigned int)slot >= kmod_capacity(k))
		return -ERANGE;
	memset(&m, 0, sizeof(m));
	hdr(&m.hdr, SLUICE_CMD_SRTP_SET, sizeof(m));
	m.slot = (uint32_t)slot;
	m.decrypt = x->decrypt;
	m.encrypt = x->encrypt;
	return kmod_write_raw(k, &m, sizeof(m));
}

int kmod_srtp_del(struct kmod *k, int slot)
{
	struct sluice_msg_slot m;

	if (slot < 0 || (unsigned int)slot >= kmod_capacity(k))
		return -ERANGE;
	hdr(&m.hdr, SLUICE_CMD_SRTP_DEL, sizeof(m));
	m.slot = (uint32_t)slot;
	m.pad = 0;
	return kmod_write_raw(k, &m, sizeof(m));
}

/* Rare (a stream leaving the kernel): the file is opened per read. */
int kmod_srtp_read(const struct kmod *k, int slot, struct sluice_srtp_state *out)
{
	char path[96];
	ssize_t n;
	int fd, ret = 0;

	if (slot < 0 || (unsigned int)slot >= kmod_capacity(k))
		return -ERANGE;
	snprintf(path, sizeof(path), KMOD_PROC_DIR "/%u/srtp", kmod_id(k));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, out, sizeof(*out), (off_t)slot * (off_t)sizeof(*out));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != sizeof(*out))
		ret = -EIO;
	close(fd);
	return ret;
}
