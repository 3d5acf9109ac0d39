import Foundation
import ProcessThreads

#if canImport(Glibc)
    import Glibc
#endif

/// A serial executor that runs its jobs, in order, on one thread of its own.
///
/// libgit2 calls block on the network and the disk. Run on Swift's cooperative pool (one thread per core) they
/// would starve every other task; run here, they block only this thread, and the awaiting task is resumed on
/// its own executor when the job is done. Model: NIOThreadPool. The thread ends after ``shutdown()``, once the
/// jobs already queued have run. It is one of the process's ``OwnedThreads``, so the executable stops and joins it
/// before it exits (libgit2 is never in use while the C libraries' destructors run).
final class GitThread: SerialExecutor, @unchecked Sendable {
    // @unchecked Sendable: `jobs`, `stopping` and `thread` are read and written only with `condition` locked;
    // `name` is immutable. NSCondition is itself thread-safe.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false
    private var thread: pthread_t?
    /// The thread's name, for debuggers and `ps -L`.
    let name: String

    /// Starts the thread. Once the process began to stop its threads (it is exiting), none is started and jobs
    /// queued here never run: no libgit2 call can start while the C libraries' destructors run.
    init(name: String) {
        self.name = name
        // Stopping aborts the Git sockets in flight, so a fetch from a silent server cannot hold the exit.
        let started = OwnedThreads.shared.start(
            name: name,
            stop: { [self] in
                GitSocketStreams.abortAll()
                shutdown()
            }
        ) { [self] in run() }
        if !started {
            condition.lock()
            stopping = true
            condition.unlock()
        }
    }

    /// Queues a job; the thread runs it after the jobs queued before it.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Asks the thread to end once the queued jobs have run.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Traps unless called on this executor's thread (used by `assumeIsolated` and isolation checks).
    func checkIsolated() {
        condition.lock()
        let owner = thread
        condition.unlock()
        precondition(owner.map { pthread_equal($0, pthread_self()) != 0 } ?? false, "not on the git thread \(name)")
    }

    private func run() {
        condition.lock()
        thread = pthread_self()
        condition.unlock()
        let executor = asUnownedSerialExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {  // stopping, and nothing left to run
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in batch { job.runSynchronously(on: executor) }
        }
    }
}
