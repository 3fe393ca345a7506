/// How many replicas must have a record before the broker acknowledges it.
public enum ProducerAcks: Int16, Sendable, CustomStringConvertible {
    /// The broker never answers; records are "delivered" once written to the socket.
    case none = 0
    case leader = 1
    case all = -1

    public var description: String {
        switch self {
        case .none: "none"
        case .leader: "leader"
        case .all: "all"
        }
    }
}

/// How a record without an explicit partition picks one.
public enum PartitionerKind: Sendable, Equatable {
    /// KIP-480: stay on one partition until its batch closes, then move to another at random.
    /// Keyed records hash (murmur2), as Java's default.
    case sticky
    /// KIP-794: stay on one partition for `bytes` of records, then pick the next one at
    /// random weighted toward partitions with shorter queues when `adaptive`. Keyed records hash.
    case uniformBytes(bytes: Int, adaptive: Bool)
    /// KIP-369 (Java's RoundRobinPartitioner): every record to the next partition; keys ignored.
    case roundRobin
    /// The partition with the fewest buffered records (ties: lowest number); keys ignored.
    case leastBackup
    /// Every record names its partition; one without is an error at the call.
    case manual
}

/// The producer's settings. `validate()` rejects conflicting or out-of-range values.
package struct ProducerConfig: Sendable, Equatable {
    public var acks: ProducerAcks = .all
    /// Sequence numbers per partition so retries never duplicate (KIP-98); needs acks=all.
    public var idempotent = true
    /// What happens when the cluster cannot do idempotence (brokers before 0.11 have no
    /// InitProducerId): true produces without it, saying so once in a notice; false fails
    /// the producer with `ProducerConfigError.idempotenceUnsupported`. Never for a
    /// transactional producer. KafkaIO sets it when idempotence is only the default.
    public var idempotenceFallback = false
    /// How long a partition's open batch waits for more records before it is sent.
    public var linger: Interval = .milliseconds(5)
    /// Bytes of one batch on the wire before compression (header included).
    public var maxBatchBytes = 1_000_000
    /// Bytes of batches (before compression) one Produce request carries; a single larger
    /// batch still goes alone. Without it a request took one batch of every ready partition:
    /// at 1,000 partitions of a backlog that was the whole buffer in one request, held
    /// several times over (the batches, their sealed bytes, the frame, the socket buffer).
    public var maxRequestBytes = 1_048_576
    /// Records accepted but not yet delivered, in total; beyond this produce is refused.
    public var maxBufferedRecords = 100_000
    /// Bytes of records accepted but not yet delivered, in total.
    public var maxBufferedBytes = 256 * 1024 * 1024
    /// Codecs in order of preference; the first one the leader's Produce version can carry
    /// wins (zstd needs Produce v7), `.none` always can.
    public var compression: [CompressionCodec] = [.none]
    public var partitioner: PartitionerKind = .uniformBytes(bytes: 64 * 1024, adaptive: true)
    /// A record not acknowledged within this long of being produced fails. nil: retry forever.
    public var deliveryTimeout: Interval? = nil
    /// The Produce request's broker-side timeout (the engine adds its overhead for the deadline).
    public var requestTimeout: Interval = .seconds(30)
    /// Produce requests outstanding to one broker at once (Kafka allows at most 5 with idempotence).
    public var maxInFlightPerBroker = 5
    /// How many times a batch is sent again after a retriable failure before its records
    /// fail with that failure's error (kgo's RecordRetries). nil: no limit, only
    /// `deliveryTimeout` bounds the retries. With idempotence a batch failed this way may
    /// have been written, so the producer bumps its epoch before the partition goes on.
    public var recordRetries: Int? = nil
    /// Metadata refreshes that may report a topic missing before its records fail (kgo's
    /// UnknownTopicRetries): a separate limit, counted per topic rather than per batch.
    public var unknownTopicRetries = 4
    /// Records wait for `flush` instead of lingering.
    public var manualFlushing = false
    /// Makes the producer transactional (KIP-98): records go only inside a transaction
    /// begun and ended by the user, under this id. Needs idempotence.
    public var transactionalId: String? = nil
    /// How long the coordinator lets a transaction stay open before aborting it (sent in
    /// InitProducerId). 60 s, as Java and librdkafka: a broker's
    /// transaction.max.timeout.ms defaults to 15 min, so any client default below that works,
    /// and matching the common clients keeps mixed deployments unsurprising.
    public var transactionTimeout: Interval = .seconds(60)
    public init() {}

    /// Throws the first problem found.
    public func validate() throws(ProducerConfigError) {
        if idempotent && acks != .all { throw .idempotenceNeedsAcksAll(acks) }
        if maxBatchBytes < RecordBatchEncoder.batchHeaderSize + 8 || maxBatchBytes > 256 * 1024 * 1024 {
            throw .outOfRange("maxBatchBytes", "\(maxBatchBytes)")
        }
        if maxRequestBytes < 1 { throw .outOfRange("maxRequestBytes", "\(maxRequestBytes)") }
        if maxBufferedRecords < 1 { throw .outOfRange("maxBufferedRecords", "\(maxBufferedRecords)") }
        if maxBufferedBytes < maxBatchBytes { throw .outOfRange("maxBufferedBytes", "\(maxBufferedBytes) (below maxBatchBytes)") }
        if compression.isEmpty { throw .outOfRange("compression", "empty preference list") }
        if maxInFlightPerBroker < 1 || (idempotent && maxInFlightPerBroker > 5) {
            throw .outOfRange("maxInFlightPerBroker", "\(maxInFlightPerBroker)\(idempotent ? " (idempotence allows 1 ... 5)" : "")")
        }
        if let n = recordRetries, n < 0 { throw .outOfRange("recordRetries", "\(n)") }
        if unknownTopicRetries < 0 { throw .outOfRange("unknownTopicRetries", "\(unknownTopicRetries)") }
        if case .uniformBytes(let b, _) = partitioner, b < 1 { throw .outOfRange("partitioner bytes", "\(b)") }
        if requestTimeout.milliseconds > UInt64(Int32.max) { throw .outOfRange("requestTimeout", "\(requestTimeout)") }
        if let id = transactionalId {
            if id.isEmpty { throw .emptyTransactionalId }
            if !idempotent { throw .transactionsNeedIdempotence }
            // The broker caps ids at its string limit (Int16 length on the wire).
            if id.utf8.count > Int(Int16.max) { throw .outOfRange("transactionalId", "\(id.utf8.count) bytes (at most \(Int16.max))") }
            if transactionTimeout.milliseconds < 1 || transactionTimeout.milliseconds > UInt64(Int32.max) {
                throw .outOfRange("transactionTimeout", "\(transactionTimeout)")
            }
        }
    }
}

public enum ProducerConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    case idempotenceNeedsAcksAll(ProducerAcks)
    case negativeLinger(Int64)
    case outOfRange(String, String)
    /// A transactional id must name something.
    case emptyTransactionalId
    /// Transactions are built on idempotence (sequence numbers, producer id and epoch).
    case transactionsNeedIdempotence
    /// Idempotence (or transactions) was asked for, but the broker has no InitProducerId
    /// (Kafka before 0.11).
    case idempotenceUnsupported(broker: String)

    public var description: String {
        switch self {
        case .emptyTransactionalId: return "the transactional id must not be empty"
        case .transactionsNeedIdempotence: return "a transactional producer must be idempotent; enable idempotence or drop the transactional id"
        case .idempotenceNeedsAcksAll(let a): return "an idempotent producer needs acks=all (got acks=\(a)); disable idempotence or use acks=all"
        case .idempotenceUnsupported(let b):
            return "idempotence (and transactions) need Kafka 0.11 or later, but \(b) has no InitProducerId; disable idempotence to produce to it"
        case .negativeLinger(let ms): return "linger must not be negative (got \(ms) ms)"
        case .outOfRange(let name, let v): return "producer setting \(name) out of range: \(v)"
        }
    }
}
