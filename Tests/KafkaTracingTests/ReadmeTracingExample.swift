import KafkaIO
import KafkaTracing
import Tracing

/// The README's tracing example, compiled with the tests so it cannot rot (not run: it
/// needs a broker and consumes forever).
enum ReadmeTracingExample {
    static func main(tracer: some Tracer, client: KafkaClient, consumer: KafkaGroupConsumer) async throws {
        let tracing = KafkaRecordTracer(tracer: tracer)   // e.g. swift-otel's tracer: W3C traceparent / tracestate
        // A child of the caller's span (ServiceContext.current); its context goes into the headers.
        _ = try await tracing.produce(KafkaRecord(topic: "orders", value: Array("{}".utf8)), on: client)
        _ = await tracing.produceAndWait([KafkaRecord(topic: "orders", value: [1]), KafkaRecord(topic: "orders", value: [2])],
                                         on: client, spans: .perBatch)
        for try await record in consumer.records() {
            // A consumer span linked to the producer's span.
            try await tracing.withConsumerSpan(record) { span in
                span.attributes["orders.kind"] = "new"
            }
        }
    }
}
