import KafkaProtocol

/// The consumer embedded protocol (the bytes classic members carry in JoinGroup metadata and
/// receive in SyncGroup assignments: an int16 version, then the body) as the coordinator
/// reads and writes it for classic members of a consumer group and for conversions.
/// A version above the newest known is read as the newest: later versions only append.
enum ConsumerProtocolBytes {
    /// nil when the bytes do not parse.
    static func subscription(_ bytes: [UInt8]) -> ConsumerProtocolSubscription? {
        var r = ByteReader(bytes)
        guard let v = try? r.readInt16("version"), v >= 0 else { return nil }
        return try? ConsumerProtocolSubscription(from: &r, version: min(v, ConsumerProtocolSubscription.validVersions.upperBound))
    }

    /// The partitions a subscription says its member owns (v1+; none before).
    static func owned(_ s: ConsumerProtocolSubscription) -> [TopicPartition] {
        s.ownedPartitions.flatMap { t in t.partitions.map { TopicPartition(t.topic, $0) } }
    }

    /// nil when the bytes do not parse; empty bytes (no assignment yet) are no partitions.
    static func assignment(_ bytes: [UInt8]) -> [TopicPartition]? {
        if bytes.isEmpty { return [] }
        var r = ByteReader(bytes)
        guard let v = try? r.readInt16("version"), v >= 0,
              let a = try? ConsumerProtocolAssignment(from: &r, version: min(v, ConsumerProtocolAssignment.validVersions.upperBound))
        else { return nil }
        return a.assignedPartitions.flatMap { t in t.partitions.map { TopicPartition(t.topic, $0) } }
    }

    /// An assignment at the newest version (as Kafka's coordinator writes it), grouped by
    /// topic, topics and partitions sorted, no user data.
    static func encodeAssignment(_ partitions: [TopicPartition]) -> [UInt8] {
        let version = ConsumerProtocolAssignment.validVersions.upperBound
        var a = ConsumerProtocolAssignment()
        for tp in Set(partitions).sorted() {
            if let last = a.assignedPartitions.indices.last, a.assignedPartitions[last].topic == tp.topic {
                a.assignedPartitions[last].partitions.append(tp.partition)
            } else {
                var t = ConsumerProtocolAssignment.TopicPartition()
                t.topic = tp.topic
                t.partitions = [tp.partition]
                a.assignedPartitions.append(t)
            }
        }
        var w = ByteWriter()
        w.writeInt16(version)
        // Topic names come from the topic image (valid names), so encoding cannot fail.
        try! a.encode(into: &w, version: version)
        return w.bytes
    }
}
