import KafkaIO

/// Produces ten records and waits for each acknowledgement.
enum ProducerExample {
    static func run(broker: String, topic: String) async throws {
        var config = try KafkaClientConfiguration(seedBrokers: [broker])
        config.producer.compression = [.zstd, .none]   // the first the broker supports
        config.allowAutoTopicCreation = true            // off by default: a typo fails instead
        let client = try KafkaClient(configuration: config)

        // Awaiting each record is simplest; `produce(_:completion:)` is the fast path:
        // it waits only for buffer room and batches records per partition.
        for i in 0 ..< 10 {
            let record = KafkaRecord(topic: topic, key: Array("key-\(i % 3)".utf8), value: Array("hello \(i)".utf8),
                                     headers: [RecordHeader(key: "source", value: Array("example".utf8))])
            let produced = try await client.produce(record)
            print("\(topic)/\(produced.partition) offset \(produced.offset)")
        }
        await client.flush()
        await client.close()
    }
}
