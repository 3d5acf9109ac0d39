import Differ
import Foundation
import SyncCore
import TestSupport

/// The shared corpus folder.
let corpusRoot = sharedRoot.appendingPathComponent("corpus")

/// A corpus file as render takes it, its path relative to the corpus.
func corpusFile(_ path: String) throws -> ManifestFile {
    ManifestFile(path: path, bytes: Array(try Data(contentsOf: corpusRoot.appendingPathComponent(path))))
}

/// One Bookinfo sample and the kinds INDEX.md lists for it (`Service×4` expanded), sorted.
struct BookinfoSample: Sendable, CustomTestStringConvertible {
    var path: String
    var kinds: [String]
    var testDescription: String { path }
}

/// Every Bookinfo manifest row of the corpus INDEX.md: `| \`istio-bookinfo/…yaml\` | Service×4, Deployment | …`.
let bookinfoSamples: [BookinfoSample] = {
    guard let index = try? String(contentsOf: corpusRoot.appendingPathComponent("INDEX.md"), encoding: .utf8) else {
        return []
    }
    var samples: [BookinfoSample] = []
    for line in index.split(separator: "\n") where line.hasPrefix("| `istio-bookinfo/") {
        let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        guard cells.count >= 2, cells[0].hasSuffix(".yaml`") else { continue }
        var kinds: [String] = []
        for item in cells[1].split(separator: ",") {
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: "×")
            let count = parts.count > 1 ? Int(parts[1]) ?? 1 : 1
            kinds += Array(repeating: String(parts[0]), count: count)
        }
        samples.append(BookinfoSample(path: String(cells[0].dropFirst().dropLast()), kinds: kinds.sorted()))
    }
    return samples
}()

import Testing
