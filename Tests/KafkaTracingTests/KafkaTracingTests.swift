import FakeCluster
import FakeClusterTCP
import InMemoryTracing
import KafkaIO
import KafkaTracing
import Logging
import Testing
import Tracing

/// Trace context through a real produce and consume (FakeCluster's TCP listener): the
/// producer span's context reaches the record's headers as W3C `traceparent` /
/// `tracestate`, and the consumer's span links back to it.
@Suite struct KafkaTracingTests {
    static func server() throws -> FakeClusterServer {
        try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], topics: [.init(name: "t", partitions: 1)]))
    }

    static func client(_ server: FakeClusterServer) throws -> KafkaClient {
        let broker = server.brokers[0]
        var c = KafkaClientConfiguration(seedBrokers: [BrokerAddress(host: broker.host, port: Int(broker.port))])
        c.connectTimeout = .seconds(3)
        c.retryTimeout = .seconds(5)
        c.closeTimeout = .seconds(2)
        c.randomSeed = 7
        c.consumer.maxWait = .milliseconds(100)
        var logger = Logger(label: "kgo-tracing-test")
        logger.logLevel = .warning
        return try KafkaClient(configuration: c, logger: logger)
    }

    /// Polls partition 0 of "t" from the start until `count` records came.
    static func consume(_ client: KafkaClient, _ count: Int) async -> [ConsumerRecord] {
        client.assign([TopicPartition("t", 0): .start])
        var out: [ConsumerRecord] = []
        let clock = ContinuousClock()
        let start = clock.now
        while out.count < count, clock.now - start < .seconds(10) { out += await client.poll(timeout: .seconds(1)).records }
        return out
    }

    static func header(_ key: String, _ record: ConsumerRecord) -> String? {
        record.headers.last { $0.key == key }.flatMap { $0.value.map { String(decoding: $0, as: UTF8.self) } }
    }

    static func attribute(_ name: String, _ span: FinishedInMemorySpan) -> SpanAttribute? {
        span.attributes[name]?.toSpanAttribute()
    }

    @Test func theProducerSpanTravelsInTheHeadersAndTheConsumerSpanLinksToIt() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let client = try Self.client(server)
        let tracer = W3CInMemoryTracer()
        let tracing = KafkaRecordTracer(tracer: tracer)

        // The caller's request span, with vendor trace state, is the producer span's parent.
        var callerContext = ServiceContext.topLevel
        callerContext.traceState = "vendor=42"
        let request = tracer.startSpan("handle request", context: callerContext)
        let produced = try await tracing.produce(KafkaRecord(topic: "t", value: Array("hello".utf8)), on: client, context: request.context)
        request.end()

        let finished = tracer.inner.finishedSpans
        let producer = try #require(finished.first { $0.kind == .producer })
        #expect(producer.operationName == "send t")
        #expect(producer.traceID == request.traceID)
        #expect(producer.parentSpanID == request.spanID)
        #expect(Self.attribute("messaging.system", producer) == .string("kafka"))
        #expect(Self.attribute("messaging.kafka.offset", producer) == .int64(produced.offset))
        #expect(producer.errors.isEmpty)

        let records = await Self.consume(client, 1)
        let record = try #require(records.first)
        #expect(Self.header("traceparent", record) == "00-\(request.traceID)-\(producer.spanID)-01")
        #expect(Self.header("tracestate", record) == "vendor=42")

        // The consumer's span belongs to the consumer's own trace, linked to the producer's span.
        let consumerTrace = tracer.startSpan("poll loop")
        let seen = await tracing.withConsumerSpan(record, context: consumerTrace.context) { span in
            (span.traceID, ServiceContext.current?.inMemorySpanContext?.spanID == span.spanID)
        }
        consumerTrace.end()
        #expect(seen.0 == consumerTrace.traceID)
        #expect(seen.1, "the operation did not run with the consumer span as the current context")
        let consumer = try #require(tracer.inner.finishedSpans.first { $0.kind == .consumer })
        #expect(consumer.operationName == "process t")
        #expect(consumer.parentSpanID == consumerTrace.spanID)
        #expect(consumer.links.count == 1)
        let linked = consumer.links.first?.context.inMemorySpanContext
        #expect(linked?.traceID == request.traceID)
        #expect(linked?.spanID == producer.spanID)
        #expect(consumer.links.first?.context.traceState == "vendor=42")
        await client.close()
    }

    @Test func aBatchGetsOneSpanOrOnePerRecordAsConfigured() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let client = try Self.client(server)
        let tracer = W3CInMemoryTracer()
        let tracing = KafkaRecordTracer(tracer: tracer)
        let batch = (0 ..< 3).map { KafkaRecord(topic: "t", value: [UInt8($0)]) }

        let one = await tracing.produceAndWait(batch, on: client, spans: .perBatch)
        #expect(one.allSatisfy { if case .success = $0 { return true } else { return false } })
        let batchSpans = tracer.inner.popFinishedSpans()
        #expect(batchSpans.count == 1)
        #expect(batchSpans.first.flatMap { Self.attribute("messaging.batch.message_count", $0) } == .int64(3))

        let each = await tracing.produceAndWait(batch, on: client, spans: .perRecord)
        #expect(each.allSatisfy { if case .success = $0 { return true } else { return false } })
        let recordSpans = tracer.inner.popFinishedSpans()
        #expect(recordSpans.count == 3)

        let records = await Self.consume(client, 6)
        // A require, not an expect: the slices below would trap on fewer records, and a trap
        // ends the whole test process (every suite running beside this one).
        try #require(records.count == 6)
        let parents = records.map { Self.header("traceparent", $0) }
        let batchSpan = batchSpans.first?.spanID ?? "none"
        #expect(parents[0 ..< 3].allSatisfy { $0?.contains("-\(batchSpan)-") == true }, "\(parents)")
        #expect(Set(parents[3 ..< 6].compactMap { $0 }) == Set(recordSpans.map { "00-\($0.traceID)-\($0.spanID)-01" }), "\(parents)")
        await client.close()
    }

    @Test func aFailedProduceEndsItsSpanWithTheError() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let client = try Self.client(server)
        let tracer = W3CInMemoryTracer()
        let tracing = KafkaRecordTracer(tracer: tracer)
        do {
            _ = try await tracing.produce(KafkaRecord(topic: "t", partition: 5, value: [1]), on: client)
            Issue.record("a record for partition 5 of a one-partition topic was delivered")
        } catch {
            let span = try #require(tracer.inner.finishedSpans.first)
            #expect(span.errors.count == 1)
            #expect(span.status?.code == .error)
        }
        await client.close()
    }

    @Test func injectingReplacesAnEarlierTraceparentAndExtractingReadsTheLast() {
        var headers = [RecordHeader(key: "traceparent", value: Array("old".utf8)), RecordHeader(key: "other", value: [1])]
        RecordHeadersInjector().inject("new", forKey: "traceparent", into: &headers)
        #expect(headers.filter { $0.key == "traceparent" }.count == 1)
        #expect(headers.contains(RecordHeader(key: "other", value: [1])))
        #expect(RecordHeadersExtractor().extract(key: "traceparent", from: headers) == "new")
        headers.append(RecordHeader(key: "traceparent", value: Array("newest".utf8)))
        #expect(RecordHeadersExtractor().extract(key: "traceparent", from: headers) == "newest")
        #expect(RecordHeadersExtractor().extract(key: "absent", from: headers) == nil)
    }
}
