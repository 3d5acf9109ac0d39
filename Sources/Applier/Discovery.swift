import Foundation
import Synchronization
import SyncCore

/// One resource a cluster serves, from discovery: what a kind is called in URLs and whether it is namespaced.
public struct APIResourceInfo: Sendable, Hashable, CustomStringConvertible {
    public var gvk: GroupVersionKind
    /// The plural resource name used in paths, e.g. `virtualservices`.
    public var name: String
    public var namespaced: Bool
    /// `get`, `list`, `patch`, ...
    public var verbs: [String]

    public init(gvk: GroupVersionKind, name: String, namespaced: Bool, verbs: [String] = []) {
        self.gvk = gvk
        self.name = name
        self.namespaced = namespaced
        self.verbs = verbs
    }

    /// `/api/v1` or `/apis/apps/v1`.
    var groupVersionPath: String {
        gvk.group.isEmpty ? "/api/\(gvk.version)" : "/apis/\(gvk.group)/\(gvk.version)"
    }

    /// The path of the collection (in `namespace` when namespaced and given) or of one object.
    func path(namespace: String?, name objectName: String? = nil) -> String {
        var path = groupVersionPath
        if namespaced, let namespace, !namespace.isEmpty { path += "/namespaces/\(PathEncoding.segment(namespace))" }
        path += "/\(name)"
        if let objectName { path += "/\(PathEncoding.segment(objectName))" }
        return path
    }

    /// "deployments.apps (namespaced)".
    public var description: String {
        let resource = gvk.group.isEmpty ? name : "\(name).\(gvk.group)"
        return "\(resource) (\(namespaced ? "namespaced" : "cluster-scoped"))"
    }
}

/// The kinds each group/version serves, fetched per group/version on first use and fetched again on a miss (so a
/// kind whose CRD was applied a moment ago is found). Concurrent lookups of one group/version share one fetch.
final class DiscoveryCache: Sendable {
    /// Kinds by name, or nil when the server does not serve the group/version at all.
    typealias Kinds = [String: APIResourceInfo]?
    typealias Fetch = Task<Result<Kinds, ApplierError>, Never>

    private struct State {
        var groupVersions: [String: Kinds] = [:]
        var fetching: [String: Fetch] = [:]
    }

    private let state = Mutex(State())

    /// The cached entry for a kind, when its group/version was fetched and has it.
    func cached(_ gvk: GroupVersionKind) -> APIResourceInfo? {
        state.withLock { $0.groupVersions[gvk.apiVersion]??[gvk.kind] }
    }

    /// Fetches a group/version's kinds with `load` (or joins a fetch in progress) and caches them.
    func refresh(_ apiVersion: String, load: @escaping @Sendable () async -> Result<Kinds, ApplierError>)
        async throws(ApplierError) -> Kinds
    {
        let fetch = state.withLock { state -> Fetch in
            if let running = state.fetching[apiVersion] { return running }
            let task = Fetch { await load() }
            state.fetching[apiVersion] = task
            return task
        }
        let result = await fetch.value
        state.withLock { state in
            guard state.fetching[apiVersion] == fetch else { return }
            state.fetching[apiVersion] = nil
            if case .success(let kinds) = result { state.groupVersions[apiVersion] = kinds }
        }
        return try result.get()
    }

    /// Forgets everything.
    func clear() {
        state.withLock { $0.groupVersions.removeAll() }
    }
}

extension KubeClient {
    /// How the cluster serves a kind: its resource name and scope. Cached; on a miss the kind's group/version is
    /// fetched again, and a kind still missing is `.unknownKind`.
    public func resource(for gvk: GroupVersionKind) async throws(ApplierError) -> APIResourceInfo {
        if let found = discovery.cached(gvk) { return found }
        let kinds = try await discovery.refresh(gvk.apiVersion) { [self] in await fetchKinds(gvk) }
        guard let found = kinds?[gvk.kind] else { throw .unknownKind(gvk, server: context.server) }
        return found
    }

    /// Forgets what discovery learnt, e.g. after CRDs were deleted.
    /// The kinds among `gvks` the cluster does not serve (discovery answers that it has no such kind); throws for
    /// any other failure (the cluster cannot be asked).
    public func unservedKinds(_ gvks: Set<GroupVersionKind>) async throws(ApplierError) -> Set<GroupVersionKind> {
        var unserved: Set<GroupVersionKind> = []
        for gvk in gvks {
            do throws(ApplierError) {
                _ = try await resource(for: gvk)
            } catch {
                guard case .unknownKind = error else { throw error }
                unserved.insert(gvk)
            }
        }
        return unserved
    }

    public func invalidateDiscovery() {
        discovery.clear()
    }

    /// One group/version's `APIResourceList`; nil when the server does not serve it (404).
    private func fetchKinds(_ gvk: GroupVersionKind) async -> Result<DiscoveryCache.Kinds, ApplierError> {
        let probe = APIResourceInfo(gvk: gvk, name: "", namespaced: false)
        let path = probe.groupVersionPath
        let operation = "discover \(gvk.apiVersion)"
        do {
            let response = try await perform(
                APIRequest(method: "GET", path: path, body: nil, contentType: nil, operation: operation))
            let list = try decode(response, operation: operation)
            var kinds: [String: APIResourceInfo] = [:]
            for entry in list["resources"]?.arrayValue ?? [] {
                guard let name = entry["name"]?.stringValue, !name.contains("/"),
                    let kind = entry["kind"]?.stringValue, kinds[kind] == nil
                else { continue }
                kinds[kind] = APIResourceInfo(
                    gvk: GroupVersionKind(group: gvk.group, version: gvk.version, kind: kind), name: name,
                    namespaced: entry["namespaced"]?.boolValue ?? false,
                    verbs: (entry["verbs"]?.arrayValue ?? []).compactMap(\.stringValue))
            }
            return .success(kinds)
        } catch let error {
            if error.status?.code == 404 { return .success(nil) }
            return .failure(error)
        }
    }
}

/// Percent-encoding for path segments and query values.
enum PathEncoding {
    private static let unreserved = CharacterSet(
        charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// A path segment (a name or namespace).
    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// `?a=1&b=2`, or "" when there is nothing; values encoded.
    static func query(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\($0.0)=\(segment($0.1))" }.joined(separator: "&")
    }
}
