import CoreMetrics
import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaMetrics
import Logging
import Testing
@testable import kgo

/// The recording backend of `kgo bench --hooks metrics`: it must count what it is given
/// (a backend that lost updates would make the adapter look cheaper than it is).
@Suite struct BenchMetricsFactoryTests {
    @Test func handlesCountAndAreMadeOncePerLabelAndDimensions() {
        let f = BenchMetricsFactory()
        let a = Counter(label: "c", dimensions: [("topic", "a")], factory: f)
        let a2 = Counter(label: "c", dimensions: [("topic", "a")], factory: f)
        let b = Counter(label: "c", dimensions: [("topic", "b")], factory: f)
        a.increment(by: 3)
        a2.increment(by: 4)
        b.increment()
        #expect(f.counter("c", [("topic", "a")]) == 7)
        #expect(f.counter("c", [("topic", "b")]) == 1)
        #expect(f.counterTotal("c") == 8)
        #expect(f.counter("c", [("topic", "z")]) == nil)

        let m = Meter(label: "g", dimensions: [], factory: f)
        m.increment(by: 5)
        m.decrement(by: 2)
        #expect(f.meter("g") == 3)
        m.set(Int64(-1))
        #expect(f.meter("g") == -1)

        let t = Timer(label: "t", dimensions: [("api", "Produce")], factory: f)
        t.recordNanoseconds(2_000_000)        // 2 ms: the first bucket (5 ms)
        t.recordNanoseconds(20_000_000_000)   // 20 s: past the last bound
        #expect(f.timerCount("t") == 2)
        let h = f.makeTimer(label: "t", dimensions: [("api", "Produce")]) as! BenchHistogram
        #expect(h.snapshot.buckets.first == 1 && h.snapshot.buckets.last == 1)
        #expect(abs(h.snapshot.sum - 20.002) < 1e-9)
    }

    @Test func concurrentUpdatesAreNotLost() async {
        let f = BenchMetricsFactory()
        let c = Counter(label: "c", dimensions: [], factory: f)
        let m = Meter(label: "g", dimensions: [], factory: f)
        let t = Timer(label: "t", dimensions: [], factory: f)
        await withTaskGroup(of: Void.self) { g in
            for _ in 0 ..< 4 {
                g.addTask {
                    for _ in 0 ..< 10_000 {
                        c.increment()
                        m.increment(by: 1)
                        t.recordNanoseconds(1)
                    }
                }
            }
        }
        #expect(f.counterTotal("c") == 40_000)
        #expect(f.meter("g") == 40_000)
        #expect(f.timerCount("t") == 40_000)
    }

    /// KafkaMetricsHook on this backend after a known workload against FakeClusterTCP, as the
    /// benchmark checks it after each run.
    @Test func theAdapterOnThisBackendCountsAKnownWorkload() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], topics: [.init(name: "a", partitions: 1)]))
        defer { try? server.shutdown() }
        let f = BenchMetricsFactory()
        var c = KafkaClientConfiguration(seedBrokers: [BrokerAddress(host: server.brokers[0].host, port: Int(server.brokers[0].port))])
        c.connectTimeout = .seconds(3)
        c.closeTimeout = .seconds(2)
        c.consumer.maxWait = .milliseconds(100)
        c.hooks = BenchHookMode.metrics.hooks(f)
        let client = try KafkaClient(configuration: c, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        let results = await client.produceAndWait((0 ..< 9).map { _ in KafkaRecord(topic: "a", partition: 0, value: [1, 2, 3]) })
        #expect(results.allSatisfy { if case .success = $0 { return true } else { return false } }, "\(results)")
        client.assign([TopicPartition("a", 0): .start])
        var consumed = 0
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        while consumed < 9, clock.now < deadline { consumed += await client.poll(timeout: .milliseconds(200)).recordCount }
        await client.close()
        #expect(consumed == 9)
        #expect(f.counter("kafka_produced_records_total", [("topic", "a")]) == 9)
        #expect(f.counter("kafka_consumed_records_total", [("topic", "a")]) == 9)
        #expect(f.timerCount("kafka_produce_ack_latency") >= 1)
        #expect(f.meter("kafka_buffered_records") == 0)
        #expect(f.meter("kafka_connections") == 0)
        #expect(BenchHookMode.none.hooks(f).isEmpty)
        #expect(BenchHookMode.empty.hooks(f).count == 1)
    }

    @Test func roundsAlternateAndTheSummaryComparesWithTheFirstSetting() throws {
        #expect(BenchHookOptions.order([.none, .metrics], round: 1) == [.none, .metrics])
        #expect(BenchHookOptions.order([.none, .metrics], round: 2) == [.metrics, .none])
        #expect(BenchHookSummary.median([3, 1, 2]) == 2)
        #expect(BenchHookSummary.median([4, 1, 2, 3]) == 2.5)
        let samples = [BenchHookSample(mode: .none, round: 1, records: 100, bytes: 1000, seconds: 1, cpuSeconds: 2),
                       BenchHookSample(mode: .metrics, round: 1, records: 100, bytes: 1000, seconds: 2, cpuSeconds: 3)]
        let lines = BenchHookSummary.lines(samples, modes: [.none, .metrics], rounds: 2, what: "producer")
        #expect(lines.last == "HOOKS producer metrics vs none: throughput -50.0% (median rec/s), -50.0% (best); CPU +50.0% (median cpu_s), +50.0% (least)")
    }
}
