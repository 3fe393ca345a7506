import KafkaIO

/// Reads every partition of a topic from the beginning and stops once all are at their end.
enum ConsumerExample {
    static func run(broker: String, topic: String) async throws {
        let client = try KafkaClient(configuration: try KafkaClientConfiguration(seedBrokers: [broker]))
        try client.consume(topics: [topic], from: .start)
        var seen: Set<Int32> = []
        var atEnd: Set<Int32> = []
        while true {
            let poll = await client.poll(timeout: .seconds(1))
            for p in poll.partitions {
                seen.insert(p.partition)
                for r in p.records {
                    print("\(p.topic)/\(p.partition)@\(r.offset): \(String(decoding: r.value ?? [], as: UTF8.self))")
                }
                if let error = p.error { print("partition \(p.partition) stopped: \(error)") }
                if p.atEnd { atEnd.insert(p.partition) } else if !p.records.isEmpty { atEnd.remove(p.partition) }
            }
            if poll.closed || (!seen.isEmpty && seen.isSubset(of: atEnd)) { break }
        }
        await client.close()
    }
}
