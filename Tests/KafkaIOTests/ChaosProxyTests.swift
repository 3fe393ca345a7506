import ChaosProxy
import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import TestSupport
import Testing

/// The idempotent producer and the consumer through `ChaosProxy` (issue 22): a one-broker
/// FakeClusterTCP whose Metadata advertises the proxy, so every connection goes through
/// it. Resets mid-request, latency and 1-byte writes, stalls, black holes and refused
/// connections: every acknowledged record is read back exactly once and in order, a fault
/// that never heals ends in a typed error within the timeouts, and refusals are retried at
/// the backoff's pace.
@Suite(.serialized, .timeLimit(.minutes(2))) struct ChaosProxyTests {
    /// The cluster and the proxy in front of its broker.
    struct Rig {
        let server: FakeClusterServer
        let proxy: ChaosProxy

        func shutdown() {
            try? proxy.shutdown()
            try? server.shutdown()
        }

        var configuration: KafkaClientConfiguration {
            var c = TestEnvironment.configuration([BrokerAddress(host: proxy.host, port: proxy.port)])
            c.consumer.maxWait = .milliseconds(100)
            c.producer.idempotent = true
            return c
        }
    }

    static func rig(_ faults: ChaosFaults = .none, seed: UInt64, partitions: Int32 = 2) throws -> Rig {
        var proxy: ChaosProxy?
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                                   topics: [.init(name: "chaos", partitions: partitions)]),
                                                 advertising: { bound in
            let p = try ChaosProxy.start(upstreamHost: bound.host, upstreamPort: Int(bound.port), faults: faults,
                                         random: ChaosRandom(seed: seed))
            proxy = p
            var advertised = bound
            advertised.port = Int32(p.port)
            return advertised
        })
        return Rig(server: server, proxy: proxy!)
    }

    /// Record `i` goes to partition `i % partitions` with value "r<i>" padded to 100 bytes.
    static func records(_ range: Range<Int>, topic: String = "chaos", partitions: Int32 = 2) -> [KafkaRecord] {
        range.map { i in
            let tag = "r\(i)"
            return KafkaRecord(topic: topic, partition: Int32(i) % partitions,
                               value: Array(tag.utf8) + [UInt8](repeating: UInt8(ascii: "."), count: 100 - tag.utf8.count))
        }
    }

    static func index(_ value: ArraySlice<UInt8>?) -> Int? {
        let tag = String(decoding: (value ?? []).prefix { $0 != UInt8(ascii: ".") }, as: UTF8.self)
        return tag.hasPrefix("r") ? Int(tag.dropFirst()) : nil
    }

    /// Polls until `want` records arrived or `limit` passed.
    static func poll(_ client: KafkaClient, _ want: Int, within limit: Duration) async -> [ConsumerRecord] {
        var got: [ConsumerRecord] = []
        let clock = ContinuousClock()
        let start = clock.now
        while got.count < want && clock.now - start < limit {
            got += await client.poll(timeout: .milliseconds(200)).records
        }
        return got
    }

    /// Reads the partitions of `topic` from their start and checks that every acknowledged
    /// record of `produced` (record `i` at `produced[i]`) is there once, at its acknowledged
    /// offset, in order; records that failed may be there at most once. `end`: each
    /// partition's high watermark when known (FakeCluster's); else reading goes past the
    /// last acknowledged offset and on for a second, so that a duplicate after it shows.
    /// `unknownOffsets`: an acknowledgement may carry offset -1 (a re-sent batch the broker
    /// recognised as a duplicate without saying where it landed); such a record must still
    /// be there once.
    static func checkReadBack(_ configuration: KafkaClientConfiguration, topic: String = "chaos",
                              _ produced: [Result<ProducedRecord, ProduceError>], partitions: Int32 = 2, end: [Int64]? = nil,
                              unknownOffsets: Bool = false,
                              within limit: Duration = .seconds(20),
                              sourceLocation: SourceLocation = #_sourceLocation) async throws -> [ConsumerRecord] {
        let consumer = try KafkaClient(configuration: configuration, logger: TestEnvironment.logger)
        consumer.assign(Dictionary(uniqueKeysWithValues: (0 ..< partitions).map { (TopicPartition(topic, $0), StartOffset.start) }))
        let acked = (0 ..< partitions).map { p in
            produced.enumerated().compactMap { i, r -> Int64? in
                guard Int32(i) % partitions == p, case .success(let ack) = r else { return nil }
                return ack.offset
            }.max().map { $0 + 1 } ?? 0
        }
        var got = await poll(consumer, Int((end ?? acked).reduce(0, +)), within: limit)
        if end == nil { got += await poll(consumer, .max, within: .seconds(1)) }
        await consumer.close()
        for p in 0 ..< partitions {
            let mine = got.filter { $0.partition == p }
            let count = end?[Int(p)] ?? max(acked[Int(p)], Int64(mine.count))
            #expect(mine.map(\.offset) == Array(0 ..< count),
                    "partition \(p): \(mine.count) records read of \(count)", sourceLocation: sourceLocation)
            let indices = mine.map { index($0.value) ?? -1 }
            let twice = indices.count - Set(indices).count
            let backwards = zip(indices, indices.dropFirst()).filter { $0.0 >= $0.1 }.count
            #expect(twice == 0, "partition \(p): \(twice) records read twice", sourceLocation: sourceLocation)
            #expect(backwards == 0, "partition \(p): \(backwards) records after a later one", sourceLocation: sourceLocation)
            let at = Dictionary(mine.map { ($0.offset, index($0.value) ?? -1) }, uniquingKeysWith: { a, _ in a })
            let present = Set(indices)
            var missing: [Int] = []
            for (i, r) in produced.enumerated() where Int32(i) % partitions == p {
                guard case .success(let ack) = r else { continue }
                if unknownOffsets && ack.offset == -1 ? !present.contains(i) : at[ack.offset] != i { missing.append(i) }
            }
            #expect(missing.isEmpty, "partition \(p): \(missing.count) acknowledged records not at their offsets, first \(missing.prefix(5))",
                    sourceLocation: sourceLocation)
        }
        return got
    }

    /// The same against the rig's cluster, whose high watermarks are known.
    @discardableResult
    static func checkReadBack(_ rig: Rig, _ produced: [Result<ProducedRecord, ProduceError>], partitions: Int32 = 2,
                              sourceLocation: SourceLocation = #_sourceLocation) async throws -> [ConsumerRecord] {
        let end = try await rig.server.withCluster { cluster, _ in
            ((0 ..< partitions).map { cluster.offsets(TopicPartition("chaos", $0))?.highWatermark ?? -1 }, [])
        }.get()
        return try await checkReadBack(rig.configuration, produced, partitions: partitions, end: end, sourceLocation: sourceLocation)
    }

    static func failures(_ results: [Result<ProducedRecord, ProduceError>]) -> [ProduceError] {
        results.compactMap { if case .failure(let e) = $0 { e } else { nil } }
    }

    /// (a) Every connection is reset after 30-300 KB (both directions counted), the cut in
    /// the middle of a request or an answer: 50,000 records produced idempotently are all
    /// acknowledged and read back once each, at their offsets, in order.
    @Test func resetsWhileProducingLoseAndDuplicateNothing() async throws {
        let rig = try Self.rig(ChaosFaults(resetAfterBytes: 30_000 ... 300_000), seed: 22)
        defer { rig.shutdown() }
        var c = rig.configuration
        c.producer.maxBatchBytes = 16_384
        let producer = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        let produced = await producer.produceAndWait(Self.records(0 ..< 50_000))
        await producer.close()
        let failed = Self.failures(produced)
        #expect(failed.isEmpty, "\(failed.count) failed, first \(failed.first.map { "\($0)" } ?? "")")
        let stats = rig.proxy.stats
        // ~5 MB of records over thresholds of 165 KB on average: the resets happened.
        #expect(stats.resets >= 10, "\(stats)")
        rig.proxy.setFaults(.none)
        let ours = try await Self.checkReadBack(rig, produced)
        // librdkafka reads the same log through the proxy: the same records at the same
        // offsets, by Debian's kcat and by librdkafka 2.16 (confluent-kafka in .peers).
        let theirs = try await Self.kcat(["-b", "\(rig.proxy.host):\(rig.proxy.port)", "-C", "-t", "chaos", "-o", "beginning", "-e", "-q",
                                          "-f", "%p %o %s\\n"])
        let mine = ours.map { "\($0.partition) \($0.offset) \(String(decoding: $0.value ?? [], as: UTF8.self))" }
        #expect(theirs.count == 50_000, "kcat read \(theirs.count) records")
        #expect(theirs.sorted() == mine.sorted(), "kcat and our consumer read different records")
        let current = try await Self.librdkafka("\(rig.proxy.host):\(rig.proxy.port)", topic: "chaos")
        #expect(current.count == 50_000, "librdkafka 2.16 read \(current.count) records")
        #expect(current.sorted() == mine.sorted(), "librdkafka 2.16 and our consumer read different records")
    }

    /// Every record of `topic` from its start, read by librdkafka 2.16 (the confluent-kafka
    /// wheel in .peers, Tools/install-test-deps.sh), as "partition offset value" lines; a
    /// missing peer fails the test.
    static func librdkafka(_ bootstrap: String, topic: String) async throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let python = root.appendingPathComponent(".peers/venv/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: python), "no librdkafka peer: run Tools/install-test-deps.sh")
        let script = """
        import sys
        from confluent_kafka import Consumer, KafkaError, TopicPartition
        c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "chaos-readback", "enable.auto.commit": False,
                      "enable.partition.eof": True})
        topic = sys.argv[2]
        parts = sorted(c.list_topics(topic, timeout=10).topics[topic].partitions)
        c.assign([TopicPartition(topic, p, 0) for p in parts])
        done = set()
        while len(done) < len(parts):
            m = c.poll(1.0)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    done.add(m.partition())
                    continue
                sys.exit(str(m.error()))
            print(m.partition(), m.offset(), m.value().decode())
        c.close()
        """
        var env = ProcessInfo.processInfo.environment
        env["LD_LIBRARY_PATH"] = root.appendingPathComponent(".peers/lib").path + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
        return try await runPeer(python, ["-c", script, bootstrap, topic], environment: env, timeout: 60)
    }

    /// Runs kcat (librdkafka) and returns its output lines; a missing kcat fails the test.
    static func kcat(_ arguments: [String], timeout: TimeInterval = 30) async throws -> [String] {
        let path = "/usr/bin/kcat"
        try #require(FileManager.default.isExecutableFile(atPath: path), "no kcat: run Tools/install-test-deps.sh")
        return try await runPeer(path, arguments, timeout: timeout)
    }

    /// Runs a peer program (standard error discarded), terminated after `timeout`, and returns
    /// its standard output's lines.
    static func runPeer(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                        timeout: TimeInterval) async throws -> [String] {
        try await offPool {
            let p = try ChildProcess(path, arguments, environment: environment, standardOutput: .pipe, standardError: .null)
            let killer = DispatchWorkItem { p.terminate() }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
            let data = p.standardOutput!.readDataToEndOfFile()
            p.waitUntilExit()
            killer.cancel()
            return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
        }
    }

    /// (a) on Tansu (KGO_TEST_BROKER): the proxy in front of the real broker, and a dialer
    /// that sends the client's connections to the broker's advertised address to the proxy
    /// instead (Tansu advertises its own port); the proxy's byte counts show nothing went around it.
    @Test func resetsWhileProducingToTansuLoseAndDuplicateNothing() async throws {
        let broker = try TestEnvironment.broker()
        let proxy = try ChaosProxy.start(upstreamHost: broker.host, upstreamPort: broker.port, random: ChaosRandom(seed: 23))
        defer { try? proxy.shutdown() }
        var c = TestEnvironment.configuration([BrokerAddress(host: proxy.host, port: proxy.port)])
        c.consumer.maxWait = .milliseconds(100)
        c.producer.idempotent = true
        c.producer.maxBatchBytes = 16_384
        c.dialer = KafkaDialer { host, port, loop, timeout in
            let (h, p) = host == broker.host && port == broker.port ? (proxy.host, proxy.port) : (host, port)
            return KafkaDialer.tcp.dial(h, p, loop, timeout)
        }
        let topic = "chaos-\(UInt32.random(in: 0 ... .max))"
        let producer = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        // Created before the resets: a retried CreateTopics would find its own topic.
        let created = try await KafkaAdmin(client: producer).createTopics([NewTopic(topic, partitions: 2, replicationFactor: 1)])
        #expect(created.allSatisfy { $0.error == nil }, "\(created)")
        proxy.setFaults(ChaosFaults(resetAfterBytes: 30_000 ... 300_000))
        let produced = await producer.produceAndWait(Self.records(0 ..< 50_000, topic: topic))
        await producer.close()
        let failed = Self.failures(produced)
        #expect(failed.isEmpty, "\(failed.count) failed, first \(failed.first.map { "\($0)" } ?? "")")
        let stats = proxy.stats
        #expect(stats.resets >= 10 && stats.bytesToUpstream > 50_000 * 100, "\(stats)")
        proxy.setFaults(.none)
        // Tansu answers a re-sent batch it already holds with offset -1, where Kafka (and
        // FakeCluster) name the offset it landed at when it is among the last five.
        let ours = try await Self.checkReadBack(c, topic: topic, produced, unknownOffsets: true)
        // librdkafka 2.16 reads the same log from Tansu: the same records at the same offsets.
        let theirs = try await Self.librdkafka("\(broker.host):\(broker.port)", topic: topic)
        let mine = ours.map { "\($0.partition) \($0.offset) \(String(decoding: $0.value ?? [], as: UTF8.self))" }
        #expect(theirs.count == 50_000, "librdkafka 2.16 read \(theirs.count) records")
        #expect(theirs.sorted() == mine.sorted(), "librdkafka 2.16 and our consumer read different records")
    }

    /// (b) Latency with jitter and every byte written alone, and a bandwidth limit: frames
    /// arrive in pieces and late, and produce and consume are still exact.
    @Test(arguments: [
        ChaosFaults(latency: .milliseconds(5), jitter: .milliseconds(10), singleByteWrites: true),
        ChaosFaults(latency: .milliseconds(2), jitter: .milliseconds(3), bytesPerSecond: 200_000),
    ])
    func slowAndSlicedTrafficStaysExact(faults: ChaosFaults) async throws {
        let rig = try Self.rig(faults, seed: 7)
        defer { rig.shutdown() }
        let producer = try KafkaClient(configuration: rig.configuration, logger: TestEnvironment.logger)
        var produced: [Result<ProducedRecord, ProduceError>] = []
        for start in stride(from: 0, to: 300, by: 100) {
            produced += await producer.produceAndWait(Self.records(start ..< start + 100))
        }
        await producer.close()
        #expect(Self.failures(produced).isEmpty, "\(Self.failures(produced).first.map { "\($0)" } ?? "")")
        try await Self.checkReadBack(rig, produced)
        let stats = rig.proxy.stats
        #expect(stats.bytesToUpstream > 300 * 100 && stats.bytesToClient > 300 * 100, "\(stats)")
    }

    /// Short budgets, so a fault that never heals fails a record within seconds.
    static func shortTimeouts(_ c: inout KafkaClientConfiguration) {
        c.requestTimeoutOverhead = .seconds(1)
        c.connectTimeout = .seconds(1)
        c.producer.requestTimeout = .seconds(1)
        c.producer.deliveryTimeout = .seconds(3)
    }

    /// Produces one record, waiting at most `limit` for its answer (nil: still waiting).
    static func produce(_ client: KafkaClient, _ i: Int, within limit: Duration) async -> Result<ProducedRecord, ProduceError>? {
        let task = Task { await client.produceAndWait(Self.records(i ..< i + 1))[0] }
        return await ConsumerCancellationTests.value(of: task, within: limit)
    }

    /// (c) A stall on a connection in use: the record fails with the delivery timeout, typed,
    /// not a hang; once the stall lifts (its held bytes arriving late), the producer goes on
    /// and what it acknowledges is read back exactly.
    @Test func aStallFailsTheRecordInTimeAndTheProducerRecovers() async throws {
        let rig = try Self.rig(seed: 3)
        defer { rig.shutdown() }
        var c = rig.configuration
        Self.shortTimeouts(&c)
        let producer = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        var produced: [Result<ProducedRecord, ProduceError>] = []
        produced += await producer.produceAndWait(Self.records(0 ..< 10))
        #expect(Self.failures(produced).isEmpty)
        rig.proxy.updateFaults { $0.stall = true }
        let clock = ContinuousClock()
        let start = clock.now
        let stalled = await Self.produce(producer, 10, within: .seconds(10))
        let took = clock.now - start
        guard let stalled else {
            Issue.record("produce through a stall did not finish within 10 s (delivery timeout 3 s)")
            await producer.close()
            return
        }
        #expect(stalled == .failure(.deliveryTimeout), "\(stalled)")
        #expect(took < .seconds(6), "\(took)")
        produced.append(stalled)
        rig.proxy.updateFaults { $0.stall = false }
        // Recovery: the next records are acknowledged within a few seconds.
        for i in 11 ..< 20 {
            let r = await Self.produce(producer, i, within: .seconds(10))
            #expect(r.map { if case .success = $0 { true } else { false } } == true, "record \(i) after the stall: \(String(describing: r))")
            produced.append(r ?? .failure(.deliveryTimeout))
        }
        await producer.close()
        try await Self.checkReadBack(rig, produced)
    }

    /// (c) A black hole from the start: nothing answers, the record fails with the delivery
    /// timeout in time; once lifted, new connections work and the producer goes on.
    @Test func aBlackHoleFailsTheRecordInTimeAndTheProducerRecovers() async throws {
        let rig = try Self.rig(ChaosFaults(blackHole: true), seed: 4)
        defer { rig.shutdown() }
        var c = rig.configuration
        Self.shortTimeouts(&c)
        let producer = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        let clock = ContinuousClock()
        let start = clock.now
        let swallowed = await Self.produce(producer, 0, within: .seconds(10))
        let took = clock.now - start
        guard let swallowed else {
            Issue.record("produce into a black hole did not finish within 10 s (delivery timeout 3 s)")
            await producer.close()
            return
        }
        #expect(swallowed == .failure(.deliveryTimeout), "\(swallowed)")
        #expect(took < .seconds(6), "\(took)")
        #expect(rig.proxy.stats.blackHoled >= 1, "\(rig.proxy.stats)")
        rig.proxy.setFaults(.none)
        var produced: [Result<ProducedRecord, ProduceError>] = [swallowed]
        for i in 1 ..< 10 {
            let r = await Self.produce(producer, i, within: .seconds(10))
            #expect(r.map { if case .success = $0 { true } else { false } } == true, "record \(i) after the black hole: \(String(describing: r))")
            produced.append(r ?? .failure(.deliveryTimeout))
        }
        await producer.close()
        try await Self.checkReadBack(rig, produced)
    }

    /// Dials one chain of retries can make within `window`: one at once, then one after each
    /// wait, the waits `policy`'s doublings at their shortest (less the jitter).
    static func dials(of policy: BackoffPolicy, within window: Duration) -> Int {
        var dials = 1
        var at = Duration.zero
        var wait = policy.initial
        while true {
            at += wait * (1 - policy.jitter)
            if at > window { return dials }
            dials += 1
            wait = min(wait * 2, policy.max)
        }
    }

    /// (d) Connections refused for 2 s: the client retries at the backoff's pace, not in a
    /// storm, and its record is delivered once refusals stop.
    @Test func refusedConnectionsAreRetriedAtTheBackoffsPace() async throws {
        let rig = try Self.rig(ChaosFaults(refuseConnections: true), seed: 5)
        defer { rig.shutdown() }
        var c = rig.configuration
        c.backoff = BackoffPolicy(initial: .milliseconds(100), max: .milliseconds(400), jitter: 0.2)
        let clock = ContinuousClock()
        let start = clock.now
        let producer = try KafkaClient(configuration: c, logger: TestEnvironment.logger)
        let task = Task { await producer.produceAndWait(Self.records(0 ..< 1)) }
        try await Task.sleep(for: .seconds(2))
        rig.proxy.updateFaults { $0.refuseConnections = false }
        let refused = rig.proxy.stats.refused
        let window = clock.now - start
        let produced = await ConsumerCancellationTests.value(of: task, within: .seconds(10))
        await producer.close()
        #expect(produced.map(Self.failures)?.isEmpty == true, "\(String(describing: produced))")
        #expect(refused >= 3, "\(rig.proxy.stats)")
        // Two chains of retries dial: the Metadata request the record waits on and the
        // idempotent producer's InitProducerId; each waits its backoff between dials (at 2 s,
        // 8 dials each: at 0, 80, 240, 560, 880, 1200, 1520, 1840 ms).
        let bound = 2 * Self.dials(of: c.backoff, within: window)
        #expect(refused <= bound, "\(refused) dials refused in \(window), at most \(bound) expected: \(rig.proxy.stats)")
        if let produced { try await Self.checkReadBack(rig, produced) }
    }
}
