/// # Applier
///
/// Talks to clusters: kubeconfig and credentials, the libcurl transport, discovery, apply, gates, prune.
/// It never parses Git.
public enum ApplierModule {}
