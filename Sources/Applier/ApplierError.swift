/// Everything that can go wrong while talking to a cluster.
public enum ApplierError: Error, CustomStringConvertible, Sendable, Equatable {
    /// libcurl could not complete the transfer (connection refused, TLS, timeout...).
    case transport(url: String, code: Int, message: String)
    /// libcurl refused an option or could not start.
    case curl(function: String, code: Int, message: String)

    public var description: String {
        switch self {
        case .transport(let url, let code, let message):
            return "request to \(url) failed: \(message) (curl error \(code))"
        case .curl(let function, let code, let message):
            return "\(function) failed: \(message) (curl error \(code))"
        }
    }
}
