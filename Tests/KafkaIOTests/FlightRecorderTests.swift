import Foundation
@testable import KafkaIO
import KafkaStateMachines
import Testing

/// The flight recorder on a real connection: a client's session against Tansu (and over
/// TLS) is recorded to files, and the engine replays it offline with the same actions.
@Suite struct FlightRecorderTests {
    static func directory() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kgo-flight-\(UInt64.random(in: 0 ... .max))").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    static func segments(_ path: String) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var i = 1
        while let data = FileManager.default.contents(atPath: RecordingFormat.segmentName(base: path, index: i)) {
            out.append([UInt8](data))
            i += 1
        }
        return out
    }

    /// Runs a small session (metadata, a topic, produce, fetch) with recording on.
    static func session(_ config: KafkaClientConfiguration, rounds: Int = 1) async throws {
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        // ApiVersions, not Metadata: each entry stays small whatever topics the shared test
        // broker holds (Tansu answers a Metadata naming no topics with all of them), so the
        // segment-size bound below does not depend on them.
        for _ in 0 ..< rounds { _ = try await client.request(ApiVersionsRequest(), to: .anyBroker) }
        _ = try await client.request(ApiVersionsRequest(), to: .anyBroker)
        var create = CreateTopicsRequest()
        var topic = CreateTopicsRequest.CreatableTopic()
        topic.name = "flight-\(UInt32.random(in: 0 ... .max))"
        topic.numPartitions = 1
        topic.replicationFactor = 1
        create.topics = [topic]
        create.timeoutMs = 5_000
        _ = try await client.request(create)
        var metadata = MetadataRequest()
        var t = MetadataRequest.MetadataRequestTopic()
        t.name = topic.name
        metadata.topics = [t]
        _ = try await client.request(metadata)
        await client.close()
    }

    @Test(arguments: [false, true])
    func sessionAgainstTansuReplays(_ tls: Bool) async throws {
        let path = Self.directory() + "/session"
        var config: KafkaClientConfiguration
        if tls {
            let (address, ca) = try TestEnvironment.tlsBroker()
            config = TestEnvironment.configuration([address])
            config.tls = try .files(caFile: ca)
        } else {
            config = TestEnvironment.configuration([try TestEnvironment.broker()])
        }
        config.flightRecorder = FlightRecorderConfiguration(path: path)
        try await Self.session(config)
        let segments = Self.segments(path)
        #expect(segments.count == 1)
        let recording = try FlightRecording(segments: segments)
        #expect(recording.endedCleanly)
        #expect(recording.start.seed == 42)
        let report = try RecordingReplay.run(recording)
        #expect(report.ok, "\(report.divergence.map { "\($0)" } ?? "")")
        #expect(report.requests == 4)  // one round, ApiVersions, CreateTopics, Metadata
        #expect(report.failures == 0)
        #expect(report.completions >= 4)
        #expect(report.bytesReceived > 0)
    }

    /// Small segments: the recording spans several files and still replays; with a cap on
    /// the number of segments it stops cleanly and what it holds still replays.
    @Test func rotationAndSizeLimit() async throws {
        let dir = Self.directory()
        var config = TestEnvironment.configuration([try TestEnvironment.broker()])
        var recorder = FlightRecorderConfiguration(path: dir + "/rotating")
        recorder.maxSegmentBytes = 4096
        config.flightRecorder = recorder
        try await Self.session(config, rounds: 40)
        let rotated = Self.segments(dir + "/rotating")
        #expect(rotated.count > 1)
        // A segment closes before the entry that would take it past the limit, so a closed
        // segment stays within it, unless it holds a single entry larger than the limit
        // (an engine-side Metadata answer listing every topic the shared test broker holds
        // passed 6 KB once the suite had made enough topics).
        let entriesUpTo = try (1 ... rotated.count).map { try FlightRecording(segments: Array(rotated.prefix($0))).entries.count }
        let perSegment = zip(entriesUpTo, [0] + entriesUpTo).map { $0 - $1 }
        #expect(zip(rotated, perSegment).dropLast().allSatisfy { $0.count <= 4096 + 64 || $1 == 1 },
                "\(rotated.map(\.count)) bytes, \(perSegment) entries")
        let all = try RecordingReplay.run(try FlightRecording(segments: rotated))
        #expect(all.ok)

        recorder.path = dir + "/capped"
        recorder.maxSegments = 1
        config.flightRecorder = recorder
        try await Self.session(config, rounds: 40)
        let capped = Self.segments(dir + "/capped")
        #expect(capped.count == 1)
        let prefix = try FlightRecording(segments: capped)
        #expect(prefix.endedCleanly)
        #expect(prefix.entries.count < (try FlightRecording(segments: rotated)).entries.count)
        #expect(try RecordingReplay.run(prefix).ok)
    }

    @Test func unwritablePathIsAConfigurationError() throws {
        var config = TestEnvironment.configuration([BrokerAddress(host: "127.0.0.1", port: 1)])
        config.flightRecorder = FlightRecorderConfiguration(path: "/nonexistent-dir/x/recording")
        #expect(throws: KafkaConfigurationError.self) { try KafkaClient(configuration: config) }
        config.flightRecorder = FlightRecorderConfiguration(path: Self.directory() + "/r")
        config.flightRecorder!.maxSegmentBytes = 10
        #expect(throws: KafkaConfigurationError.self) { try KafkaClient(configuration: config) }
    }
}
