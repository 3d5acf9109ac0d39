/// How far a live object is from ready, as one small value: a status, a one-word reason and a sentence.
///
/// The wait steps of a sync and the health gates read it: ``isDone`` says whether waiting on the object can end,
/// ``isSuccessful`` whether it ended well. `reason` is a CamelCase word that stays stable for tests, metrics and
/// alerts (kstatus's reasons where kstatus has one: `LessReady`, `ProgressDeadlineExceeded`, ...); `message` is for
/// people: "waiting for 2/3 replicas to be available".
public struct Health: Sendable, Hashable, CustomStringConvertible {
    /// Where the object stands.
    public enum Status: Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// Its controller has caught up with the latest spec and the object does what it says: ready, available,
        /// bound, established, completed.
        case current
        /// Still on its way (rolling out, scheduling, starting, being deleted): wait.
        case inProgress
        /// It will not get there without a change: progress deadline exceeded, crash loop, job failed, names
        /// rejected. Waiting longer does not help.
        case failed
        /// Deliberately held (a paused Deployment, a suspended Job): it will not progress until someone resumes
        /// it, so waiting ends, without failure.
        case suspended
        /// The status cannot be read (not the shape Kubernetes writes, or a pod phase of `Unknown`): keep waiting,
        /// and let the wait's deadline decide.
        case unknown

        /// "current", "in progress", ...
        public var description: String {
            switch self {
            case .current: return "current"
            case .inProgress: return "in progress"
            case .failed: return "failed"
            case .suspended: return "suspended"
            case .unknown: return "unknown"
            }
        }

        /// The kstatus verdict this corresponds to (`Current`, `InProgress`, `Failed`, `Unknown`), for comparing
        /// with kstatus-based tools. kstatus has no suspended state: it reports a suspended Job as `Current`.
        public var kstatusName: String {
            switch self {
            case .current, .suspended: return "Current"
            case .inProgress: return "InProgress"
            case .failed: return "Failed"
            case .unknown: return "Unknown"
            }
        }

        /// The Argo CD health this corresponds to (`Healthy`, `Progressing`, `Degraded`, `Suspended`, `Unknown`),
        /// for comparing with Argo CD and gitops-engine.
        public var argoName: String {
            switch self {
            case .current: return "Healthy"
            case .inProgress: return "Progressing"
            case .failed: return "Degraded"
            case .suspended: return "Suspended"
            case .unknown: return "Unknown"
            }
        }
    }

    /// Where the object stands.
    public var status: Status
    /// One CamelCase word for why, stable across releases: `LessAvailable`, `PodUnschedulable`, `Installing`.
    public var reason: String
    /// A sentence for people: "waiting for 2/3 replicas to be available".
    public var message: String

    /// A health value from its parts.
    public init(_ status: Status, reason: String, message: String) {
        self.status = status
        self.reason = reason
        self.message = message
    }

    /// Whether waiting on the object can stop: it is current, failed or suspended.
    public var isDone: Bool {
        switch status {
        case .current, .failed, .suspended: return true
        case .inProgress, .unknown: return false
        }
    }

    /// Whether the object got where it was going (current), or was deliberately held there (suspended).
    public var isSuccessful: Bool { status == .current || status == .suspended }

    /// "in progress (LessAvailable): waiting for 2/3 replicas to be available".
    public var description: String { "\(status) (\(reason)): \(message)" }
}

extension Health {
    static func current(_ reason: String, _ message: String) -> Health {
        Health(.current, reason: reason, message: message)
    }
    static func inProgress(_ reason: String, _ message: String) -> Health {
        Health(.inProgress, reason: reason, message: message)
    }
    static func failed(_ reason: String, _ message: String) -> Health {
        Health(.failed, reason: reason, message: message)
    }
    static func suspended(_ reason: String, _ message: String) -> Health {
        Health(.suspended, reason: reason, message: message)
    }
    static func unknown(_ reason: String, _ message: String) -> Health {
        Health(.unknown, reason: reason, message: message)
    }
}
