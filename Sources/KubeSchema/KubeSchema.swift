/// # KubeSchema
///
/// What Kubernetes knows about the shape of objects, as pure values: structural schemas of the built-in kinds and of
/// CRDs (list types, list-map keys, strategic-merge keys), fieldsV1 field sets, and managedFields entries.
/// Differ uses it to compare keyed lists and attribute drift to managers; kubesim uses it for server-side apply.
public enum KubeSchemaModule {}
