import Applier
import Foundation
import TestSupport
import Testing

/// The libcurl handle against a real HTTP server on loopback (Python's http.server).
@Suite struct CurlEasyTests {
    @Test func getsAFileFromALoopbackServer() async throws {
        let python = try requireTool("python3")
        let root = try TemporaryDirectory()
        try root.write("hello.json", #"{"kind":"Status","code":200}"#)
        let port = try freePort()
        let server = try ChildProcess([python, "-m", "http.server", "\(port)", "--bind", "127.0.0.1"], cwd: root.url)
        defer { server.stop() }
        try await waitUntil(timeout: 15, "http.server on \(port)") { isListening(port: port) }

        let curl = try CurlEasy()
        let response = try curl.perform(HTTPRequest(url: "http://127.0.0.1:\(port)/hello.json"))
        #expect(response.status == 200)
        #expect(response.text == #"{"kind":"Status","code":200}"#)
        #expect(response.headers["content-type"] == "application/json")

        // The same handle serves a second request (connection reuse) and reports a 404 as a status, not an error.
        let missing = try curl.perform(HTTPRequest(url: "http://127.0.0.1:\(port)/nope"))
        #expect(missing.status == 404)
    }

    @Test func refusedConnectionIsATransportError() throws {
        let port = try freePort()  // nothing listens there
        let curl = try CurlEasy()
        #expect {
            try curl.perform(HTTPRequest(url: "http://127.0.0.1:\(port)/", connectTimeout: 2, timeout: 5))
        } throws: { error in
            guard let error = error as? ApplierError, case .transport(_, let code, _) = error else { return false }
            return code == 7  // CURLE_COULDNT_CONNECT
        }
    }
}
