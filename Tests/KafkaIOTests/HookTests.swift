import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// The client's hooks (KafkaHook) against FakeCluster's TCP listener: each event fires with
/// the values of a known workload.
@Suite struct HookTests {
    static let topic = "hooked"

    static func server(partitions: Int32 = 1) throws -> FakeClusterServer {
        try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], topics: [.init(name: topic, partitions: partitions)]))
    }

    static func configuration(_ server: FakeClusterServer, hooks: [any KafkaHook]) -> KafkaClientConfiguration {
        var c = ConsumerCancellationTests.configuration(server)
        c.hooks = hooks
        c.producer.linger = .milliseconds(2)
        return c
    }

    /// Polls `client` until `count` records arrived (or 15 s passed); returns how many did.
    static func consume(_ client: KafkaClient, count: Int) async -> Int {
        var got = 0
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        while got < count, clock.now < deadline {
            got += await client.poll(timeout: .milliseconds(200)).recordCount
        }
        return got
    }

    /// Ten lz4 records produced in one hand-over and read back: buffered, produced batches,
    /// delivered, fetched batches, requests and responses, connections opened and closed.
    @Test func aProduceAndConsumeRunFiresEachHookWithItsValues() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let hook = HookRecorder()
        let other = HookRecorder()
        var config = Self.configuration(server, hooks: [hook, other])
        config.producer.compression = [.lz4]
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        let value = [UInt8](repeating: 7, count: 100)
        let results = await client.produceAndWait((0 ..< 10).map { _ in KafkaRecord(topic: Self.topic, partition: 0, value: value) })
        #expect(results.allSatisfy { if case .success = $0 { return true } else { return false } }, "\(results)")
        client.assign([TopicPartition(Self.topic, 0): .start])
        #expect(await Self.consume(client, count: 10) == 10)
        await client.close()

        let seen = hook.seen
        #expect(other.seen == seen, "every hook sees every event, in the same order")

        var bufferedRecords = 0, bufferedBytes = 0
        for case .buffered(let topic, let records, let bytes) in seen {
            #expect(topic == Self.topic)
            bufferedRecords += records
            bufferedBytes += bytes
        }
        #expect(bufferedRecords == 10)
        #expect(bufferedBytes >= 10 * 100, "each record is charged at least its value")

        let delivered = hook.delivered
        #expect(delivered.reduce(0) { $0 + $1.records } == 10)
        #expect(delivered.reduce(0) { $0 + $1.bytes } == bufferedBytes)
        #expect(delivered.allSatisfy { $0.topic == Self.topic && $0.partition == 0 && $0.latency > .zero })
        #expect(!seen.contains { if case .failed = $0 { return true } else { return false } })

        let produced = hook.produced
        #expect(produced.reduce(0) { $0 + $1.records } == 10, "one send per batch, no retries: \(produced)")
        #expect(produced.allSatisfy { $0.broker == 1 && $0.topic == Self.topic && $0.partition == 0 && $0.codec == .lz4 })
        #expect(produced.allSatisfy { $0.compressedBytes < $0.bytes }, "a hundred equal bytes per record compress: \(produced)")

        let fetched = hook.fetched
        #expect(fetched.reduce(0) { $0 + $1.records } == 10, "\(fetched)")
        #expect(fetched.allSatisfy { $0.broker == 1 && $0.topic == Self.topic && $0.partition == 0 && $0.codec == .lz4 })
        #expect(fetched.map(\.compressedBytes) == produced.map(\.compressedBytes), "the batches read are the batches written")

        let written = hook.written, read = hook.read
        for key in [ApiKey.apiVersions, .metadata, .produce, .fetch] {
            #expect(written.contains { $0.apiKey == key && $0.bytes > 0 }, "\(key) written")
            #expect(read.contains { $0.apiKey == key && $0.bytes > 8 }, "\(key) read")
        }
        // acks=all: every Produce written is answered.
        let producesWritten = written.filter { $0.apiKey == .produce }
        let producesRead = read.filter { $0.apiKey == .produce }
        #expect(producesWritten.count == producesRead.count)
        #expect(producesRead.allSatisfy { $0.broker == .node(1) && $0.timeOnWire > .zero && $0.throttle == .zero })
        #expect(producesWritten.allSatisfy { $0.version >= 3 && $0.timeQueued >= .zero })
        #expect(written.contains { $0.broker == .seed(0) }, "the first requests go to the seed")

        let connected = seen.compactMap { if case .connected(let b, _) = $0 { return b } else { return nil } }
        let disconnected = seen.compactMap { if case .disconnected(let b) = $0 { return b } else { return nil } }
        #expect(connected.contains(.seed(0)) && connected.contains(.node(1)), "\(connected)")
        #expect(connected.sorted { "\($0)" < "\($1)" } == disconnected.sorted { "\($0)" < "\($1)" }, "each connection closes once")
        #expect(!seen.contains { if case .connectFailed = $0 { return true } else { return false } })
    }

    /// A dial to a port nobody listens on is a connect failure of the seed; a throttled
    /// Produce answer is a throttle event and the response's throttle.
    @Test func aRefusedDialAndAThrottleAreReported() async throws {
        let refusedHook = HookRecorder()
        var refusedConfig = TestEnvironment.configuration([BrokerAddress(host: "127.0.0.1", port: 1)])
        refusedConfig.hooks = [refusedHook]
        let refused = try KafkaClient(configuration: refusedConfig, logger: TestEnvironment.logger)
        refused.assign([TopicPartition(Self.topic, 0): .start])
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        func failures() -> [KafkaHookBroker] {
            refusedHook.seen.compactMap { if case .connectFailed(let b, .refused) = $0 { return b } else { return nil } }
        }
        while failures().isEmpty, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        await refused.close()
        #expect(failures().first == .seed(0), "\(refusedHook.seen)")
        #expect(!refusedHook.seen.contains { if case .connected = $0 { return true } else { return false } })

        let server = try Self.server()
        defer { try? server.shutdown() }
        try await server.withCluster { cluster, _ in
            cluster.throttle(broker: 1, apiKey: .produce, milliseconds: 80, count: 1)
            return ((), [])
        }.get()
        let hook = HookRecorder()
        let client = try KafkaClient(configuration: Self.configuration(server, hooks: [hook]), logger: TestEnvironment.logger)
        _ = try await client.produce(KafkaRecord(topic: Self.topic, partition: 0, value: [1]))
        await client.close()
        let throttles = hook.seen.compactMap { if case .throttled(let b, let d) = $0 { return (b, d) } else { return nil } }
        #expect(throttles.count == 1 && throttles.first?.0 == .node(1) && throttles.first?.1 == .milliseconds(80), "\(throttles)")
        #expect(hook.read.filter { $0.apiKey == .produce }.map(\.throttle) == [.milliseconds(80)])
    }

    /// A client quota set through the admin API is enforced by the broker as KIP-219
    /// throttles, and the client takes each one as the broker sent it: a throttle event per
    /// throttled answer, with the answer's throttle_time_ms (the records all produced).
    @Test func aProduceQuotaThrottlesTheClientAndItsHooksSayHowLong() async throws {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], topics: [.init(name: Self.topic, partitions: 1)])
        config.recordEvents = true
        let server = try FakeClusterServer.start(config)
        defer { try? server.shutdown() }
        let hook = HookRecorder()
        let client = try KafkaClient(configuration: Self.configuration(server, hooks: [hook]), logger: TestEnvironment.logger)
        let set = try await KafkaAdmin(client: client).alterClientQuotas([
            ClientQuotaAlteration(.clientId(nil), [.set("producer_byte_rate", 20_000)]),
        ])
        #expect(set.allSatisfy { $0.error == nil }, "\(set)")
        // 20 kB/s allows 200 kB over the first ten 1-s windows: one request of 240 kB exceeds
        // it however slowly the machine runs (a rate over many small requests depends on the
        // wall clock, which a loaded CI machine stretches); the second record may be
        // throttled too, depending on how long the first took.
        var produced = 0
        for (i, size) in [240_000, 10_000].enumerated() {
            if (try? await client.produce(KafkaRecord(topic: Self.topic, partition: 0, value: [UInt8](repeating: UInt8(i), count: size)))) != nil {
                produced += 1
            }
        }
        await client.close()
        #expect(produced == 2)
        let sent = try await server.withCluster { cluster, _ in
            (cluster.events.compactMap { e -> Int32? in
                guard case .response(let r as ProduceResponse) = e.message, r.throttleTimeMs > 0 else { return nil }
                return r.throttleTimeMs
            }, [])
        }.get()
        let told = hook.seen.compactMap { if case .throttled(let b, let d) = $0 { return (b, d) } else { return nil } }
        #expect(!sent.isEmpty)
        #expect(told.allSatisfy { $0.0 == .node(1) }, "\(told)")
        #expect(told.map(\.1) == sent.map { .milliseconds(Int($0)) }, "told \(told), sent \(sent)")
    }

    /// Transaction begin, commit and abort, and the group consumer's membership events.
    @Test func transactionAndGroupEventsReachTheHooks() async throws {
        let server = try Self.server(partitions: 2)
        defer { try? server.shutdown() }
        let hook = HookRecorder()
        var config = Self.configuration(server, hooks: [hook])
        config.producer.transactionalId = "hooked-txn"
        let client = try KafkaClient(configuration: config, logger: TestEnvironment.logger)
        try await client.beginTransaction()
        _ = try await client.produce(KafkaRecord(topic: Self.topic, partition: 0, value: [1]))
        try await client.commitTransaction()
        try await client.beginTransaction()
        try await client.abortTransaction()
        await client.close()
        #expect(hook.transactions == [.begun, .committed, .begun, .aborted])
        #expect(hook.seen.allSatisfy { if case .transaction(_, let e?) = $0 { print(e); return false } else { return true } })

        let groupHook = HookRecorder()
        var group = GroupConfiguration(groupId: "hooked-group", topics: [Self.topic])
        group.sessionTimeout = .seconds(6)
        let consumer = try KafkaGroupConsumer(configuration: Self.configuration(server, hooks: [groupHook]), group: group,
                                              logger: TestEnvironment.logger)
        let run = Task { try? await consumer.run() }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        while !groupHook.groupEvents.contains(where: { $0.hasPrefix("assigned") }), clock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        await consumer.leave()
        _ = await run.value
        let events = groupHook.groupEvents
        #expect(events.first?.hasPrefix("joined") == true, "\(events)")
        #expect(events.contains("assigned \(Self.topic)/0,\(Self.topic)/1"), "\(events)")
        #expect(events.contains("revoked \(Self.topic)/0,\(Self.topic)/1"), "leaving revokes: \(events)")
    }
}
