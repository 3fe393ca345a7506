import KafkaProtocol
import KafkaStateMachines
import Dispatch
import NIOConcurrencyHelpers

/// The producer's settings on `KafkaClientConfiguration.producer`. Checked when the client
/// is created: a conflict (idempotence with acks other than all, a negative linger, …) is a
/// typed `KafkaConfigurationError.producer`.
public struct ProducerConfiguration: Sendable {
    /// How many replicas must have a record before it is acknowledged: `.all` (default,
    /// needed by idempotence), `.leader`, or `.none` (no answer; offsets are -1).
    public var acks: ProducerAcks = .all
    /// On by default; needs acks=all. Left at its default, it is turned off when the
    /// cluster cannot do it (brokers before Kafka 0.11 have no producer ids): the producer
    /// logs a warning and goes on at-least-once. Set explicitly (even to true), such a
    /// cluster fails the producer with `ProducerConfigError.idempotenceUnsupported`, as it
    /// always does for a transactional producer.
    public var idempotent: Bool {
        get { idempotenceSetting ?? true }
        set { idempotenceSetting = newValue }
    }
    /// nil until `idempotent` is assigned: the default, which may fall back.
    private var idempotenceSetting: Bool? = nil
    /// How long a batch waits for more records. 5 ms by default (librdkafka's default too):
    /// in `BENCH_LINGERS="0 1 5 10" Tools/bench-produce.sh` against Tansu (1M x 100 B, a
    /// producer faster than the broker) 0, 1, 5 and 10 ms were within run-to-run noise of
    /// each other (0.9-1.2M rec/s on one partition, 0.8-0.9M keyed over 12): batches fill
    /// while earlier ones are in flight. With a slower stream, 5 ms buys fuller batches
    /// (fewer requests, better compression) for at most 5 ms of added latency.
    public var linger: Duration = .milliseconds(5)
    /// How long a produced record may wait for the client's event loop before the engine
    /// sees it (records queued meanwhile ride the same hop): 1 ms, never more than `linger`.
    var inboxDelay: Duration { manualFlushing ? .milliseconds(1) : min(linger, .milliseconds(1)) }
    /// The most bytes of one batch before compression, header included.
    public var maxBatchBytes = 1_000_000
    /// The most bytes of batches (before compression) in one Produce request; a single
    /// larger batch still goes alone. Bounds what is in flight to each broker at once
    /// (`maxInFlightPerBroker` requests of this) however many partitions have batches.
    public var maxRequestBytes = 1_048_576
    /// Records produced and not yet acknowledged or failed, beyond which producers wait for room.
    public var maxBufferedRecords = 100_000
    /// Bytes of records produced and not yet acknowledged or failed, beyond which producers
    /// wait for room (a single larger record still goes when nothing else is buffered).
    public var maxBufferedBytes = 256 * 1024 * 1024
    /// Codecs by preference; the first the broker's Produce version carries is used.
    public var compression: [CompressionCodec] = [.none]
    /// How a record without a partition gets one (KIP-794 uniform bytes by default; keys hash
    /// with murmur2 as in Java).
    public var partitioner: PartitionerKind = .uniformBytes(bytes: 64 * 1024, adaptive: true)
    /// nil: records are retried until delivered (or the client closes).
    public var deliveryTimeout: Duration? = nil
    /// The Produce request's broker-side timeout (the client adds `requestTimeoutOverhead`).
    public var requestTimeout: Duration = .seconds(30)
    /// Produce requests outstanding to one broker at once (1-5 with idempotence, which keeps
    /// their order across retries).
    public var maxInFlightPerBroker = 5
    /// Re-sends of a batch after retriable failures before its records fail with the last
    /// failure (kgo's RecordRetries); nil: no limit, only `deliveryTimeout` bounds them.
    public var recordRetries: Int? = nil
    /// Metadata refreshes that may say a topic is missing before its records fail
    /// (`.unknownTopic`); counted per topic, apart from `recordRetries`.
    public var unknownTopicRetries = 4
    /// Records wait for `flush()`; produce fails fast with `.bufferFull` when full.
    public var manualFlushing = false
    /// When the buffer is full: the callback form of `produce` blocks the calling thread
    /// until there is room (never call it on the client's event loop then), or, with
    /// false, completes at once with `.bufferFull`. The async form always waits.
    public var blockWhenFull = true
    /// Makes the producer transactional: records are produced only between
    /// `beginTransaction()` and `commitTransaction()` / `abortTransaction()`, and a
    /// read_committed consumer sees them only once committed. Needs idempotence. One
    /// transactional id names one logical producer: starting another client with the same id
    /// fences this one.
    public var transactionalId: String? = nil
    /// How long the coordinator lets a transaction stay open before aborting it. 60 s, as
    /// Java's and librdkafka's producers (kgo uses 40 s); the broker refuses values above its
    /// transaction.max.timeout.ms (15 min by default).
    public var transactionTimeout: Duration = .seconds(60)

    /// The defaults, as documented on each setting.
    public init() {}

    /// Checks every setting; the first conflict or value out of range is the error.
    public func validate() throws(KafkaConfigurationError) {
        if linger < .zero { throw .producer(.negativeLinger(Int64(linger.components.seconds * 1000))) }
        if let t = deliveryTimeout, t <= .zero { throw .producer(.outOfRange("deliveryTimeout", "\(t)")) }
        if transactionalId != nil, transactionTimeout <= .zero { throw .producer(.outOfRange("transactionTimeout", "\(transactionTimeout)")) }
        do throws(ProducerConfigError) { try engineConfig.validate() } catch { throw .producer(error) }
    }

    var engineConfig: ProducerConfig {
        var c = ProducerConfig()
        c.acks = acks
        c.idempotent = idempotent
        c.idempotenceFallback = idempotenceSetting == nil
        // A record first waits up to `inboxDelay` for the client's loop; the engine lingers
        // the rest, so no record waits longer than `linger` in all.
        c.linger = Interval(manualFlushing ? linger : max(.zero, linger - inboxDelay))
        c.maxBatchBytes = maxBatchBytes
        c.maxRequestBytes = maxRequestBytes
        c.maxBufferedRecords = maxBufferedRecords
        // The callers' gate enforces the limits; the engine's are a safety net above it.
        c.maxBufferedBytes = maxBufferedBytes &* 2
        c.compression = compression
        c.partitioner = partitioner
        c.deliveryTimeout = deliveryTimeout.map(Interval.init)
        c.requestTimeout = Interval(requestTimeout)
        c.maxInFlightPerBroker = maxInFlightPerBroker
        c.recordRetries = recordRetries
        c.unknownTopicRetries = unknownTopicRetries
        c.manualFlushing = manualFlushing
        c.transactionalId = transactionalId
        c.transactionTimeout = Interval(transactionTimeout)
        return c
    }

}

/// Records and bytes buffered by the producer, counted on the callers' side so a full
/// buffer is seen before a record is queued. Callers wait here for room in arrival order:
/// async producers suspend, the blocking callback form sleeps on a semaphore (no polling).
final class ProducerGate: Sendable {
    /// An async caller's place in the queue; only touched under the gate's lock.
    private final class TaskWaiter: @unchecked Sendable {
        var continuation: CheckedContinuation<Bool, Never>?
        var cancelled = false
    }
    private enum Waiter {
        case task(TaskWaiter)
        case thread(DispatchSemaphore)
    }
    private struct State {
        var records = 0
        var bytes = 0
        var waiters: [(bytes: Int, waiter: Waiter)] = []

        /// Takes room for a record of `bytes` when nobody is ahead and there is room (a
        /// record larger than the byte limit still goes when nothing else is buffered).
        mutating func take(_ bytes: Int, maxRecords: Int, maxBytes: Int, queued: Bool = false) -> Bool {
            guard queued || waiters.isEmpty, records < maxRecords, records == 0 || self.bytes + bytes <= maxBytes else { return false }
            records += 1
            self.bytes += bytes
            return true
        }

        /// Hands room to the waiters at the front that now fit; returns how to wake them.
        mutating func grant(maxRecords: Int, maxBytes: Int) -> [() -> Void] {
            var out: [() -> Void] = []
            while let w = waiters.first, take(w.bytes, maxRecords: maxRecords, maxBytes: maxBytes, queued: true) {
                waiters.removeFirst()
                switch w.waiter {
                case .task(let t):
                    let c = t.continuation
                    t.continuation = nil
                    out.append { c?.resume(returning: true) }
                case .thread(let s):
                    out.append { s.signal() }
                }
            }
            return out
        }
    }
    let maxRecords: Int
    let maxBytes: Int
    private let state = FastLockedBox(State())

    init(maxRecords: Int, maxBytes: Int) {
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
    }

    /// Takes room for one record of `bytes` if there is some.
    func tryAcquire(_ bytes: Int) -> Bool {
        state.withLockedValue { $0.take(bytes, maxRecords: maxRecords, maxBytes: maxBytes) }
    }

    /// Waits (in arrival order) until there is room, then takes it. False, with nothing
    /// taken, when the calling task is cancelled first (its place goes to those behind).
    func acquire(_ bytes: Int) async -> Bool {
        if tryAcquire(bytes) { return true }
        let waiter = TaskWaiter()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let now: Bool? = state.withLockedValue { s in
                    if waiter.cancelled { return false }
                    if s.take(bytes, maxRecords: maxRecords, maxBytes: maxBytes) { return true }
                    waiter.continuation = c
                    s.waiters.append((bytes, .task(waiter)))
                    return nil
                }
                if let now { c.resume(returning: now) }
            }
        } onCancel: {
            let wake: [() -> Void] = state.withLockedValue { s in
                waiter.cancelled = true
                guard let i = s.waiters.firstIndex(where: { if case .task(let t) = $0.waiter { return t === waiter } else { return false } }) else {
                    return []   // not queued yet, or already granted
                }
                s.waiters.remove(at: i)
                let c = waiter.continuation
                waiter.continuation = nil
                let wakeCancelled: () -> Void = { c?.resume(returning: false) }
                // Those behind may fit now that it no longer stands in front.
                return [wakeCancelled] + s.grant(maxRecords: maxRecords, maxBytes: maxBytes)
            }
            for w in wake { w() }
        }
    }

    /// Blocks the calling thread (in arrival order) until there is room, then takes it.
    func acquireBlocking(_ bytes: Int) {
        let semaphore = DispatchSemaphore(value: 0)
        let now: Bool = state.withLockedValue { s in
            if s.take(bytes, maxRecords: maxRecords, maxBytes: maxBytes) { return true }
            s.waiters.append((bytes, .thread(semaphore)))
            return false
        }
        if !now { semaphore.wait() }
    }

    /// Gives back room and hands it to waiters in order; the room is theirs before they wake.
    func release(records: Int, bytes: Int) {
        let ready: [() -> Void] = state.withLockedValue { s in
            s.records -= records
            s.bytes -= bytes
            return s.grant(maxRecords: maxRecords, maxBytes: maxBytes)
        }
        for w in ready { w() }
    }

    var buffered: (records: Int, bytes: Int) { state.withLockedValue { ($0.records, $0.bytes) } }
    /// Callers waiting for room (tests watch it).
    var waiting: Int { state.withLockedValue { $0.waiters.count } }
}
