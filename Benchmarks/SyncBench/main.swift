// syncbench: benchmark programs. Each subcommand prints figures; the scripts in scripts/ compare them with
// kubectl, git or a bare C loop and print ratios. Never run by tests (timing belongs in benchmarks only).
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    FileHandle.standardError.write(Data("usage: syncbench yaml|git|client ARGS...\n".utf8))
    exit(2)
}
let rest = Array(arguments.dropFirst())
switch command {
case "yaml": runYAMLBenchmark(rest)
case "git": runGitBenchmark(rest)
case "client": await runClientBenchmark(rest)
default:
    FileHandle.standardError.write(Data("syncbench: unknown benchmark \(command)\n".utf8))
    exit(2)
}
