import KafkaIO
import Logging
import ServiceLifecycle

/// The README's server example, compiled with the tests so it cannot rot (it is not run:
/// it serves until a signal).
enum ReadmeServiceExample {
    static func main() async throws {
        let logger = Logger(label: "orders")
        var configuration = try KafkaClientConfiguration(seedBrokers: ["127.0.0.1:19092"])
        configuration.clientId = "orders-api"          // on every log line as kafka.client_id
        configuration.shutdownTimeout = .seconds(10)   // flush (and commit, leave) at most this long
        let producer = try KafkaClient(configuration: configuration, logger: logger)

        let services = ServiceGroup(services: [producer], gracefulShutdownSignals: [.sigterm], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run() }   // on SIGTERM: flushes, then closes
            tasks.addTask {
                // A request handler: cancelling its task (the HTTP client went away) stops the wait.
                do {
                    let at = try await producer.produce(KafkaRecord(topic: "orders", value: Array("{}".utf8)))
                    logger.info("stored", metadata: ["offset": "\(at.offset)"])
                } catch ProduceError.cancelled {
                    // Cancelled after it was queued, the record may still be delivered.
                }
            }
            try await tasks.waitForAll()
        }
    }

    /// Users' own tests build the client's result types directly.
    static func handlerTestValues() -> (ConsumerPoll, ProducedRecord) {
        let record = Record(offset: 7, timestamp: 1_700_000_000_000, key: Array("k".utf8), value: Array("v".utf8),
                            headers: [RecordHeader(key: "traceparent", value: nil)])
        let poll = ConsumerPoll(partitions: [PolledPartition(topic: "orders", partition: 0, records: [record])])
        return (poll, ProducedRecord(topic: "orders", partition: 0, offset: 7, timestamp: 1_700_000_000_000))
    }
}
