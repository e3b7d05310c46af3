#include <linux/proc_fs.h>
static void * __maybe_unused f(const struct inode *inode) { return pde_data(inode); }
