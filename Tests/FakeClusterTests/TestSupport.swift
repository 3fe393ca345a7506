@testable import FakeCluster

/// A client-style batch: `count` records, offsets unassigned, optional producer fields.
func makeBatch(count: Int = 1, timestamp: Int64 = 1_000, timestampStep: Int64 = 0, producerId: Int64 = -1,
               epoch: Int16 = -1, sequence: Int32 = -1, transactional: Bool = false,
               valueSize: Int = 4) -> [UInt8] {
    let records = (0 ..< count).map { i in
        BatchBuilder.Record(timestampDelta: Int64(i) * timestampStep, key: nil,
                            value: [UInt8](repeating: UInt8(truncatingIfNeeded: i), count: valueSize))
    }
    return BatchBuilder.build(attributes: transactional ? 0x10 : 0, baseTimestamp: timestamp, producerId: producerId,
                              producerEpoch: epoch, baseSequence: sequence, records: records)
}

func header(_ bytes: [UInt8]) -> BatchHeader { try! BatchHeader.parse(bytes) }

func tp(_ topic: String, _ p: Int32) -> TopicPartition {
    TopicPartition(topic: topic, partition: p)
}

func ms(_ v: Int64) -> Instant { .milliseconds(UInt64(max(0, v))) }
