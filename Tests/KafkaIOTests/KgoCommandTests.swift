import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import KafkaStateMachines
import TestSupport
import Testing

/// The `kgo` verbs end to end: the built binary against the test brokers.
@Suite struct KgoCommandTests {
    /// Runs the `kgo` that swift test built with the tests and returns its exit
    /// status and combined output.
    /// `unsetting` names environment variables the child must not inherit; a child still
    /// running after `timeLimit` is killed (SIGKILL), so a run that never ends fails the test
    /// instead of hanging it.
    static func kgo(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
                    unsetting: [String] = [], timeLimit: Duration? = nil) async throws -> (status: Int32, output: String) {
        let result = try await offPool {
            try kgoBlocking(arguments, stdin: stdin, environment: environment, unsetting: unsetting, timeLimit: timeLimit)
        }
        return (result.status, result.output)
    }

    struct KgoRun: Sendable {
        var status: Int32
        var output: String
    }

    private static func kgoBlocking(_ arguments: [String], stdin: String?, environment: [String: String],
                                    unsetting: [String], timeLimit: Duration?) throws -> KgoRun {
        guard let binary = BuiltExecutable.url("kgo") else {
            Issue.record("kgo is not built beside the tests, in .build/debug or in .build/release")
            throw CocoaError(.fileNoSuchFile)
        }
        var env: [String: String]? = nil
        if !environment.isEmpty || !unsetting.isEmpty {
            env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            for name in unsetting { env![name] = nil }
        }
        let process = try ChildProcess(binary.path, arguments, environment: env, standardInput: .pipe,
                                       standardOutput: .pipe, standardError: .mergeIntoStandardOutput)
        // `signal` never reaches a reaped child, so its pid is never signalled after reuse.
        var killer: DispatchWorkItem? = nil
        if let timeLimit {
            let seconds = Double(timeLimit.components.seconds) + Double(timeLimit.components.attoseconds) / 1e18
            let item = DispatchWorkItem { process.signal(SIGKILL) }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: item)
            killer = item
        }
        // A writer thread, so a large input cannot block on a full pipe while nothing reads the output.
        let bytes = Data((stdin ?? "").utf8)
        let input = process.standardInput!
        Thread.detachNewThread {
            input.write(bytes)
            try? input.close()
        }
        let data = process.standardOutput!.readDataToEndOfFile()
        process.waitUntilExit()
        killer?.cancel()
        return KgoRun(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    @Test func metadataPrintsTheBroker() async throws {
        let broker = try TestEnvironment.variable("KGO_TEST_BROKER")
        let (status, output) = try await Self.kgo(["metadata", "-b", broker])
        #expect(status == 0, "\(output)")
        #expect(output.contains(broker), "\(output)")
    }

    @Test func apiVersionsOverTLS() async throws {
        let broker = try TestEnvironment.variable("KGO_TEST_TLS_BROKER")
        let ca = try TestEnvironment.variable("KGO_TEST_TLS_CA")
        let (status, output) = try await Self.kgo(["api-versions", "-b", broker, "--tls-ca", ca])
        #expect(status == 0, "\(output)")
        #expect(output.contains("Metadata (3)"), "\(output)")
    }

    @Test func untrustedCertificateExitsNonZeroWithTheReason() async throws {
        let broker = try TestEnvironment.variable("KGO_TEST_TLS_BROKER")
        let (status, output) = try await Self.kgo(["metadata", "-b", broker, "--tls", "--timeout", "1"])
        #expect(status != 0)
        // The typed reason, at once: a certificate failure is not retried.
        #expect(output.contains("tls-certificate:"), "\(output)")
        #expect(!output.contains("gave up after"), "\(output)")
    }

    @Test func malformedSaslOptionIsAUsageError() async throws {
        let (status, output) = try await Self.kgo(["metadata", "-b", "127.0.0.1:1", "--sasl", "PLAIN-user"])
        #expect(status == 64, "\(output)")
        #expect(output.contains("MECHANISM:USER:PASSWORD"), "\(output)")
    }

    /// `--record` then `kgo sim replay`: the recorded session replays offline.
    @Test func recordThenReplay() async throws {
        let broker = try TestEnvironment.variable("KGO_TEST_BROKER")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kgo-record-\(UInt64.random(in: 0 ... .max))").path
        let (status, output) = try await Self.kgo(["metadata", "-b", broker, "--record", path])
        #expect(status == 0, "\(output)")
        let (replayStatus, replay) = try await Self.kgo(["sim", "replay", path + "-000001.kgorec"])
        #expect(replayStatus == 0, "\(replay)")
        #expect(replay.contains("ok: the engine reproduced every recorded action"), "\(replay)")
        let (missing, message) = try await Self.kgo(["sim", "replay", path + "-nothing"])
        #expect(missing != 0)
        #expect(message.contains("no recording"), "\(message)")
    }

    /// `kgo produce --transactional-id`: all of standard input is one transaction, committed;
    /// a read_committed reader sees every line once (keyed over three partitions, each in
    /// input order), and nothing else.
    @Test func produceWithTransactionalIdCommitsTheInputAsOneTransaction() async throws {
        let server = try TransactionalProducerTests.server()
        defer { try? server.shutdown() }
        let input = (0 ..< 30).map { "k\($0):v\($0)\n" }.joined()
        let (status, output) = try await Self.kgo(["produce", "-b", Self.bootstrap(server), "-t", TransactionalProducerTests.topic, "-K", ":",
                                             "--transactional-id", "cli-commit"], stdin: input)
        #expect(status == 0, "\(output)")
        #expect(output.contains("committed one transaction of 30 records to txn-out"), "\(output)")
        let read = try await TransactionalProducerTests.readAll(server, isolation: .readCommitted, expected: 30)
        #expect(read.sorted() == (0 ..< 30).map { "v\($0)" }.sorted(), "\(read)")
        // Per partition in input order: each value's number grows along the order read.
        var last: [String: Int] = [:]
        for v in read {
            let n = Int(v.dropFirst())!
            let p = Self.partitionOf(key: "k\(n)")
            #expect((last[p] ?? -1) < n, "\(v) after \(last[p] ?? -1) on partition \(p)")
            last[p] = n
        }
    }

    /// A record that fails (the broker refuses partition 1's batch with INVALID_RECORD, not
    /// retried; or a line too large for a batch, refused at the call) aborts the transaction:
    /// kgo exits non-zero saying so and how many records were written, read_committed sees
    /// none of them, and read_uncommitted sees exactly the written ones. A commit that fails
    /// (EndTxn refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED: fatal, so the abort cannot
    /// be sent either and the coordinator keeps the transaction open until it times out)
    /// exits non-zero too, with every record written and none readable read_committed.
    @Test(arguments: ["broker", "too-large", "commit"])
    func produceWithTransactionalIdAbortsWhenARecordFails(_ failure: String) async throws {
        let server = try TransactionalProducerTests.server()
        defer { try? server.shutdown() }
        var lines = (0 ..< 30).map { "k\($0):v\($0)" }
        var extra: [String] = []
        if failure == "broker" {
            try await server.withCluster { c, _ in
                c.pushError(.produce, .invalidRecord, partition: TopicPartition(TransactionalProducerTests.topic, 1), count: 5)
                return ((), [])
            }.get()
        } else if failure == "too-large" {
            lines.insert("k15:" + String(repeating: "x", count: 3000), at: 15)
            extra = ["--batch-bytes", "2000"]
        } else {
            try await server.withCluster { c, _ in
                c.pushError(.endTxn, .transactionalIdAuthorizationFailed, count: 1)
                return ((), [])
            }.get()
        }
        let (status, output) = try await Self.kgo(["produce", "-b", Self.bootstrap(server), "-t", TransactionalProducerTests.topic, "-K", ":",
                                             "--transactional-id", "cli-abort-\(failure)"] + extra,
                                            stdin: lines.map { $0 + "\n" }.joined())
        #expect(status != 0, "\(output)")
        let reason = ["broker": "INVALID_RECORD", "too-large": "exceeds the maximum batch size",
                      "commit": "the commit failed: transactional producer failed: broker error TRANSACTIONAL_ID_AUTHORIZATION_FAILED"]
        #expect(output.contains(reason[failure]!), "\(output)")
        #expect(output.contains(failure == "commit" ? "transaction not aborted by us" : "transaction aborted;"), "\(output)")
        #expect(output.contains("none is committed"), "\(output)")
        let match = output.firstMatch(of: /(\d+) of (\d+) records were written/)
        let written = try #require(match.map { Int($0.1)! }, "\(output)")
        #expect(match.map { Int($0.2)! } == lines.count)
        if failure == "commit" { #expect(written == lines.count) } else { #expect(written < lines.count) }

        let committed = try await TransactionalProducerTests.readAll(server, isolation: .readCommitted, expected: 0)
        #expect(committed.isEmpty, "\(committed)")
        let everything = try await TransactionalProducerTests.readAll(server, isolation: .readUncommitted, expected: written)
        #expect(everything.count == written, "\(everything)")
    }

    /// `--broker-version` for a broker without ApiVersions (an emulated 0.8.2, which closes
    /// the connection on it): produce and consume work, with gzip; a name that is no release
    /// is refused.
    @Test func brokerVersionTalksToA0_8Broker() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], release: KafkaRelease(0, 8, 2),
                                                                   topics: [.init(name: "old", partitions: 1)]))
        defer { try? server.shutdown() }
        let old = ["-b", Self.bootstrap(server), "--broker-version", "0.8.2"]
        let lines = (0 ..< 10).map { "line-\($0)" }
        let produced = try await Self.kgo(["produce", "-t", "old", "-z", "gzip"] + old, stdin: lines.joined(separator: "\n") + "\n")
        #expect(produced.status == 0, "\(produced.output)")
        let consumed = try await Self.kgo(["consume", "-t", "old", "-o", "beginning", "-e"] + old)
        #expect(consumed.status == 0, "\(consumed.output)")
        #expect(consumed.output.split(separator: "\n").map(String.init) == lines, "\(consumed.output)")
        let bad = try await Self.kgo(["metadata", "--broker-version", "0.7.5"] + old.prefix(2))
        #expect(bad.status != 0 && bad.output.contains("not a Kafka release"), "\(bad.output)")
        // Without --broker-version the broker closes on ApiVersions: one line saying so and what to do.
        let unnamed = try await Self.kgo(["metadata", "--timeout", "3"] + old.prefix(2))
        #expect(unnamed.status == 1 && unnamed.output.contains("in answer to ApiVersions, as brokers before Kafka 0.10 do")
                    && unnamed.output.contains("--broker-version"), "\(unnamed.output)")
    }

    static func bootstrap(_ server: FakeClusterServer) -> String {
        server.brokers.map { "\($0.host):\($0.port)" }.joined(separator: ",")
    }

    /// The partition of a key among txn-out's three (murmur2, as the default partitioner).
    static func partitionOf(key: String) -> String {
        "\(Int(Murmur2.hash(Array(key.utf8)) & 0x7fff_ffff) % 3)"
    }

    /// `kgo play`: the README's main job runs end to end and reports every check passing.
    @Test func playRunsTheTour() async throws {
        let (status, output) = try await Self.kgo(["play", "--records", "3000"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("moved the leader of play/0"), "\(output)")
        #expect(output.contains("restarted broker 2"), "\(output)")
        #expect(output.contains("every acknowledged record was read back: ok"), "\(output)")
        #expect(output.hasSuffix("ok\n"), "\(output)")
    }
}
