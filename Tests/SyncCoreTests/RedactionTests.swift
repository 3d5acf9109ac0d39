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

    @Test(arguments: [
        ("https://user:pass@host/x", "https://user:***@host/x"),
        ("Authorization: Bearer abc.def done", "Authorization: Bearer *** done"),
        ("Authorization: Basic ZGVwbG95Omh1bnRlcjI=", "Authorization: Basic ***"),
        ("GET /api?access_token=s3cr3t&limit=5", "GET /api?access_token=***&limit=5"),
        (#"{"password": "hunter2", "user": "dana"}"#, #"{"password": "***", "user": "dana"}"#),
        ("X-Gitlab-Token: glpat-abc", "X-Gitlab-Token: ***"),
        ("jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnMTIz here", "jwt *** here"),
        ("cloned with ghp_16C7e42F292c6912E7710c838347Ae178B4a", "cloned with ***"),
        ("key AKIAIOSFODNN7EXAMPLE used", "key *** used"),
        // What names objects and revisions stays readable (scrubTokens would hide these).
        (
            "networking.istio.io/v1/VirtualService bookinfo/reviews-canary-2024: apply failed",
            "networking.istio.io/v1/VirtualService bookinfo/reviews-canary-2024: apply failed"
        ),
        (
            "revision 0123456789abcdef0123456789abcdef01234567 failed",
            "revision 0123456789abcdef0123456789abcdef01234567 failed"
        ),
        (
            "basic auth failed; the token file /run/token is empty",
            "basic auth failed; the token file /run/token is empty"
        ),
        ("cannot read /run/token: permission denied", "cannot read /run/token: permission denied"),
    ])
    func credentialsAreScrubbedAndNamesKept(text: String, expected: String) {
        #expect(Redaction.scrubCredentials(text) == expected)
    }

    @Test func aRedactedURLPrintsWithoutItsPassword() {
        let url = RedactedURL("http://admin:hunter2@prometheus:9090")
        #expect("\(url)" == "http://admin:***@prometheus:9090")
        #expect(String(describing: [url]).contains("hunter2") == false)
        #expect(url.unredacted.contains("hunter2"))
        #expect(url.replacing("{region}", with: "r").unredacted == url.unredacted)
    }
}
