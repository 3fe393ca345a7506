import Foundation
import Testing

/// The `kgo` verbs end to end: the built binary against the test brokers.
@Suite struct KgoCommandTests {
    /// Runs `.build/debug/kgo` (swift test builds it with the tests) and returns its exit
    /// status and combined output.
    static func kgo(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let binary = root.appendingPathComponent(".build/debug/kgo")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            Issue.record("kgo is not built at \(binary.path)")
            throw CocoaError(.fileNoSuchFile)
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func metadataPrintsTheBroker() throws {
        let broker = try TestEnvironment.variable("KGO_TEST_BROKER")
        let (status, output) = try Self.kgo(["metadata", "-b", broker])
        #expect(status == 0, "\(output)")
        #expect(output.contains(broker), "\(output)")
    }

    @Test func apiVersionsOverTLS() throws {
        let broker = try TestEnvironment.variable("KGO_TEST_TLS_BROKER")
        let ca = try TestEnvironment.variable("KGO_TEST_TLS_CA")
        let (status, output) = try Self.kgo(["api-versions", "-b", broker, "--tls-ca", ca])
        #expect(status == 0, "\(output)")
        #expect(output.contains("Metadata (3)"), "\(output)")
    }

    @Test func untrustedCertificateExitsNonZeroWithTheReason() throws {
        let broker = try TestEnvironment.variable("KGO_TEST_TLS_BROKER")
        let (status, output) = try Self.kgo(["metadata", "-b", broker, "--tls", "--timeout", "1"])
        #expect(status != 0)
        // The typed reason, at once: a certificate failure is not retried.
        #expect(output.contains("tls-certificate:"), "\(output)")
        #expect(!output.contains("gave up after"), "\(output)")
    }

    @Test func malformedSaslOptionIsAUsageError() throws {
        let (status, output) = try Self.kgo(["metadata", "-b", "127.0.0.1:1", "--sasl", "PLAIN-user"])
        #expect(status != 0)
        #expect(output.contains("MECHANISM:USER:PASSWORD"), "\(output)")
    }

    /// `--record` then `kgo sim replay`: the recorded session replays offline.
    @Test func recordThenReplay() throws {
        let broker = try TestEnvironment.variable("KGO_TEST_BROKER")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kgo-record-\(UInt64.random(in: 0 ... .max))").path
        let (status, output) = try Self.kgo(["metadata", "-b", broker, "--record", path])
        #expect(status == 0, "\(output)")
        let (replayStatus, replay) = try Self.kgo(["sim", "replay", path + "-000001.kgorec"])
        #expect(replayStatus == 0, "\(replay)")
        #expect(replay.contains("ok: the engine reproduced every recorded action"), "\(replay)")
        let (missing, message) = try Self.kgo(["sim", "replay", path + "-nothing"])
        #expect(missing != 0)
        #expect(message.contains("no recording"), "\(message)")
    }

    /// `kgo play`: the README's main job runs end to end and reports every check passing.
    @Test func playRunsTheTour() throws {
        let (status, output) = try Self.kgo(["play", "--records", "3000"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("moved the leader of play/0"), "\(output)")
        #expect(output.contains("restarted broker 2"), "\(output)")
        #expect(output.contains("every acknowledged record was read back: ok"), "\(output)")
        #expect(output.hasSuffix("ok\n"), "\(output)")
    }
}
