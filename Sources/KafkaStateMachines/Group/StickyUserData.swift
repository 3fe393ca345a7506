import KafkaProtocol

/// The user data the sticky balancers exchange, in Java's layouts (no version prefix):
///
/// - "sticky" (KIP-54, generation added by KIP-341): StickyAssignorUserData v1 —
///   `previous_assignment: [topic: STRING, partitions: [INT32]]` then `generation: INT32`;
///   v0 is the array alone. A reader tries v1 and takes v0 when the generation is absent.
/// - "cooperative-sticky" (KIP-429): the INT32 generation alone; what the member owns
///   travels in the subscription's owned partitions instead.
public enum StickyUserData {
    /// StickyAssignorUserData v1. Topics and partitions sorted; a topic name no broker
    /// could have (longer than 32767 bytes) is left out rather than failing the join.
    public static func encodeSticky(owned: [TopicPartition], generation: Int32) -> [UInt8] {
        let groups = ConsumerProtocol.grouped(owned).filter { $0.0.utf8.count <= Int(Int16.max) }
        var w = ByteWriter()
        w.writeArrayLength(groups.count, compact: false)
        for (topic, partitions) in groups {
            try? w.writeString(topic, compact: false)
            w.writeArrayLength(partitions.count, compact: false)
            for p in partitions { w.writeInt32(p) }
        }
        w.writeInt32(generation)
        return w.bytes
    }

    /// StickyAssignorUserData v1 or v0: the previous assignment, sorted, and the generation
    /// (nil for v0). Nil when the bytes do not parse: the member is then treated as owning
    /// nothing, which costs stickiness, never correctness.
    public static func decodeSticky(_ bytes: [UInt8]) -> (partitions: [TopicPartition], generation: Int32?)? {
        var r = ByteReader(bytes)
        do throws(KafkaDecodingError) {
            var out: [TopicPartition] = []
            let topics = try r.readNonNullArrayLength(compact: false, "previous_assignment")
            for _ in 0 ..< topics {
                let topic = try r.readString(compact: false, "topic")
                let n = try r.readNonNullArrayLength(compact: false, "partitions")
                for _ in 0 ..< n { out.append(TopicPartition(topic, try r.readInt32("partition"))) }
            }
            let generation: Int32? = r.remaining >= 4 ? try r.readInt32("generation") : nil
            return (sortedUnique(out), generation)
        } catch {
            return nil
        }
    }

    /// The cooperative-sticky user data: the generation as a big-endian INT32.
    public static func encodeCooperative(generation: Int32) -> [UInt8] {
        var w = ByteWriter(capacity: 4)
        w.writeInt32(generation)
        return w.bytes
    }

    /// The generation from cooperative-sticky user data; nil when shorter than 4 bytes.
    public static func decodeCooperative(_ bytes: [UInt8]) -> Int32? {
        var r = ByteReader(bytes)
        return try? r.readInt32("generation")
    }
}
