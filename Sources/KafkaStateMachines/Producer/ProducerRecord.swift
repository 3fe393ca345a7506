/// A record handed to the engine's producer. `token` is the caller's name for it; delivery
/// reports carry tokens back. `timestamp` is wall-clock milliseconds (the engine reads no clock).
package struct ProducerRecord: Sendable, Equatable {
    // `token` is declared first so that the memberwise initializer (internal) starts with
    // `token:` and never matches a call of the package one below.
    public var token: UInt64
    public var topic: String
    /// nil: the partitioner chooses.
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [RecordHeader]
    public var timestamp: Int64
}

extension ProducerRecord {
    /// In an extension and delegating to the memberwise initializer: with Swift 6.3 an
    /// explicit initializer of a struct this wide that assigns its fields one by one builds
    /// the record in a temporary and copies it out, a retain and a release of every field
    /// (KafkaIO calls this once per record: 52M of 1,040M instructions producing 200,000
    /// records); the memberwise one builds it in place.
    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = [],
                timestamp: Int64, token: UInt64) {
        self.init(token: token, topic: topic, partition: partition, key: key, value: value, headers: headers, timestamp: timestamp)
    }
}

/// The outcome of one batch of records: one report per batch, not per record. Record i of
/// `tokens` has offset `baseOffset + i` (-1 when unknown: acks=none or failure).
package struct DeliveryReport: Sendable, CustomStringConvertible {
    public var topic: String
    /// -1 when the record failed before a partition was chosen.
    public var partition: Int32
    public var baseOffset: Int64
    /// The broker's append time for log-append-time topics, else -1 (the records keep theirs).
    public var logAppendTime: Int64
    public var tokens: [UInt64]
    public var error: ProduceError?

    public init(topic: String, partition: Int32, baseOffset: Int64, logAppendTime: Int64, tokens: [UInt64], error: ProduceError?) {
        self.topic = topic
        self.partition = partition
        self.baseOffset = baseOffset
        self.logAppendTime = logAppendTime
        self.tokens = tokens
        self.error = error
    }

    public var description: String {
        "delivered(\(topic)[\(partition)] @\(baseOffset) ×\(tokens.count)\(error.map { ", \($0)" } ?? ""))"
    }
}

/// Why a record was not delivered.
public indirect enum ProduceError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyTopic
    case negativePartition(Int32)
    /// The partition does not exist in the topic (it has `count`).
    case partitionOutOfRange(Int32, count: Int)
    /// The manual partitioner needs every record to name its partition.
    case partitionRequired
    /// The record alone is larger than a batch may be.
    case recordTooLarge(size: Int, max: Int)
    /// The producer's buffer limits are reached (records or bytes).
    case bufferFull
    /// Metadata kept saying the topic does not exist.
    case unknownTopic(String)
    /// The record was not acknowledged within the delivery timeout.
    case deliveryTimeout
    /// The broker rejected the batch with this error.
    case broker(KafkaErrorCode, message: String?)
    /// The request failed in a way that retrying cannot fix.
    case request(KafkaClientError)
    /// The producer hit an error it cannot recover from (fenced, epoch invalid, a failed
    /// InitProducerId); every later record fails with it too.
    case fatal(ProduceError)
    /// The producer's configuration does not validate.
    case invalidConfiguration(ProducerConfigError)
    case clientClosed
    /// A transactional producer takes records only between begin and commit/abort.
    case notInTransaction
    /// An earlier record of the open transaction failed (`cause`): the transaction can
    /// only be aborted, so no more records join it.
    case transactionMustAbort(cause: ProduceError)
    /// The record's transaction was aborted before it was sent.
    case transactionAborted
    /// The producing task was cancelled before the record's outcome was known. Cancelled
    /// while waiting for buffer room, the record was not queued; cancelled after, it may
    /// still be delivered (nothing takes a queued record back).
    case cancelled

    public var description: String {
        switch self {
        case .emptyTopic: return "empty topic name"
        case .negativePartition(let p): return "negative partition \(p)"
        case .partitionOutOfRange(let p, let n): return "partition \(p) does not exist (topic has \(n))"
        case .partitionRequired: return "the manual partitioner needs a partition on every record"
        case .recordTooLarge(let s, let m): return "record of \(s) bytes exceeds the maximum batch size \(m)"
        case .bufferFull: return "producer buffer full"
        case .unknownTopic(let t): return "unknown topic \(t)"
        case .deliveryTimeout: return "record delivery timed out"
        case .broker(let c, let m): return "broker error \(c)\(m.map { ": \($0)" } ?? "")"
        case .request(let e): return "\(e)"
        case .fatal(let e): return "producer failed: \(e)"
        case .invalidConfiguration(let e): return "\(e)"
        case .clientClosed: return "client closed"
        case .notInTransaction: return "a transactional producer produces only inside a transaction (begin one first)"
        case .transactionMustAbort(let c): return "the transaction must be aborted: an earlier record failed (\(c))"
        case .transactionAborted: return "the record's transaction was aborted"
        case .cancelled: return "cancelled before the record's outcome was known"
        }
    }
}

/// Producer happenings other than deliveries.
package enum ProducerNotice: Sendable, Equatable, CustomStringConvertible {
    /// Every record buffered when the flush started (and since) is delivered or failed.
    case flushed(PromiseID)
    /// The broker's sequence state for the partition lost records it had acknowledged
    /// (OUT_OF_ORDER_SEQUENCE_NUMBER at the head): kgo's ProducerOnDataLossDetected.
    case dataLossDetected(TopicPartition)
    /// The producer stopped for good; every buffered and later record fails with `error`.
    case fatal(ProduceError)
    /// A begin, commit or abort (`.beginTransaction` / `.endTransaction`) finished: nil on success.
    case transactionDone(PromiseID, TransactionError?)
    /// Idempotence was only the default and the cluster cannot do it (brokers before 0.11):
    /// the producer goes on without it (at-least-once: a retry may duplicate).
    case idempotenceDisabled(reason: String)
    /// Idempotence, only the default and turned off because the cluster could not do it,
    /// is on again: every leader of the producer's partitions now takes idempotent batches
    /// (a rolling upgrade to 0.11 or later done), and the producer got this producer id.
    /// Records first sent from now on are written once per partition; one first sent
    /// before may still be in the log twice.
    case idempotenceEnabled(producerId: Int64, epoch: Int16)

    public var description: String {
        switch self {
        case .flushed(let p): return "flushed(\(p))"
        case .dataLossDetected(let tp): return "dataLoss(\(tp))"
        case .fatal(let e): return "fatal(\(e))"
        case .transactionDone(let p, let e): return "transactionDone(\(p)\(e.map { ", \($0)" } ?? ""))"
        case .idempotenceDisabled(let reason): return "idempotenceDisabled(\(reason))"
        case .idempotenceEnabled(let id, let epoch): return "idempotenceEnabled(\(id), epoch \(epoch))"
        }
    }
}
