import KafkaProtocol

/// Why a partition stopped, reported to the user with its topic and partition. The other
/// partitions keep going; the user may `skip` past a bad batch or `seek` elsewhere.
public enum ConsumerPartitionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A batch at `offset` failed its CRC or could not be decoded (`reason` says why).
    case corruptBatch(offset: Int64, reason: String)
    /// The position is out of range and the reset policy is `.error`.
    case offsetOutOfRange(offset: Int64)
    /// The broker answered a non-retriable error for the partition.
    case broker(KafkaErrorCode)
    /// One record batch is larger than the fetch's per-partition limit (brokers before
    /// 0.10.1 return nothing then).
    case batchTooLarge(offset: Int64)

    public var description: String {
        switch self {
        case .corruptBatch(let o, let r): return "corrupt batch at offset \(o): \(r)"
        case .offsetOutOfRange(let o): return "offset \(o) out of range"
        case .broker(let c): return "broker error \(c)"
        case .batchTooLarge(let o): return "batch at offset \(o) larger than the fetch limit"
        }
    }
}

/// KIP-320: the log was truncated under us. Records from `fromOffset` (inclusive) up to
/// `toOffset` (exclusive) that we may already have consumed no longer exist on the leader;
/// the fetcher resumes at `fromOffset`.
public struct DataLoss: Sendable, Equatable, CustomStringConvertible {
    public var topicPartition: TopicPartition
    public var fromOffset: Int64
    public var toOffset: Int64
    public init(topicPartition: TopicPartition, fromOffset: Int64, toOffset: Int64) {
        self.topicPartition = topicPartition
        self.fromOffset = fromOffset
        self.toOffset = toOffset
    }
    public var description: String { "data loss on \(topicPartition): offsets \(fromOffset)..<\(toOffset)" }
}
