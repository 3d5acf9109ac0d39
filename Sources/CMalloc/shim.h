// glibc's malloc_trim and mallopt, which the Glibc module does not export: the agent hands freed heap pages back to
// the system after a pass, so its resident memory at rest is what it holds, not the high-water mark of the last
// pass; and it keeps large blocks (list responses, a revision's parsed objects) in their own mappings, returned
// whole when freed, instead of in the heap, where they leave holes between long-lived objects.
#include <malloc.h>

static inline int syncagent_malloc_trim(void) { return malloc_trim(0); }
static inline int syncagent_malloc_mmap_threshold(int bytes) { return mallopt(M_MMAP_THRESHOLD, bytes); }
