import CMalloc

/// Hands the heap's free pages back to the system (glibc `malloc_trim`). A pass or a full drift check briefly
/// holds every object of a revision several times over; without this, the agent's resident memory at rest would be
/// that high-water mark rather than what it keeps (the live-state caches, the drift state).
enum HeapTrim {
    static func now() {
        _ = syncagent_malloc_trim()
    }
}
