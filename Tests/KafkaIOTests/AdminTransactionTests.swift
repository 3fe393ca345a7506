import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin's producer and transaction calls against a three-broker FakeClusterTCP: one
/// transaction left open and one committed by real transactional clients, listed from
/// every broker, described at their coordinators, the producers described at each
/// partition's leader, and the open one aborted with a marker at its leader (as
/// kafka-transactions.sh aborts a hanging transaction); bad items fail alone.
@Suite struct AdminTransactionTests {
    static let topic = "txn-admin"

    static func server(release: KafkaRelease = .latest) throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: (1 ... 3).map { .init(nodeId: $0, port: 0) }, release: release,
                                       topics: [.init(name: topic, partitions: 2)])
        // Markers written when EndTxn is answered, so a committed transaction is complete at once.
        config.transactionMarkerDelayMs = 0
        return try FakeClusterServer.start(config)
    }

    /// A transactional client that wrote `value` to `partition` in an open transaction.
    static func openTransaction(_ server: FakeClusterServer, id: String, partition: Int32) async throws -> KafkaClient {
        let client = try KafkaClient(configuration: TransactionalProducerTests.configuration(server, transactionalId: id), logger: TestEnvironment.logger)
        try await client.beginTransaction()
        _ = try await client.produce(KafkaRecord(topic: topic, partition: partition, value: Array(id.utf8)))
        return client
    }

    @Test func transactionsListedDescribedAndAHangingOneAborted() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let p0 = TopicPartition(Self.topic, 0), p1 = TopicPartition(Self.topic, 1)

        let open = try await Self.openTransaction(server, id: "t-open", partition: 0)
        defer { Task { await open.close() } }
        let done = try await Self.openTransaction(server, id: "t-done", partition: 1)
        try await done.commitTransaction()
        await done.close()

        // Listed from every broker, whichever coordinates each id.
        let all = try await admin.listTransactions()
        #expect(all.transactions.map { "\($0.transactionalId) \($0.state)" } == ["t-done CompleteCommit", "t-open Ongoing"])
        #expect(all.brokerError == nil && all.unknownStateFilters.isEmpty)
        let openPid = try #require(all.transactions.last?.producerId)
        #expect(try await admin.listTransactions(states: ["Ongoing"]).transactions.map(\.transactionalId) == ["t-open"])
        #expect(try await admin.listTransactions(producerIds: [openPid]).transactions.map(\.transactionalId) == ["t-open"])
        let bogus = try await admin.listTransactions(states: ["Bogus"])
        #expect(bogus.transactions.isEmpty && bogus.unknownStateFilters == ["Bogus"])
        #expect(try await admin.listTransactions(runningLongerThan: .zero).transactions.map(\.transactionalId) == ["t-open"])
        #expect(try await admin.listTransactions(runningLongerThan: .seconds(3600)).transactions.isEmpty)

        // Described at each id's coordinator; bad ids fail alone.
        let described = try await admin.describeTransactions(["t-open", "t-done", "nope", "", "t-open"])
        #expect(AdminTests.outcomes(described) == [
            "t-open: ok", "t-done: ok", "nope: TRANSACTIONAL_ID_NOT_FOUND",
            ": transactional id: empty", "t-open: t-open named more than once",
        ])
        let openTxn = try #require(described[0].value)
        #expect(openTxn.state == "Ongoing" && openTxn.producerId == openPid && openTxn.partitions == [p0] && openTxn.startTimeMs != nil)
        #expect(described[1].value?.state == "CompleteCommit" && described[1].value?.partitions == [])

        // Producers at each partition's leader: the open transaction's start offset, the
        // committed producer's coordinator epoch from its marker.
        let producers = try await admin.describeProducers([p0, p1, TopicPartition("nope", 0), TopicPartition(Self.topic, -1)])
        #expect(AdminTests.outcomes(producers) == [
            "\(p0): ok", "\(p1): ok", "nope[0]: UNKNOWN_TOPIC_OR_PARTITION",
            "\(Self.topic)[-1]: \(Self.topic)[-1]: a partition index is not negative",
        ])
        let hanging = try #require(producers[0].value?.first)
        #expect(producers[0].value?.count == 1 && hanging.producerId == openPid && hanging.currentTransactionStartOffset == 0
            && hanging.lastSequence == 0 && hanging.lastTimestamp > 0 && hanging.coordinatorEpoch == nil)
        let committed = try #require(producers[1].value?.first)
        #expect(committed.currentTransactionStartOffset == nil && committed.coordinatorEpoch != nil)

        // read_committed stops at the open transaction.
        #expect(try await admin.listOffsets([p0], .latest, isolation: .readCommitted)[0].value?.offset == 0)

        // The spec found from the start offset, as kafka-transactions.sh abort --start-offset.
        let spec = try await admin.abortSpec(p0, startOffset: 0)
        #expect(spec == AbortTransactionSpec(p0, producerId: openPid, producerEpoch: Int16(hanging.producerEpoch), coordinatorEpoch: 0))
        await #expect(throws: KafkaAdminError.invalidArgument(p0.description, reason: "no open transaction starts at offset 5")) {
            _ = try await admin.abortSpec(p0, startOffset: 5)
        }
        let aborted = try await admin.abortTransactions([
            spec,
            AbortTransactionSpec(p0, producerId: -1, producerEpoch: 0, coordinatorEpoch: 0),
            AbortTransactionSpec(TopicPartition("nope", 0), producerId: 7, producerEpoch: 0, coordinatorEpoch: 0),
            AbortTransactionSpec(p1, producerId: committed.producerId, producerEpoch: 0, coordinatorEpoch: -1),
            spec,
        ])
        #expect(AdminTests.outcomes(aborted) == [
            "\(spec): ok",
            "\(p0) producer -1: \(p0) producer -1: a producer id is not negative",
            "nope[0] producer 7: UNKNOWN_TOPIC_OR_PARTITION",
            "\(p1) producer \(committed.producerId): \(p1) producer \(committed.producerId): a coordinator epoch is not negative",
            "\(spec): \(spec) named more than once",
        ])
        // The marker landed: no open transaction at the partition, read_committed reads past it.
        let after = try await admin.describeProducers([p0])
        #expect(after[0].value?.first?.currentTransactionStartOffset == nil && after[0].value?.first?.coordinatorEpoch == 0)
        #expect(try await admin.listOffsets([p0], .latest, isolation: .readCommitted)[0].value?.offset == 2)
    }

    /// A marker older than the producer's epoch is refused (INVALID_PRODUCER_EPOCH), and one
    /// carrying a coordinator epoch older than the partition's last marker's
    /// (TRANSACTION_COORDINATOR_FENCED), each beside a marker that is written.
    @Test func staleMarkersAreRefusedPerItem() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let p0 = TopicPartition(Self.topic, 0), p1 = TopicPartition(Self.topic, 1)
        // Two instances of one id: the second holds epoch 1 and an open transaction.
        let first = try await Self.openTransaction(server, id: "twice", partition: 1)
        try await first.commitTransaction()
        await first.close()
        let second = try await Self.openTransaction(server, id: "twice", partition: 1)
        defer { Task { await second.close() } }
        let open = try #require(try await admin.describeProducers([p1])[0].value?.first)
        #expect(open.producerEpoch == 1 && open.currentTransactionStartOffset == 2 && open.coordinatorEpoch == 0)

        // The coordinator moves (its epoch grows) and commits: the marker carries the new epoch.
        try await server.withCluster { cluster, now in
            let to: Int32 = cluster.coordinator("twice", .transaction) == 1 ? 2 : 1
            return ((), cluster.moveCoordinator("twice", .transaction, to: to, now: now))
        }.get()
        try await second.commitTransaction()
        let committed = try #require(try await admin.describeProducers([p1])[0].value?.first)
        let epoch = try #require(committed.coordinatorEpoch)
        #expect(epoch > 0 && committed.currentTransactionStartOffset == nil)

        let idle = try await Self.openTransaction(server, id: "other", partition: 0)
        defer { Task { await idle.close() } }
        let spec = try await admin.abortSpec(p0, startOffset: 0)
        // One item per partition and producer in a call: the two stale markers go in two calls.
        let results = try await admin.abortTransactions([
            AbortTransactionSpec(p1, producerId: open.producerId, producerEpoch: 0, coordinatorEpoch: epoch), spec,
        ])
        #expect(results.map { $0.error.map { "\($0)" } ?? "ok" } == ["INVALID_PRODUCER_EPOCH", "ok"])
        let stale = try await admin.abortTransactions([AbortTransactionSpec(p1, producerId: open.producerId, producerEpoch: 1, coordinatorEpoch: epoch - 1)])
        #expect(stale.map { $0.error.map { "\($0)" } ?? "ok" } == ["TRANSACTION_COORDINATOR_FENCED"])
    }
}
