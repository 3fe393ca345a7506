import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Logging
import ServiceLifecycle
import Testing

/// The code of the DocC articles (Sources/KafkaIO/KafkaIO.docc), compiled with the tests so
/// it cannot rot; DocCSnippetCheckTests checks that every `swift` block of the articles
/// appears here (or in KafkaMetricsTests'/KafkaTracingTests' DocCSnippets.swift) line for
/// line. Only the testing article's example runs (against FakeClusterTCP); the others need
/// a broker and are compiled only.
enum DocCSnippets {
    static func handle(_ record: ConsumerRecord) async throws {}
    static func process(_ records: [ConsumerRecord]) async throws {}

    // GettingStarted.md
    static func gettingStarted() async throws {
        let configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])
        let client = try KafkaClient(configuration: configuration)

        // Produce one record and wait for the broker's acknowledgement.
        let produced = try await client.produce(KafkaRecord(topic: "greetings", key: Array("k1".utf8), value: Array("hello".utf8)))
        print("written to partition \(produced.partition) at offset \(produced.offset)")

        // Read it back.
        client.assign([TopicPartition("greetings", produced.partition): .exact(produced.offset)])
        let poll = await client.poll(timeout: .seconds(5))
        for record in poll.records {
            print(record.offset, String(decoding: record.value ?? [], as: UTF8.self))
        }
        await client.close()
    }

    // Producing.md
    static func producingConfiguration() throws -> KafkaClient {
        var configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])
        configuration.producer.acks = .all                         // the default; idempotence needs it
        configuration.producer.idempotent = true                   // the default
        configuration.producer.linger = .milliseconds(10)          // wait up to 10 ms to fill a batch
        configuration.producer.maxBatchBytes = 1_000_000
        configuration.producer.compression = [.zstd, .lz4, .none]  // the first the broker's Produce version carries
        configuration.producer.partitioner = .uniformBytes(bytes: 64 * 1024, adaptive: true)  // the default
        configuration.producer.deliveryTimeout = .seconds(120)     // nil (default): retry until delivered or closed
        configuration.producer.maxBufferedRecords = 100_000
        configuration.producer.maxBufferedBytes = 256 * 1024 * 1024
        return try KafkaClient(configuration: configuration)
    }

    static func producingForms(client: KafkaClient, record: KafkaRecord, records: [KafkaRecord]) async throws {
        // 1. Await the acknowledgement: simplest; throughput comes from many tasks at once.
        let produced = try await client.produce(record)
        print(produced.partition, produced.offset)

        // 2. The hot path: waits for buffer room only, never for delivery. The callback runs
        //    once, on the client's event loop: keep it short.
        await client.produce(record) { result in
            switch result {
            case .success(let r): print("at \(r.topic)/\(r.partition)@\(r.offset)")
            case .failure(let error): print("failed: \(error)")
            }
        }

        // 3. Many records, waited for together; results in input order.
        for result in await client.produceAndWait(records) {
            if case .failure(let error) = result { print(error) }
        }

        // 4. Never waits: false (nothing queued) when the buffer is full.
        if !client.tryProduce(record, completion: { _ in }) { print("buffer full") }

        // Everything produced so far is delivered or failed.
        await client.flush()
    }

    static func producingErrors(client: KafkaClient, body: [UInt8]) async {
        do throws(ProduceError) {
            _ = try await client.produce(KafkaRecord(topic: "orders", value: body))
        } catch {
            switch error {
            case .unknownTopic(let topic): print("no topic \(topic) (allowAutoTopicCreation is off)")
            case .recordTooLarge(let size, let max): print("\(size) bytes, at most \(max)")
            case .deliveryTimeout: print("not acknowledged within producer.deliveryTimeout")
            case .broker(let code, let message): print("broker refused: \(code) \(message ?? "")")
            case .cancelled: print("the task was cancelled; the record may still be delivered")
            default: print(error)
            }
        }
    }

    // Consuming.md
    static func consumingAssign(client: KafkaClient) async {
        client.assign([
            TopicPartition("orders", 0): .start,
            TopicPartition("orders", 1): .exact(1_000),
            TopicPartition("orders", 2): .afterTimestamp(1_733_480_000_000),
        ])
        let poll = await client.poll(timeout: .seconds(1))
        for partition in poll.partitions {
            for record in partition.records { print(partition.topic, partition.partition, record.offset) }
            if let error = partition.error { print("\(partition.topic)/\(partition.partition) stopped: \(error)") }
            if partition.atEnd { print("read to the end (high watermark \(partition.highWatermark))") }
        }
        for loss in poll.dataLoss { print("lost \(loss.fromOffset)..<\(loss.toOffset) of \(loss.topicPartition)") }
    }

    static func consumingSubscribe(client: KafkaClient) async throws {
        try client.consume(topics: ["orders"], patterns: ["logs-.*"], excluding: ["logs-tmp"], from: .end)
        client.seek(TopicPartition("orders", 0), to: .relativeToEnd(100))
        client.pause([TopicPartition("orders", 1)])
        client.resume([TopicPartition("orders", 1)])

        for await record in client.records(onIssue: { issue in print("issue: \(issue)") }) {
            try await handle(record)
        }
    }

    static func consumingSkip(client: KafkaClient) async {
        let poll = await client.poll()
        for (tp, error) in poll.errors {
            if case .corruptBatch = error { client.skip(tp) }   // resume after the bad batch
        }
    }

    static func consumingConfiguration() throws -> KafkaClientConfiguration {
        var configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])
        configuration.consumer.isolation = .readCommitted        // committed transactions only
        configuration.consumer.resetPolicy = .start              // OFFSET_OUT_OF_RANGE: .start, .end or .error
        configuration.consumer.maxPollBytes = 1024 * 1024        // decoded bytes one poll hands out
        configuration.consumer.maxBufferedBytes = 16 * 1024 * 1024   // fetched, unpolled bytes before fetching stops
        configuration.consumer.firstFetchBytes = 64 * 1024       // a fetch, in all, until the first records arrive
        configuration.consumer.partitionMaxBytes = 1024 * 1024
        configuration.consumer.maxBytes = 50 * 1024 * 1024
        configuration.consumer.maxWait = .milliseconds(500)
        configuration.consumer.rack = "eu-west-1a"               // KIP-392: fetch from a nearby replica
        return configuration
    }

    // Groups.md
    static func groups(logger: Logger) async throws {
        var group = GroupConfiguration(groupId: "billing", topics: ["orders"])
        group.balancers = [CooperativeStickyBalancer(), RangeBalancer()]   // classic protocol, by preference
        group.instanceId = ProcessInfo.processInfo.environment["POD_NAME"]  // KIP-345 static membership
        group.sessionTimeout = .seconds(45)
        group.autocommitInterval = .seconds(5)                               // nil: explicit commits only
        group.onRevoked = { partitions in
            // Finish the work of these partitions; their consumed offsets are committed next.
        }
        group.onAssigned = { partitions in logger.info("assigned \(partitions)") }

        let consumer = try KafkaGroupConsumer(configuration: try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"]),
                                              group: group, logger: logger)
        let services = ServiceGroup(services: [consumer], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run() }   // joins; on SIGTERM commits and leaves
            tasks.addTask {
                for try await record in consumer.records() {   // ends when it has left; throws if the membership failed
                    try await handle(record)
                }
            }
            tasks.addTask {
                for await event in consumer.events { logger.info("\(event)") }
            }
            try await tasks.waitForAll()
        }
    }

    static func groupsKIP848() {
        var group = GroupConfiguration(groupId: "billing", topics: ["orders"])
        group.groupProtocol = .consumer     // KIP-848: the coordinator assigns
        group.serverAssignor = "uniform"    // or "range"; nil: the group's default
        _ = group
    }

    static func groupsCommits(configuration: KafkaClientConfiguration) async throws {
        var group = GroupConfiguration(groupId: "billing", topics: ["orders"])
        group.autocommitInterval = nil      // commit only when told to
        let consumer = try KafkaGroupConsumer(configuration: configuration, group: group)
        consumer.join()                     // or run() it as a service
        let poll = await consumer.poll()
        try await process(poll.records)
        let committed = try await consumer.commit()   // everything handed out so far
        print(committed)
        try await consumer.commit([TopicPartition("orders", 0): CommitPosition(offset: 42)])
        consumer.commitAsync { result in
            if case .failure(let error) = result { print("commit failed: \(error)") }
        }
    }

    // Transactions.md
    static func transactionsProducer() async throws {
        var configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])
        configuration.producer.transactionalId = "loader-1"
        configuration.producer.transactionTimeout = .seconds(60)
        let client = try KafkaClient(configuration: configuration)

        try await client.beginTransaction()
        await client.produce(KafkaRecord(topic: "out", value: Array("a".utf8))) { _ in }
        await client.produce(KafkaRecord(topic: "out", value: Array("b".utf8))) { _ in }
        do throws(TransactionError) {
            try await client.commitTransaction()
        } catch {
            switch error {
            case .mustAbort(let cause):
                print("a record failed (\(cause)): abort, then begin again")
                try await client.abortTransaction()
            case _ where error.isFenced:
                print("another instance took over the transactional id: close")
                await client.close()
            default:
                throw error
            }
        }
    }

    // Admin.md
    static func admin() async throws {
        let admin = KafkaAdmin(client: try KafkaClient(configuration: KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])))
        for r in try await admin.createTopics([NewTopic("orders", partitions: 6, replicationFactor: 3, configs: ["retention.ms": "86400000"])]) {
            if let error = r.error { print("\(r.name): \(error)") }
        }
        for r in try await admin.describeTopics(["orders"]) {
            guard let topic = r.value else { continue }
            for p in topic.partitions { print(p.partition, p.leader ?? -1, p.isr) }
        }
        _ = try await admin.alterConfigs([ConfigChange(.topic("orders"), [.set("cleanup.policy", "compact")])])
        for r in try await admin.listOffsets([TopicPartition("orders", 0)], .latest) {
            print(r.name, r.value?.offset ?? -1)
        }
        for p in try await admin.lag(group: "billing") {
            print(p.topicPartition, p.committed, p.end ?? -1, p.lag ?? -1)
        }
        let cluster = try await admin.describeCluster()
        print(cluster.brokers.map(\.id), cluster.controller ?? -1)
    }

    // Errors.md
    static func errors(client: KafkaClient, consumer: KafkaGroupConsumer) async {
        do throws(KafkaClientError) {
            let metadata = try await client.request(MetadataRequest())   // raw requests: import KafkaProtocol
            print(metadata.brokers.map(\.nodeId))
        } catch {
            if case .connectionFailed(let broker, let reason) = error {
                print("cannot reach \(broker): \(reason.kind)")   // dns, refused, timeout, tls-certificate …
            }
            print(error.isRetriable ? "transient" : "permanent", error)
        }
        do throws(GroupError) {
            try await consumer.commit()
        } catch {
            switch error {
            case .notInGroup: print("between generations: the rebalance commits on revoke")
            case .broker(let code, let what): print("\(what): \(code)")
            default: print(error)
            }
        }
    }

    // Security.md
    static func securityTLS() throws -> KafkaClientConfiguration {
        var configuration = try KafkaClientConfiguration(seedBrokers: ["kafka-1.example.com:9093"])
        configuration.tls = try .files(caFile: "/etc/kafka/ca.pem",
                                       certificateFile: "/etc/kafka/client.pem", keyFile: "/etc/kafka/client.key")
        configuration.sasl = .scram(.sha512, username: "billing", password: "secret")
        return configuration
    }

    static func securityOAuth(fetchToken: @escaping @Sendable () async throws -> String) throws -> KafkaClientConfiguration {
        var configuration = try KafkaClientConfiguration(seedBrokers: ["kafka-1.example.com:9093"])
        configuration.tls = KafkaTLSConfiguration()   // system trust roots, full verification
        configuration.sasl = .oauthBearer(tokenProvider: {
            // Awaited at every (re-)authentication, off the client's event loop; it has the
            // connect timeout to answer.
            OAuthBearerToken(token: try await fetchToken(), extensions: ["logicalCluster": "lkc-1"])
        })
        return configuration
    }

    static func adminAuthorizedOperations(admin: KafkaAdmin) async throws {
        let orders = try await admin.describeTopics(["orders"], includeAuthorizedOperations: true)
        if let ops = orders.first?.value?.authorizedOperations, !ops.contains(.write) { print("read-only") }
    }

    static func securityDelegationToken(admin: KafkaAdmin) async throws -> KafkaClientConfiguration {
        let token = try await admin.createDelegationToken(maxLifetime: .seconds(86_400))
        var configuration = try KafkaClientConfiguration(seedBrokers: ["kafka-1.example.com:9093"])
        configuration.tls = KafkaTLSConfiguration()
        configuration.sasl = token.sasl(.sha512)   // .delegationToken(.sha512, tokenId:, hmac:)
        return configuration
    }

    static func securityPlain() throws -> KafkaClientConfiguration {
        var configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])
        configuration.sasl = .plain(username: "alice", password: "alice-secret")
        return configuration
    }

    // ServiceLifecycle.md
    static func serviceLifecycle(logger: Logger) async throws {
        var configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])
        configuration.clientId = "orders-api"          // on every log line as kafka.client_id
        configuration.shutdownTimeout = .seconds(10)   // flush (and commit, leave) at most this long
        let producer = try KafkaClient(configuration: configuration, logger: logger)
        let services = ServiceGroup(services: [producer], gracefulShutdownSignals: [.sigterm], logger: logger)
        try await services.run()
    }

    static func cancellation(client: KafkaClient) async {
        let task = Task {
            try await client.produce(KafkaRecord(topic: "orders", value: Array("{}".utf8)))
        }
        task.cancel()
        switch await task.result {
        case .success(let produced): print("delivered at \(produced.offset)")
        case .failure(ProduceError.cancelled): print("cancelled: it may still be delivered")
        case .failure(let error): print(error)
        }
    }

    // Observability.md
    static func logging() throws -> KafkaClient {
        var logger = Logger(label: "orders")
        logger.logLevel = .debug    // info: leader moves, epoch bumps; debug: retries and their reasons
        var configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])
        configuration.clientId = "orders-api"   // every line carries it as kafka.client_id
        let client = try KafkaClient(configuration: configuration, logger: logger)
        return client
    }

    // Simulation.md
    static func flightRecorder() throws -> KafkaClient {
        var configuration = try KafkaClientConfiguration(seedBrokers: ["kafka1:9092"])
        var recorder = FlightRecorderConfiguration(path: "/var/tmp/orders-client")
        recorder.maxSegmentBytes = 64 * 1024 * 1024   // default
        recorder.maxSegments = 16                     // default: at most 1 GiB
        configuration.flightRecorder = recorder
        return try KafkaClient(configuration: configuration)
    }

    // Performance.md
    static func performance() throws -> KafkaClientConfiguration {
        var configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:9092"])
        // Throughput: bigger, compressed batches; more in flight.
        configuration.producer.linger = .milliseconds(20)
        configuration.producer.compression = [.lz4, .none]
        configuration.producer.partitioner = .sticky
        // Memory: the consumer's two bounds.
        configuration.consumer.maxBufferedBytes = 8 * 1024 * 1024
        configuration.consumer.maxPollBytes = 512 * 1024
        // Latency of the consumer's first records.
        configuration.consumer.firstFetchBytes = 16 * 1024
        return configuration
    }

    // Testing.md: run by DocCSnippetsRunTests.
    static func testingExample() async throws -> Int64 {
        let server = try FakeClusterServer.start(FakeClusterConfig(
            brokers: FakeClusterConfig.brokers(3, firstPort: 0),       // port 0: free ports, advertised as bound
            topics: [.init(name: "orders", partitions: 3, replicationFactor: 3)]))
        defer { try? server.shutdown() }
        var configuration = KafkaClientConfiguration(seedBrokers: server.brokers.map { BrokerAddress(host: $0.host, port: Int($0.port)) })
        configuration.retryTimeout = .seconds(5)
        let client = try KafkaClient(configuration: configuration)

        // Faults through the control API: two failed Produce requests and a leader move.
        try await server.withCluster { cluster, now in
            cluster.pushError(.produce, .notLeaderOrFollower, count: 2)
            return ((), cluster.moveLeader(TopicPartition("orders", 0), now: now))
        }.get()

        let produced = try await client.produce(KafkaRecord(topic: "orders", partition: 0, value: Array("paid".utf8)))
        let highWatermark = try await server.withCluster { cluster, _ in
            (cluster.offsets(TopicPartition("orders", 0))?.highWatermark, [])
        }.get()
        #expect(produced.offset == 0 && highWatermark == 1)
        await client.close()
        return produced.offset
    }
}

/// The testing article's example runs: it must hold against FakeClusterTCP.
@Suite struct DocCSnippetsRunTests {
    @Test func testingArticleExampleRuns() async throws {
        #expect(try await DocCSnippets.testingExample() == 0)
    }
}
