import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers
import Testing

/// The engine's decisions reach the log at their levels, with the client id and the
/// broker or partition as metadata (EngineDriver+Decisions.swift): each made to happen on
/// FakeCluster's TCP listener, and read back through a capturing LogHandler.
@Suite struct DecisionLogTests {
    typealias Line = LogMetadataTests.Line
    static let tp = TopicPartition("t", 0)

    static func server() throws -> FakeClusterServer {
        try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0), .init(nodeId: 2, port: 0)],
                                                      topics: [.init(name: "t", partitions: 1, replicationFactor: 2)]))
    }

    static func client(_ server: FakeClusterServer, level: Logger.Level = .trace,
                       _ change: (inout KafkaClientConfiguration) -> Void = { _ in }) throws -> (KafkaClient, NIOLockedValueBox<[Line]>) {
        var config = ConsumerCancellationTests.configuration(server)
        config.clientId = "decider"
        change(&config)
        var (logger, lines) = LogMetadataTests.capture()
        logger.logLevel = level
        return (try KafkaClient(configuration: config, logger: logger), lines)
    }

    /// Polls until a line with `message` is logged (or 15 s pass); the lines with it.
    static func awaitLine(_ message: String, _ lines: NIOLockedValueBox<[Line]>, polling client: KafkaClient) async -> [Line] {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < .seconds(15) {
            let found = lines.withLockedValue { $0.filter { $0.message == message } }
            if !found.isEmpty { return found }
            _ = await client.poll(timeout: .milliseconds(100))
        }
        return []
    }

    /// Polls until `count` records came (or 15 s pass); how many did.
    static func consume(_ count: Int, _ client: KafkaClient) async -> Int {
        var seen = 0
        let clock = ContinuousClock()
        let start = clock.now
        while seen < count, clock.now - start < .seconds(15) { seen += await client.poll(timeout: .milliseconds(100)).recordCount }
        return seen
    }

    static func produce(_ client: KafkaClient, _ values: [String]) async {
        let sent = await client.produceAndWait(values.map { KafkaRecord(topic: "t", partition: 0, value: Array($0.utf8)) })
        #expect(sent.allSatisfy { if case .success = $0 { return true } else { return false } }, "\(sent)")
    }

    static func expect(_ line: Line?, _ level: Logger.Level, _ metadata: [String: Logger.MetadataValue]) {
        guard let line else {
            Issue.record("no line")
            return
        }
        #expect(line.level == level, "\(line.message)")
        #expect(line.metadata[KafkaLogMetadata.clientId] == "decider", "\(line.metadata)")
        for (key, value) in metadata { #expect(line.metadata[key] == value, "\(line.message): \(key) in \(line.metadata)") }
    }

    @Test func aLeaderMoveIsLoggedWithItsPartitionBrokersAndEpoch() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let (client, lines) = try Self.client(server)
        await Self.produce(client, ["a"])
        client.assign([Self.tp: .start])
        #expect(await Self.consume(1, client) == 1)
        let (from, to, epoch) = try await server.withCluster { cluster, now in
            let before = cluster.partitionInfo(Self.tp)!.leader
            let out = cluster.moveLeader(Self.tp, now: now)
            let after = cluster.partitionInfo(Self.tp)!
            return ((before, after.leader, after.epoch), out)
        }.get()
        #expect(from != to)
        // The next fetch meets NOT_LEADER at the old leader: a refresh sees the move.
        let moved = await Self.awaitLine("leader moved", lines, polling: client)
        #expect(moved.count == 1)
        Self.expect(moved.first, .info, [KafkaLogMetadata.partition: "\(Self.tp)", "from": "\(from)", "to": "\(to)", "epoch": "\(epoch)"])
        await client.close()
    }

    @Test func anOutOfRangeFetchIsLoggedWithTheOffsetAndWhereItResets() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let (client, lines) = try Self.client(server)
        await Self.produce(client, ["a", "b"])
        client.assign([Self.tp: .exact(100)])
        let reset = await Self.awaitLine("fetch offset out of range", lines, polling: client)
        #expect(!reset.isEmpty)
        Self.expect(reset.first, .warning, [KafkaLogMetadata.partition: "\(Self.tp)", "offset": "100", "reset": "start"])
        await client.close()
    }

    @Test func truncationIsLoggedAsConsumerDataLoss() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let (client, lines) = try Self.client(server)
        await Self.produce(client, ["a", "b", "c", "d"])
        client.assign([Self.tp: .start])
        #expect(await Self.consume(4, client) == 4)
        // The other replica leads with its log cut at 2: the fetcher finds our position past
        // the new leader's end of our epoch (KIP-320) and reports the gap.
        _ = try await server.withCluster { cluster, now in
            let other: Int32 = cluster.partitionInfo(Self.tp)!.leader == 1 ? 2 : 1
            return ((), cluster.truncateAndLead(Self.tp, replica: other, truncateTo: 2, now: now))
        }.get()
        var reported: [DataLoss] = []
        let clock = ContinuousClock()
        let start = clock.now
        while reported.isEmpty, clock.now - start < .seconds(15) { reported = await client.poll(timeout: .milliseconds(100)).dataLoss }
        #expect(reported.count == 1)
        let lost = lines.withLockedValue { $0.filter { $0.message == "consumer detected data loss" } }
        #expect(lost.count == 1)
        if let loss = reported.first {
            Self.expect(lost.first, .error, [KafkaLogMetadata.partition: "\(Self.tp)", "from": "\(loss.fromOffset)", "to": "\(loss.toOffset)"])
            #expect(loss.toOffset == 4)
        }
        await client.close()
    }

    @Test func anOutOfOrderSequenceIsLoggedAsDataLossAndAnEpochBump() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let (client, lines) = try Self.client(server)
        await Self.produce(client, ["a"])
        _ = try await server.withCluster { cluster, _ in
            cluster.pushError(.produce, .outOfOrderSequenceNumber, partition: Self.tp)
            return ((), [])
        }.get()
        await Self.produce(client, ["b"])
        let all = lines.withLockedValue { $0 }
        let lost = all.filter { $0.message == "producer detected data loss" }
        #expect(lost.count == 1)
        Self.expect(lost.first, .error, [KafkaLogMetadata.partition: "\(Self.tp)"])
        let bumped = all.filter { $0.message == "producer epoch bumped" }
        #expect(bumped.count == 1)
        // FakeCluster answers a bump with a new id at epoch 0 (or our id an epoch up): either way, both named.
        Self.expect(bumped.first, .info, [:])
        #expect(bumped.first?.metadata["producerId"] != nil && bumped.first?.metadata["epoch"] != nil)
        await client.close()
    }

    @Test func retriedRequestsAndProducesAreLoggedAtDebugWithTheirReason() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let (client, lines) = try Self.client(server)
        await Self.produce(client, ["a"])
        // The connection closes under the request: it goes again on a new one.
        _ = try await server.withCluster { cluster, _ in
            cluster.dropConnection(on: .metadata, afterHandling: false)
            return ((), [])
        }.get()
        _ = try await client.request(MetadataRequest())
        let retried = lines.withLockedValue { $0.filter { $0.message == "retrying request" } }
        #expect(!retried.isEmpty)
        Self.expect(retried.first, .debug, ["api": "Metadata", "attempt": "2"])
        // A produce the leader refuses with a retriable error goes again after a backoff.
        _ = try await server.withCluster { cluster, _ in
            cluster.pushError(.produce, .notEnoughReplicas, partition: Self.tp)
            return ((), [])
        }.get()
        await Self.produce(client, ["b"])
        let produceRetried = lines.withLockedValue { $0.filter { $0.message == "retrying produce" } }
        #expect(produceRetried.count == 1)
        Self.expect(produceRetried.first, .debug, [KafkaLogMetadata.partition: "\(Self.tp)"])
        #expect(produceRetried.first?.metadata["reason"].map { "\($0)".contains("NOT_ENOUGH_REPLICAS") || "\($0)".lowercased().contains("enough") } == true,
                "\(produceRetried.first?.metadata ?? [:])")
        await client.close()
    }

    @Test func anAbortedTransactionIsLoggedAndACommittedOneIsNot() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let (client, lines) = try Self.client(server) { $0.producer.transactionalId = "logged-txn" }
        try await client.beginTransaction()
        _ = try await client.produce(KafkaRecord(topic: "t", partition: 0, value: [1]))
        try await client.commitTransaction()
        #expect(lines.withLockedValue { $0.filter { $0.message.hasPrefix("transaction") } }.isEmpty)
        try await client.beginTransaction()
        _ = try await client.produce(KafkaRecord(topic: "t", partition: 0, value: [2]))
        try await client.abortTransaction()
        let aborted = lines.withLockedValue { $0.filter { $0.message.hasPrefix("transaction") } }
        #expect(aborted.map(\.message) == ["transaction aborted"])
        Self.expect(aborted.first, .info, [:])
        await client.close()
    }
}
