// glibc's malloc_trim, which the Glibc module does not export: the agent hands freed heap pages back to the
// system after a pass, so its resident memory at rest is what it holds, not the high-water mark of the last pass.
#include <malloc.h>

static inline int syncagent_malloc_trim(void) { return malloc_trim(0); }
