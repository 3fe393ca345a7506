import Foundation
import TestSupport
import Testing

/// The `kgo-examples` executable (Examples/) end to end: built with the package, run with no
/// broker, so it starts its own FakeCluster and every example runs against it.
@Suite struct ExamplesTests {
    /// Runs the `kgo-examples` built with the tests and returns its exit status and
    /// combined output; killed after `timeLimit` so a hang fails instead of blocking.
    static func examples(_ arguments: [String], timeLimit: Duration = .seconds(120)) async throws -> (status: Int32, output: String) {
        guard let binary = BuiltExecutable.url("kgo-examples") else {
            Issue.record("kgo-examples is not built beside the tests, in .build/debug or in .build/release")
            throw CocoaError(.fileNoSuchFile)
        }
        let seconds = Double(timeLimit.components.seconds)
        return try await offPool {
            let process = try ChildProcess(binary.path, arguments, standardInput: .null, standardOutput: .pipe,
                                           standardError: .mergeIntoStandardOutput)
            let killer = DispatchWorkItem { process.signal(SIGKILL) }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: killer)
            let data = process.standardOutput!.readDataToEndOfFile()
            process.waitUntilExit()
            killer.cancel()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
    }

    @Test func everyExampleRunsAgainstAnInProcessFakeCluster() async throws {
        let (status, output) = try await Self.examples([])
        #expect(status == 0, "\(output)")
        // The producer's ten acknowledgements, the consumer reading them back, the exactly-once
        // copy and the fault-injection test, in order.
        let expected = ["FakeCluster listening on 127.0.0.1:", "== producer", "demo/", "== consumer", "demo/",
                        "hello 9", "== transactional-copy", "committed a transaction of",
                        "copied 10 records; read_committed reads 10 from out", "== fake-cluster",
                        "delivered to orders/0 at offset 0 despite the faults; high watermark 1", "all examples ran"]
        var rest = Substring(output)
        for line in expected {
            guard let r = rest.range(of: line) else {
                Issue.record("missing, in order: \(line)\n\(output)")
                return
            }
            rest = rest[r.upperBound...]
        }
        #expect(output.components(separatedBy: " offset ").count - 1 >= 10, "ten records produced")
    }

    @Test func aBadArgumentPrintsTheUsage() async throws {
        let (status, output) = try await Self.examples(["no-such-example"])
        #expect(status == 64)
        #expect(output.contains("usage: kgo-examples"))
    }
}
