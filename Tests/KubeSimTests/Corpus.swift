import Foundation
import TestSupport

// The kubesim fixture itself is TestSupport's `KubeSimCluster`, shared with the Applier and SyncAgent suites.

/// The shared corpus's Istio CRDs and Bookinfo samples.
let istioCRDs = sharedRoot.appendingPathComponent("corpus/istio-crds/crd-all.gen.yaml").path
let bookinfo = sharedRoot.appendingPathComponent("corpus/istio-bookinfo").path
