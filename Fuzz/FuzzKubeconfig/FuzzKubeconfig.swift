import Applier
import FuzzSupport
import SyncCore

/// libFuzzer target for kubeconfig parsing: any bytes parse into a `Kubeconfig` or an `ApplierError`, never a crash
/// or a hang. A parsed configuration is also viewed (`kubectl config view`), merged with itself, and each context
/// resolved, with every file path removed first so that nothing is read from disk.
@main
enum FuzzKubeconfig {
    static func main() { FuzzDriver.main(fuzzOne) }
}

private func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    let config: Kubeconfig
    do {
        config = try Kubeconfig(bytes: bytes, file: "/fuzz/kubeconfig")
    } catch {
        _ = error.description
        return 0
    }
    _ = config.view.jsonString
    var offline = config.merging(config)
    for name in offline.clusters.keys { offline.clusters[name]?.certificateAuthority = nil }
    for name in offline.users.keys {
        offline.users[name]?.clientCertificate = nil
        offline.users[name]?.clientKey = nil
    }
    for name in [nil] + offline.contexts.keys.sorted().prefix(16).map(Optional.some) {
        do {
            _ = try offline.resolve(context: name).description
        } catch {
            _ = error.description
        }
    }
    return 0
}
