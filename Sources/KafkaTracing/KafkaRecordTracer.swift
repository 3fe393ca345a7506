import KafkaIO
import Tracing

/// Traces produced and consumed records with a swift-distributed-tracing `Tracer`: a
/// producer span per record (or one per batch) whose context travels in the records'
/// headers, and a consumer span linked to it. The tracer is passed in, not read from
/// `InstrumentationSystem`, so tests and several tracers side by side need no global state.
///
/// ```swift
/// let tracing = KafkaRecordTracer(tracer: otelTracer)
/// let landed = try await tracing.produce(KafkaRecord(topic: "orders", value: body), on: client)
/// for try await record in consumer.records() {
///     try await tracing.withConsumerSpan(record) { span in try await handle(record) }
/// }
/// ```
public struct KafkaRecordTracer<T: Tracer>: Sendable {
    /// How many producer spans a batch of records gets.
    public enum BatchSpans: Sendable {
        /// One span per record (each record's headers carry its own span).
        case perRecord
        /// One span for the whole batch (every record's headers carry that span).
        case perBatch
    }

    public let tracer: T

    public init(tracer: T) {
        self.tracer = tracer
    }

    /// Produces `record` inside a producer span, a child of `context`, whose context is
    /// injected into the record's headers; the span ends when the record is delivered
    /// or failed (recording the error).
    public func produce(_ record: KafkaRecord, on client: KafkaClient,
                        context: ServiceContext = .current ?? .topLevel) async throws(ProduceError) -> ProducedRecord {
        var record = record
        let span = startProducerSpan(topic: record.topic, records: 1, context: context)
        tracer.inject(span.context, into: &record.headers, using: RecordHeadersInjector())
        do {
            let produced = try await client.produce(record)
            end(span, with: .success(produced))
            return produced
        } catch {
            end(span, with: .failure(error))
            throw error
        }
    }

    /// The callback form from async code (see `KafkaClient.produce(_:completion:) async`):
    /// waits for buffer room, not for delivery; `completion` runs after the span has ended.
    public func produce(_ record: KafkaRecord, on client: KafkaClient, context: ServiceContext = .current ?? .topLevel,
                        completion: @escaping ProduceCompletion) async {
        var record = record
        let span = startProducerSpan(topic: record.topic, records: 1, context: context)
        tracer.inject(span.context, into: &record.headers, using: RecordHeadersInjector())
        await client.produce(record) { result in
            end(span, with: result)
            completion(result)
        }
    }

    /// The callback form from synchronous code: `completion` runs after the span has ended.
    public func produce(_ record: KafkaRecord, on client: KafkaClient, context: ServiceContext = .current ?? .topLevel,
                        completion: @escaping ProduceCompletion) {
        var record = record
        let span = startProducerSpan(topic: record.topic, records: 1, context: context)
        tracer.inject(span.context, into: &record.headers, using: RecordHeadersInjector())
        client.produce(record) { result in
            end(span, with: result)
            completion(result)
        }
    }

    /// Produces every record and waits for all of them (see `KafkaClient.produceAndWait`),
    /// with a span per record or one for the batch (its topic attribute is the first
    /// record's; it ends with the first failure recorded, if any).
    public func produceAndWait(_ records: [KafkaRecord], on client: KafkaClient, spans: BatchSpans = .perRecord,
                               context: ServiceContext = .current ?? .topLevel) async -> [Result<ProducedRecord, ProduceError>] {
        guard let first = records.first else { return [] }
        var records = records
        switch spans {
        case .perRecord:
            var started: [T.Span] = []
            started.reserveCapacity(records.count)
            for i in records.indices {
                let span = startProducerSpan(topic: records[i].topic, records: 1, context: context)
                tracer.inject(span.context, into: &records[i].headers, using: RecordHeadersInjector())
                started.append(span)
            }
            let results = await client.produceAndWait(records)
            for (span, result) in zip(started, results) { end(span, with: result) }
            return results
        case .perBatch:
            let span = startProducerSpan(topic: first.topic, records: records.count, context: context)
            for i in records.indices { tracer.inject(span.context, into: &records[i].headers, using: RecordHeadersInjector()) }
            let results = await client.produceAndWait(records)
            if let failure = results.lazy.compactMap({ r -> ProduceError? in if case .failure(let e) = r { return e } else { return nil } }).first {
                span.recordError(failure)
                span.setStatus(SpanStatus(code: .error))
            }
            span.end()
            return results
        }
    }

    /// The context the record's producer propagated in its headers (empty when none did).
    public func producerContext(of record: ConsumerRecord) -> ServiceContext {
        var context = ServiceContext.topLevel
        tracer.extract(record.headers, into: &context, using: RecordHeadersExtractor())
        return context
    }

    /// Runs `operation` in a consumer span for `record`: a child of `context` (the caller's,
    /// not the producer's: the producer's trace ended when the record was written) with a
    /// link to the producer's span when the headers carry one.
    public func withConsumerSpan<R>(_ record: ConsumerRecord, context: ServiceContext = .current ?? .topLevel,
                                    isolation: isolated (any Actor)? = #isolation,
                                    _ operation: (T.Span) async throws -> R) async rethrows -> R {
        let span = tracer.startSpan("process \(record.topic)", context: context, ofKind: .consumer)
        let producer = producerContext(of: record)
        if !producer.isEmpty { span.addLink(SpanLink(context: producer, attributes: [:])) }
        span.updateAttributes { a in
            a["messaging.system"] = "kafka"
            a["messaging.operation.type"] = "process"
            a["messaging.destination.name"] = record.topic
            a["messaging.destination.partition.id"] = "\(record.partition)"
            a["messaging.kafka.offset"] = Int(record.offset)
        }
        defer { span.end() }
        do {
            return try await ServiceContext.withValue(span.context, isolation: isolation) { try await operation(span) }
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    private func startProducerSpan(topic: String, records: Int, context: ServiceContext) -> T.Span {
        let span = tracer.startSpan("send \(topic)", context: context, ofKind: .producer)
        span.updateAttributes { a in
            a["messaging.system"] = "kafka"
            a["messaging.operation.type"] = "send"
            a["messaging.destination.name"] = topic
            if records > 1 { a["messaging.batch.message_count"] = records }
        }
        return span
    }

    private func end(_ span: T.Span, with result: Result<ProducedRecord, ProduceError>) {
        switch result {
        case .success(let produced):
            span.updateAttributes { a in
                a["messaging.destination.partition.id"] = "\(produced.partition)"
                a["messaging.kafka.offset"] = Int(produced.offset)
            }
        case .failure(let error):
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
    }
}
