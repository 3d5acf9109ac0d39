/// # KubeYAML
///
/// Reads YAML into ``SyncCore/Value`` exactly as Kubernetes' own decoder (sigs.k8s.io/yaml, YAML 1.1) does, keeping the
/// file position of every node, and writes values back as YAML that reads back to the same value.
public enum KubeYAMLModule {}
