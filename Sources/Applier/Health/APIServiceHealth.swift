/// APIService (an aggregated API): ready once `Available=True`, i.e. the API server reaches the service behind it;
/// in progress otherwise (e.g. `MissingEndpoints` while its pods start). gitops-engine's rule.
enum APIServiceHealth: HealthRule {
    static func assess(_ object: LiveObject) -> Health {
        guard let available = object.condition("Available") else {
            return .inProgress("NotAvailable", "waiting for the aggregated API to report availability")
        }
        if available.isTrue { return .current("Available", "aggregated API is available") }
        return .inProgress(
            available.reason.isEmpty ? "NotAvailable" : available.reason,
            "waiting for the aggregated API to become available" + detail(": ", available.message))
    }
}
