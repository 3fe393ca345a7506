import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaMetrics
import Logging
import MetricsTestKit
import Testing

/// KafkaMetricsHook after a known workload against FakeClusterTCP, read back from
/// swift-metrics' TestMetrics: exact record and byte counts, request counts per API, gauges
/// back to zero, timers per API and topic.
@Suite struct KafkaMetricsHookTests {
    static let logger = Logger(label: "kgo-metrics-test") { _ in SwiftLogNoOpLogHandler() }

    static func configuration(_ server: FakeClusterServer, metrics: TestMetrics) -> KafkaClientConfiguration {
        let broker = server.brokers[0]
        var c = KafkaClientConfiguration(seedBrokers: [BrokerAddress(host: broker.host, port: Int(broker.port))])
        c.connectTimeout = .seconds(3)
        c.closeTimeout = .seconds(2)
        c.randomSeed = 42
        c.consumer.maxWait = .milliseconds(100)
        c.producer.linger = .milliseconds(2)
        c.hooks = [KafkaMetricsHook(factory: metrics)]
        return c
    }

    @Test func aKnownWorkloadGivesExactCounts() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                                   topics: [.init(name: "a", partitions: 1), .init(name: "b", partitions: 1)]))
        defer { try? server.shutdown() }
        let metrics = TestMetrics()
        let client = try KafkaClient(configuration: Self.configuration(server, metrics: metrics), logger: Self.logger)
        // 7 records to a, 3 to b; then one to a partition that does not exist (fails at once).
        let records = (0 ..< 7).map { _ in KafkaRecord(topic: "a", partition: 0, value: [UInt8](repeating: 1, count: 50)) }
            + (0 ..< 3).map { _ in KafkaRecord(topic: "b", partition: 0, value: [UInt8](repeating: 2, count: 20)) }
        let results = await client.produceAndWait(records)
        #expect(results.allSatisfy { if case .success = $0 { return true } else { return false } }, "\(results)")

        client.assign([TopicPartition("a", 0): .start, TopicPartition("b", 0): .start])
        var consumed = 0
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(15)
        while consumed < 10, clock.now < deadline { consumed += await client.poll(timeout: .milliseconds(200)).recordCount }
        #expect(consumed == 10)
        let connectionsWhileOpen = try metrics.expectMeter("kafka_connections").lastValue
        await client.close()

        #expect(metrics.counterTotal(label: "kafka_produced_records_total", dimensions: [("topic", "a")]) == 7)
        #expect(metrics.counterTotal(label: "kafka_produced_records_total", dimensions: [("topic", "b")]) == 3)
        #expect(metrics.counterTotal(label: "kafka_consumed_records_total", dimensions: [("topic", "a")]) == 7)
        #expect(metrics.counterTotal(label: "kafka_consumed_records_total", dimensions: [("topic", "b")]) == 3)
        let producedA = metrics.counterTotal(label: "kafka_produced_bytes_total", dimensions: [("topic", "a")])
        let producedB = metrics.counterTotal(label: "kafka_produced_bytes_total", dimensions: [("topic", "b")])
        #expect(producedA >= 7 * 50 && producedB >= 3 * 20 && producedA > producedB)
        #expect(metrics.counterTotal(label: "kafka_consumed_bytes_total", dimensions: [("topic", "a")]) > 7 * 50)
        #expect(metrics.counterTotal(label: "kafka_produce_failed_records_total") == 0)
        #expect(metrics.counters(label: "kafka_errors_total").isEmpty)

        // One Produce request carried both topics' batches or one each; Fetch at least one.
        let produces = metrics.counterTotal(label: "kafka_requests_total", dimensions: [("api", "Produce")])
        #expect(produces >= 1 && produces <= 2)
        #expect(metrics.counterTotal(label: "kafka_requests_total", dimensions: [("api", "ApiVersions")]) >= 1)
        #expect(metrics.counterTotal(label: "kafka_requests_total", dimensions: [("api", "Fetch")]) >= 1)
        // Every Produce was answered and timed.
        #expect(try metrics.expectTimer("kafka_request_duration", [("api", "Produce")]).values.count == Int(produces))
        let acks = try metrics.expectTimer("kafka_produce_ack_latency", [("topic", "a")]).values
        #expect(!acks.isEmpty && acks.allSatisfy { $0 > 0 })

        // Gauges: everything buffered was delivered; every connection closed.
        #expect(try metrics.expectMeter("kafka_buffered_records").lastValue == 0)
        #expect(try metrics.expectMeter("kafka_buffered_bytes").lastValue == 0)
        #expect(try metrics.expectMeter("kafka_buffered_records").values.max() ?? 0 >= 1)
        #expect((connectionsWhileOpen ?? 0) >= 1)
        #expect(try metrics.expectMeter("kafka_connections").lastValue == 0)
    }

    /// Records failing for good count as failed, per topic and per error.
    @Test func failedRecordsCountByTopicAndError() async throws {
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], topics: [.init(name: "a", partitions: 1)]))
        defer { try? server.shutdown() }
        // The broker refuses the next two Produce requests with a non-retriable error.
        try await server.withCluster { cluster, _ in
            cluster.pushError(.produce, .invalidRecord, count: 2)
            return ((), [])
        }.get()
        let metrics = TestMetrics()
        let client = try KafkaClient(configuration: Self.configuration(server, metrics: metrics), logger: Self.logger)
        let results = await client.produceAndWait((0 ..< 4).map { _ in KafkaRecord(topic: "a", partition: 0, value: [9]) })
        await client.close()
        let failed = results.filter { if case .failure = $0 { return true } else { return false } }.count
        #expect(failed > 0, "\(results)")
        #expect(metrics.counterTotal(label: "kafka_produce_failed_records_total", dimensions: [("topic", "a")]) == Int64(failed))
        #expect(metrics.counterTotal(label: "kafka_produced_records_total", dimensions: [("topic", "a")]) == Int64(4 - failed))
        #expect(metrics.counterTotal(label: "kafka_errors_total", dimensions: [("error", "INVALID_RECORD")]) == Int64(failed))
        #expect(metrics.counterTotal(label: "kafka_errors_total") == Int64(failed))
        #expect(try metrics.expectMeter("kafka_buffered_records").lastValue == 0)
    }
}
