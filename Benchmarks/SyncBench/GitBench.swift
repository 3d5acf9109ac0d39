func runGitBenchmark(_ arguments: [String]) { fatalError("git benchmark not written yet") }
