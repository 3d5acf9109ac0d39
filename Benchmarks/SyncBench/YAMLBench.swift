func runYAMLBenchmark(_ arguments: [String]) { fatalError("yaml benchmark not written yet") }
