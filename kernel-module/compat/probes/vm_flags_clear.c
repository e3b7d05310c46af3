#include <linux/mm.h>
static void __maybe_unused f(struct vm_area_struct *vma) { vm_flags_clear(vma, VM_MAYWRITE); }
