import KafkaProtocol
import KafkaStateMachines

/// Observes what a client does: connections, requests, batches, records, group and
/// transaction events. Implement the methods you need; the others default to doing
/// nothing. Several hooks may be set at once (`KafkaClientConfiguration.hooks`); each event
/// goes to each hook in the order they were given.
///
/// Hooks run on the client's event loop, after the engine's turn that produced the event
/// (never inside it) and before the loop takes its next task: a hook that takes a
/// millisecond delays this client's next turn by a millisecond, and nothing else. Keep them
/// short and non-blocking (count, store, hand off); do not call back into the client and
/// wait for it from a hook.
///
/// With no hook set the client builds no events at all (the engine does not even record
/// them): hooks cost nothing unless used.
public protocol KafkaHook: Sendable {
    /// A connection to `broker` is open (TCP, and TLS when configured); `dialTime` from the dial.
    func brokerConnected(_ broker: KafkaHookBroker, dialTime: Duration)
    /// Dialing `broker` failed (refused, DNS, timeout, TLS).
    func brokerConnectFailed(_ broker: KafkaHookBroker, reason: ConnectionFailure)
    /// An open connection to `broker` closed (by the peer, an error, or the client).
    func brokerDisconnected(_ broker: KafkaHookBroker)
    /// A request frame was handed to the socket.
    func requestWritten(_ event: KafkaRequestWritten)
    /// A response frame was read and decoded.
    func responseRead(_ event: KafkaResponseRead)
    /// A broker asked the client to hold back (KIP-219 throttle time in a response).
    func throttled(_ broker: KafkaHookBroker, for duration: Duration)
    /// A producer batch was put into a Produce request (each send; retries too).
    func produceBatchWritten(_ event: KafkaBatchEvent)
    /// A fetch response's records for one partition were received (one event per batch
    /// header: records, bytes, codec).
    func fetchBatchRead(_ event: KafkaBatchEvent)
    /// Records the user handed to `produce`, grouped by topic per hand-over.
    func recordsBuffered(topic: String, records: Int, bytes: Int)
    /// A batch of records was acknowledged by the broker.
    func recordsDelivered(_ event: KafkaDeliveryEvent)
    /// A batch of records failed for good (their callbacks get `error`).
    func recordsFailed(_ event: KafkaDeliveryEvent, error: ProduceError)
    /// The group consumer's membership events (assigned, revoked, lost …), classic or KIP-848.
    func groupEvent(_ event: GroupConsumerEvent)
    /// A transaction began, committed or aborted (`error` set when ending it failed).
    func transactionEvent(_ event: KafkaTransactionHookEvent, error: TransactionError?)
}

extension KafkaHook {
    public func brokerConnected(_ broker: KafkaHookBroker, dialTime: Duration) {}
    public func brokerConnectFailed(_ broker: KafkaHookBroker, reason: ConnectionFailure) {}
    public func brokerDisconnected(_ broker: KafkaHookBroker) {}
    public func requestWritten(_ event: KafkaRequestWritten) {}
    public func responseRead(_ event: KafkaResponseRead) {}
    public func throttled(_ broker: KafkaHookBroker, for duration: Duration) {}
    public func produceBatchWritten(_ event: KafkaBatchEvent) {}
    public func fetchBatchRead(_ event: KafkaBatchEvent) {}
    public func recordsBuffered(topic: String, records: Int, bytes: Int) {}
    public func recordsDelivered(_ event: KafkaDeliveryEvent) {}
    public func recordsFailed(_ event: KafkaDeliveryEvent, error: ProduceError) {}
    public func groupEvent(_ event: GroupConsumerEvent) {}
    public func transactionEvent(_ event: KafkaTransactionHookEvent, error: TransactionError?) {}
}

/// Which broker an event concerns: a node id from metadata, or a seed address (before the
/// cluster's node ids are known).
public enum KafkaHookBroker: Hashable, Sendable, CustomStringConvertible {
    case node(Int32)
    /// Index into `KafkaClientConfiguration.seedBrokers`.
    case seed(Int)

    init(_ id: BrokerID) {
        switch id {
        case .node(let n): self = .node(n)
        case .seed(let i): self = .seed(i)
        }
    }

    /// The node id, or "seedN" for a seed.
    public var description: String {
        switch self {
        case .node(let n): return "\(n)"
        case .seed(let i): return "seed\(i)"
        }
    }
}

/// A request handed to a broker's socket (`KafkaHook.requestWritten`).
public struct KafkaRequestWritten: Sendable, Equatable {
    /// The broker it went to or came from.
    public var broker: KafkaHookBroker
    /// The request's API.
    public var apiKey: ApiKey
    /// The API version used.
    public var version: Int16
    /// The frame's size, its 4-byte length prefix included.
    public var bytes: Int
    /// How long the request waited in its connection's queue before it was written
    /// (in-flight limit, throttle, handshake); zero for the handshake's own requests.
    public var timeQueued: Duration
}

/// A response read from a broker (`KafkaHook.responseRead`).
public struct KafkaResponseRead: Sendable, Equatable {
    /// The broker it went to or came from.
    public var broker: KafkaHookBroker
    /// The request's API.
    public var apiKey: ApiKey
    /// The API version used.
    public var version: Int16
    /// The frame's size, its 4-byte length prefix included.
    public var bytes: Int
    /// From the request's write to this response's read.
    public var timeOnWire: Duration
    /// The throttle time the broker reported (zero when none, and for the handshake's
    /// ApiVersions and SASL answers: their throttles still come to `throttled`).
    public var throttle: Duration
}

/// One record batch, produced or fetched.
public struct KafkaBatchEvent: Sendable, Equatable {
    /// The broker it went to or came from (nil: unknown).
    public var broker: Int32?
    /// The batch's topic.
    public var topic: String
    /// The batch's partition.
    public var partition: Int32
    /// Records in the batch.
    public var records: Int
    /// Uncompressed size, batch header included (for fetched compressed batches, which are
    /// not decompressed for this, the compressed size).
    public var bytes: Int
    /// Size on the wire.
    public var compressedBytes: Int
    /// The batch's compression.
    public var codec: CompressionCodec
}

/// A produced batch's outcome.
public struct KafkaDeliveryEvent: Sendable, Equatable {
    /// The records' topic.
    public var topic: String
    /// -1 when the records failed before a partition was chosen.
    public var partition: Int32
    /// How many records.
    public var records: Int
    /// What the records took from the producer's buffer (their estimated size).
    public var bytes: Int
    /// From the earliest of these records reaching the client's event loop to this outcome.
    public var latency: Duration
}

/// A transaction's step (`KafkaHook.transactionEvent`).
public enum KafkaTransactionHookEvent: Sendable, Equatable {
    case begun, committed, aborted
}

extension Duration {
    init(_ interval: Interval) { self = .nanoseconds(Int64(clamping: interval.nanoseconds)) }
}
