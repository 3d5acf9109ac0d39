/// # SyncCore
///
/// The small shared vocabulary every other target speaks: ``Value`` (a Kubernetes object's data, JSON's model with
/// mapping order kept), ``ObjectRef`` and ``ObjectKey`` (identity), ``Resource`` (an object and where it came from),
/// ``Revision`` (a commit being synced) and ``SourceLocation``. No I/O, no C libraries: GitSource, Differ and
/// Applier depend on this and never on each other.
public enum SyncCoreModule {}
