/// # AgentWebhook
///
/// Judges Git push webhooks for the agent's HTTP endpoint: ``Webhook/verify(headers:body:secret:branch:)`` checks
/// GitHub's HMAC signature or GitLab's token against the shared secret in constant time, then reads the payload's
/// ref. Pure (no I/O, no state), so it is unit-tested and fuzzed on its own; SyncAgent wires it to the router.
public enum AgentWebhookModule {}
