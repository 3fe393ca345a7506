import KafkaIO

/// Exactly-once copy: writes ten records to `input`, then copies them to `output` with a
/// KafkaTransactSession (the consumed offsets are committed inside each transaction), and
/// reads `output` back read_committed.
enum TransactionalCopyExample {
    static func run(broker: String, input: String, output: String) async throws {
        var config = try KafkaClientConfiguration(seedBrokers: [broker])
        config.allowAutoTopicCreation = true

        // Something to copy.
        let producer = try KafkaClient(configuration: config)
        for result in await producer.produceAndWait((0 ..< 10).map { KafkaRecord(topic: input, value: Array("record \($0)".utf8)) }) {
            _ = try result.get()
        }
        await producer.close()

        // One transactional id per running instance: a restarted instance fences its zombie.
        var copier = config
        copier.producer.transactionalId = "copier-1"
        let session = try KafkaTransactSession(configuration: copier, group: GroupConfiguration(groupId: "copier", topics: [input]))
        async let membership: Void = session.run()
        var copied = 0
        while copied < 10 {
            let poll = await session.poll()
            if poll.closed { break }
            if poll.isEmpty { continue }
            try await session.begin()
            for r in poll.records {
                await session.client.produce(KafkaRecord(topic: output, key: r.key.map(Array.init), value: r.value.map(Array.init))) { _ in }
            }
            // Offsets of everything polled go into the transaction. false: it was aborted (a
            // rebalance took partitions, a record failed) and the records are polled again.
            if try await session.end(commit: true) {
                copied += poll.recordCount
                print("committed a transaction of \(poll.recordCount) records")
            }
        }
        await session.leave()
        try await membership

        // A read_committed reader sees the committed copies only.
        var reader = config
        reader.consumer.isolation = .readCommitted
        let client = try KafkaClient(configuration: reader)
        try client.consume(topics: [output], from: .start)
        var seen = 0
        var atEnd: Set<Int32> = []
        var partitions: Set<Int32> = []
        while seen < copied || atEnd != partitions || partitions.isEmpty {
            let poll = await client.poll(timeout: .seconds(5))
            if poll.closed || poll.isEmpty { break }
            for p in poll.partitions {
                partitions.insert(p.partition)
                seen += p.records.count
                if p.atEnd { atEnd.insert(p.partition) } else { atEnd.remove(p.partition) }
            }
        }
        await client.close()
        print("copied \(copied) records; read_committed reads \(seen) from \(output)")
    }
}
