/// # GitSource
///
/// Reads the config repository with libgit2: clone or open a bare cache, the cheap "has the branch moved?" check,
/// fetch, commits, and the files of a tree at a commit, straight from the object database (no work tree).
/// It knows nothing of YAML or Kubernetes.
public enum GitSourceModule {}
