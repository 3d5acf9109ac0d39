/// # Differ
///
/// Turns bytes into ``SyncCore/Resource``s (libyaml, positions kept, Kubernetes YAML rules) and compares values.
public enum DifferModule {}
