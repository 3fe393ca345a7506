import FakeCluster
import FakeClusterTCP
import KafkaIO
import Logging
import NIOConcurrencyHelpers
import Testing

/// Every log line of a client carries its client id (and a group consumer's its group;
/// connection lines their broker) as swift-log metadata — captured by a test LogHandler
/// over a real session against FakeCluster's TCP listener.
@Suite struct LogMetadataTests {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    /// Keeps every line, with the logger's metadata merged under the line's own.
    struct CapturingLogHandler: LogHandler {
        let lines: NIOLockedValueBox<[Line]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            let merged = self.metadata.merging(metadata ?? [:]) { _, line in line }
            lines.withLockedValue { $0.append(Line(level: level, message: message.description, metadata: merged)) }
        }
    }

    static func capture() -> (Logger, NIOLockedValueBox<[Line]>) {
        let lines = NIOLockedValueBox<[Line]>([])
        var logger = Logger(label: "kgo-log-test") { _ in CapturingLogHandler(lines: lines) }
        logger.logLevel = .trace
        return (logger, lines)
    }

    @Test func everyLineOfAClientAndAGroupConsumerNamesThem() async throws {
        let server = try ServiceLifecycleTests.server()
        defer { try? server.shutdown() }
        var config = ConsumerCancellationTests.configuration(server)
        config.clientId = "billing-7"
        let (logger, lines) = Self.capture()

        let client = try KafkaClient(configuration: config, logger: logger)
        _ = try await client.produce(KafkaRecord(topic: "t", value: [1]))
        let consumer = try KafkaGroupConsumer(configuration: config, group: GroupConfiguration(groupId: "ledger", topics: ["t"]), logger: logger)
        consumer.join()
        var received = 0
        let clock = ContinuousClock()
        let start = clock.now
        while received == 0, clock.now - start < .seconds(20) { received += await consumer.poll(timeout: .seconds(1)).recordCount }
        #expect(received == 1)
        await consumer.leave()
        await client.close()

        let all = lines.withLockedValue { $0 }
        // The session logs at least: dialing, connected, joined group, closing, closed.
        #expect(all.count >= 5, "\(all.map(\.message))")
        for line in all {
            #expect(line.metadata[KafkaLogMetadata.clientId] == "billing-7", "\(line.message) \(line.metadata)")
        }
        let joined = all.filter { $0.message == "joined group" }
        #expect(joined.count == 1)
        #expect(joined.allSatisfy { $0.metadata[KafkaLogMetadata.group] == "ledger" })
        let connections = all.filter { ["dialing", "connected"].contains($0.message) }
        #expect(!connections.isEmpty)
        for line in connections {
            #expect(line.metadata[KafkaLogMetadata.broker] != nil && line.metadata[KafkaLogMetadata.broker] != "?", "\(line.message) \(line.metadata)")
        }
    }
}
