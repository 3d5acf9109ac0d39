import SyncCore
import Testing

/// Text syncagent shows but did not write (a plugin's stderr, a URL from the configuration) loses its secrets.
struct RedactionTests {
    @Test(arguments: [
        ("https://user:pass@host/x", "https://user:***@host/x"),
        ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),
        ("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnMTIz here", "token *** here"),
        ("key AKIAIOSFODNN7EXAMPLE1234 used", "key *** used"),
        (
            "ServiceError: NotAuthenticated (region us-phoenix-1)",
            "ServiceError: NotAuthenticated (region us-phoenix-1)"
        ),
        ("/home/dana/.oci/config_profile_default_settings", "/home/dana/.oci/config_profile_default_settings"),
    ])
    func tokenShapedWordsAreScrubbed(text: String, expected: String) {
        #expect(Redaction.scrubTokens(text) == expected)
    }

    @Test func aRedactedURLPrintsWithoutItsPassword() {
        let url = RedactedURL("http://admin:hunter2@prometheus:9090")
        #expect("\(url)" == "http://admin:***@prometheus:9090")
        #expect(String(describing: [url]).contains("hunter2") == false)
        #expect(url.unredacted.contains("hunter2"))
        #expect(url.replacing("{region}", with: "r").unredacted == url.unredacted)
    }
}
