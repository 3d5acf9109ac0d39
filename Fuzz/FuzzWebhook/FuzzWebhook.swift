import AgentWebhook
import FuzzSupport

/// libFuzzer target for webhook verification: any delivery is judged (push, ignored or refused), never a crash.
///
/// An input is a delivery framed as HTTP frames it: header lines `name: value` (ending in CRLF or LF) up to the first empty line, then the
/// body. The secret is `fuzz-secret` and the tracked branch `main`. A signature header whose value is `sign` is
/// replaced by the body's true signature, so that inputs get past the HMAC check to the payload.
@main
enum FuzzWebhook {
    static func main() { FuzzDriver.main(fuzzOne) }
}

private let secret = Array("fuzz-secret".utf8)

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    var headers: [String: String] = [:]
    var index = 0
    while index < bytes.count {
        let end = bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        var line = String(decoding: bytes[index..<end], as: UTF8.self)
        index = min(end + 1, bytes.count)
        if line.hasSuffix("\r") { line.removeLast() }
        if line.isEmpty { break }
        guard let colon = line.firstIndex(of: ":") else { continue }
        let name = line[..<colon].lowercased()
        headers[name] = String(line[line.index(after: colon)...].drop { $0 == " " })
    }
    let body = Array(bytes[index...])
    if headers["x-hub-signature-256"] == "sign" {
        headers["x-hub-signature-256"] = Webhook.signature(body: body, secret: secret)
    }
    let verdict = Webhook.verify(headers: headers, body: body, secret: secret, branch: "main")
    if case .push(let ref, _) = verdict { precondition(ref == "refs/heads/main", "a push to \(ref) accepted") }
    return 0
}
