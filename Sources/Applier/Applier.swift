/// # Applier
///
/// Talks to clusters: kubeconfig and credentials, the libcurl transport, discovery, get/list/apply/delete, and
/// later the ordering of a plan, health gates and prune. It never parses Git.
///
/// Layers, bottom up:
/// - ``CurlEasy``, `CurlMulti`, `CurlSlist`: the only owners of libcurl handles (each freed in its `deinit`).
/// - ``HTTPTransport``: one multi handle on one dedicated thread per server; requests bridged to async callers
///   with continuations, a bound on how many run at once, HTTP/2 multiplexing where offered. No retries, no logs.
/// - ``Kubeconfig`` → ``KubeContext``: kubectl's loading and merge rules; credentials as ``SecretValue``s.
/// - ``KubeClient``: credentials per request (token, token file, exec plugin, client certificate), retries with
///   backoff and jitter on connection failures, 429 and 5xx (never other 4xx), discovery, and one file per verb.
///
/// Safety rules: no token, key, password or `Authorization` header in any log line, error or description;
/// insecure TLS only when the kubeconfig says so, with a warning; every request has a connect and a total timeout
/// and every retry loop a bound.
public enum ApplierModule {}
