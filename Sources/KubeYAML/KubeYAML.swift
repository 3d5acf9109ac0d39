/// # KubeYAML
///
/// Reads YAML into ``SyncCore/Value`` exactly as Kubernetes' own decoder (sigs.k8s.io/yaml, YAML 1.1) does, keeping the
/// file position of every node, and writes values back as YAML that reads back to the same value.
///
/// - ``YAML/load(_:file:options:)`` reads a stream into ``YAMLDocument``s (value, start, ``SourceMap``), or throws the
///   first ``YAMLError`` (`file:line:column: message`); ``YAML/loadCollectingErrors(_:file:options:)`` reports every
///   problem. Scalars resolve by go-yaml v2's rules (`yes`/`on` are true, `0777` is 511, `08` is 8.0, timestamps stay
///   strings, `.inf`/`.nan` are errors), keys become strings, merge keys work, duplicate keys and alias bombs fail
///   (``YAMLLoadOptions/duplicateKeys`` can let the last key win, for server output and fixtures only).
/// - ``SyncCore/Value/yamlString`` writes block YAML, quoting every string that would otherwise read as something else.
/// - libyaml does the parsing through events (one heap-allocated parser per load, owned by one object); nothing is
///   shared between loads, so loads on several threads at once are safe.
public enum KubeYAMLModule {}
