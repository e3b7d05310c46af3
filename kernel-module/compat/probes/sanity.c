/* Must always compile: proves the probe flags work at all. */
#include <linux/module.h>
static int __maybe_unused f(void) { return 0; }
