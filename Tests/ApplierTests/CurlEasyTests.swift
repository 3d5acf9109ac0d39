import Applier
import Foundation
import SyncCore
import TestSupport
import Testing

/// One blocking libcurl easy handle against the loopback HTTPS server.
@Suite struct CurlEasyTests {
    @Test func getsFromALoopbackServerAndReusesTheConnection() async throws {
        let pki = try TestPKI()
        let server = try await LoopbackServer(pki: pki)
        let connection = ConnectionOptions(certificateAuthority: try pki.read(pki.caPath))
        let curl = try CurlEasy()
        let response = try curl.perform(HTTPRequest(url: server.url + "/echo", connection: connection))
        #expect(response.status == 200)
        #expect(try Value(json: response.body)["method"] == "GET")
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.newConnections == 1)

        // The same handle serves a second request on the same connection, and a 404 is a status, not an error.
        let missing = try curl.perform(HTTPRequest(url: server.url + "/nope", connection: connection))
        #expect(missing.status == 404)
        #expect(missing.newConnections == 0)

        // Header names in lowercase; values without the whitespace around them and the line's end.
        let padded = try curl.perform(
            HTTPRequest(url: server.url + "/status/503?retryAfter=%20%207%09%20", connection: connection))
        #expect(padded.status == 503)
        #expect(padded.headers["retry-after"] == "7", "\(padded.headers)")
        #expect(padded.headers["Retry-After"] == nil)
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
