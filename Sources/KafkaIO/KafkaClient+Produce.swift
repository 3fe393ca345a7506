import KafkaProtocol
import KafkaStateMachines
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A record to produce.
public struct KafkaRecord: Sendable {
    /// The fields as the engine takes them: producing moves this out whole, where moving
    /// them out one by one left a husk whose four emptied fields were still released (the
    /// engine sets the token, and the time when `timestamp` is nil).
    var engineRecord: ProducerRecord
    var hasTimestamp: Bool

    /// Headers, kept in order (brokers before 0.11 refuse them).
    public var headers: [RecordHeader] {
        get { engineRecord.headers }
        _modify { yield &engineRecord.headers }
    }
    /// The topic to produce to.
    public var topic: String {
        get { engineRecord.topic }
        _modify { yield &engineRecord.topic }
    }
    /// nil: the configured partitioner picks one.
    public var partition: Int32? {
        get { engineRecord.partition }
        _modify { yield &engineRecord.partition }
    }
    /// The key: what the partitioner hashes, and what compaction keeps the last value of.
    public var key: [UInt8]? {
        get { engineRecord.key }
        _modify { yield &engineRecord.key }
    }
    /// The value; nil is a tombstone on a compacted topic.
    public var value: [UInt8]? {
        get { engineRecord.value }
        _modify { yield &engineRecord.value }
    }
    /// Milliseconds since the epoch; nil: now.
    public var timestamp: Int64? {
        get { hasTimestamp ? engineRecord.timestamp : nil }
        set {
            hasTimestamp = newValue != nil
            engineRecord.timestamp = newValue ?? 0
        }
    }

    /// Bytes counted against the producer's buffer limit.
    var bufferCharge: Int {
        var charge = 32 + (engineRecord.key?.count ?? 0) + (engineRecord.value?.count ?? 0)
        for h in engineRecord.headers { charge += h.key.utf8.count + (h.value?.count ?? 0) + 4 }
        return charge
    }
}

// The initializer is in an extension, so that the memberwise one (internal) stays.
extension KafkaRecord {
    /// A record for `topic`; a nil `partition` lets the partitioner choose.
    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = [],
                timestamp: Int64? = nil) {
        self.init(engineRecord: ProducerRecord(topic: topic, partition: partition, key: key, value: value, headers: headers,
                                               timestamp: timestamp ?? 0, token: 0),
                  hasTimestamp: timestamp != nil)
    }
}

/// Where a produced record landed.
public struct ProducedRecord: Sendable, Equatable {
    /// The record's topic.
    public var topic: String
    /// The partition it was written to.
    public var partition: Int32
    /// The record's offset in its partition. -1 when the broker did not say: with acks=none,
    /// and for a batch resent after a lost answer that the broker recognised as already
    /// written (DUPLICATE_SEQUENCE_NUMBER) without naming its offset, as Tansu does. The
    /// record was written once either way.
    public var offset: Int64
    /// The record's timestamp (the broker's when the topic uses log-append time).
    public var timestamp: Int64

    /// For tests of code that handles produce results.
    public init(topic: String, partition: Int32, offset: Int64, timestamp: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
    }
}

/// Called once with a produced record's outcome, on the client's event loop: keep it short.
public typealias ProduceCompletion = @Sendable (Result<ProducedRecord, ProduceError>) -> Void

extension KafkaClient {
    /// The hot path from async code: queues `record` and calls `completion` (on the client's
    /// event loop) once it is delivered or failed; it does not wait for delivery. When the
    /// buffer is full it suspends until there is room (in arrival order), or completes with
    /// `.bufferFull` at once if `producer.blockWhenFull` is false or flushing is manual.
    /// `completion` is called exactly once: with `.cancelled` if the calling task is
    /// cancelled while it waits for room (the record is then not queued).
    /// Runs on the caller's executor (`nonisolated(nonsending)`): no hop to the global
    /// executor and back per record when there is room.
    /// Inlined into the caller: an async call of its own allocated and freed a frame on
    /// the task's allocator for every record (about 150 instructions); the parts that
    /// suspend are calls of their own, made only when there is something to wait for.
    @inlinable
    nonisolated(nonsending) public func produce(_ record: consuming KafkaRecord, completion: @escaping ProduceCompletion) async {
        var pending: KafkaRecord? = consume record
        switch produceIfRoom(&pending, completion: completion) {
        case .queued:
            return
        case .queuedWaitForTake:
            await waitForHandOff()
        case .noRoom:
            await produceWaitingForRoom(pending.take()!, completion: completion)
        }
    }

    /// What `produceIfRoom` did.
    @usableFromInline
    enum ProduceStep { case queued, queuedWaitForTake, noRoom }

    /// Queues the record in `pending` (taking it) if the buffer has room; `.noRoom` leaves it.
    /// With `.queuedWaitForTake`, an async caller waits for the loop to take the queue
    /// (`waitForHandOff`): a producer ahead of the loop by `handOffLimit` records would
    /// otherwise pile them up in memory (see `CommandInbox.handOffLimit`).
    @usableFromInline
    func produceIfRoom(_ pending: inout KafkaRecord?, completion: @escaping ProduceCompletion) -> ProduceStep {
        let charge = pending!.bufferCharge
        guard producerGate.tryAcquire(charge) else { return .noRoom }
        return submitProduce(pending.take()!, charge: charge, completion: completion) ? .queuedWaitForTake : .queued
    }

    @usableFromInline
    nonisolated(nonsending) func waitForHandOff() async {
        await inbox.waitForTake()
    }

    /// `produce` when the buffer was full: waits for room (or fails at once, as configured).
    @usableFromInline
    nonisolated(nonsending) func produceWaitingForRoom(_ record: consuming KafkaRecord, completion: @escaping ProduceCompletion) async {
        let charge = record.bufferCharge
        guard configuration.producer.blockWhenFull, !configuration.producer.manualFlushing else {
            completion(.failure(.bufferFull))
            return
        }
        guard await producerGate.acquire(charge) else {
            completion(.failure(.cancelled))
            return
        }
        if submitProduce(consume record, charge: charge, completion: completion) { await inbox.waitForTake() }
    }

    /// The same from synchronous code (a thread of your own, a callback): when the buffer is
    /// full this blocks the calling thread until there is room. It never blocks a Swift
    /// concurrency thread: called from synchronous code that runs inside a task, a full
    /// buffer completes with `.bufferFull` at once (await the async form there instead).
    /// With `producer.blockWhenFull` false or manual flushing, a full buffer is `.bufferFull`.
    public func produce(_ record: consuming KafkaRecord, completion: @escaping ProduceCompletion) {
        let charge = record.bufferCharge
        if !producerGate.tryAcquire(charge) {
            guard configuration.producer.blockWhenFull, !configuration.producer.manualFlushing,
                  !Self.runningInTask else {
                completion(.failure(.bufferFull))
                return
            }
            precondition(!loop.inEventLoop, "produce would block the client's event loop waiting for buffer room")
            producerGate.acquireBlocking(charge)
        }
        submitProduce(consume record, charge: charge, completion: completion)
    }

    /// True on a thread that runs a Swift task (the cooperative pool or an actor's executor),
    /// where blocking for buffer room would starve other tasks.
    static var runningInTask: Bool { withUnsafeCurrentTask { $0 != nil } }

    /// Queues `record` only if the buffer has room; false means nothing was queued.
    public func tryProduce(_ record: consuming KafkaRecord, completion: @escaping ProduceCompletion) -> Bool {
        let charge = record.bufferCharge
        guard producerGate.tryAcquire(charge) else { return false }
        submitProduce(consume record, charge: charge, completion: completion)
        return true
    }

    /// Produces `record` and returns where it landed; waits for buffer room first.
    /// Cancelling the calling task throws `.cancelled` at once: while it waits for room
    /// the record is not queued; once queued it may still be delivered.
    public func produce(_ record: KafkaRecord) async throws(ProduceError) -> ProducedRecord {
        let charge = record.bufferCharge
        guard await producerGate.acquire(charge) else { throw .cancelled }
        let wait = CancellableWait<Result<ProducedRecord, ProduceError>>()
        submitProduce(record, charge: charge) { wait.finish($0) }
        return try await wait.value(cancelled: .failure(.cancelled)).get()
    }

    /// Produces every record, in order, and waits for all of them; results in input order.
    /// Cancelling the calling task returns at once: records still waiting for buffer room
    /// are not queued and, like those queued but not yet answered, get `.cancelled` (a
    /// queued one may still be delivered).
    public func produceAndWait(_ records: [KafkaRecord]) async -> [Result<ProducedRecord, ProduceError>] {
        guard !records.isEmpty else { return [] }
        let results = NIOLockedValueBox((answers: [Result<ProducedRecord, ProduceError>?](repeating: nil, count: records.count),
                                         remaining: records.count))
        let all = CancellableWait<Void>()
        for (i, r) in records.enumerated() {
            let charge = r.bufferCharge
            // The caller's task waits for room, so cancelling it stops the queueing.
            guard await producerGate.acquire(charge) else { break }
            submitProduce(r, charge: charge) { result in
                let done = results.withLockedValue { s -> Bool in
                    s.answers[i] = result
                    s.remaining -= 1
                    return s.remaining == 0
                }
                if done { all.finish(()) }
            }
        }
        await all.value()
        return results.withLockedValue { s in s.answers.map { $0 ?? .failure(.cancelled) } }
    }

    /// Returns once every record produced before the call (and since) is delivered or failed;
    /// lingering batches are sent at once. With manual flushing, this is what sends them.
    /// Cancelling the calling task returns at once (check `Task.isCancelled`); the flush
    /// still goes on.
    public func flush() async {
        inbox.dropSpent()
        let wait = CancellableWait<Void>()
        submit(.flush({ wait.finish(()) }))
        await wait.value()
    }

    /// Records buffered and not yet completed.
    public var bufferedRecords: Int { producerGate.buffered.records }

    /// True when the inbox holds `handOffLimit` records or more (see `CommandInbox.submit`).
    @discardableResult
    private func submitProduce(_ record: consuming KafkaRecord, charge: Int, completion: @escaping ProduceCompletion) -> Bool {
        let hasTimestamp = record.hasTimestamp
        var engineRecord = (consume record).engineRecord
        if !hasTimestamp { engineRecord.timestamp = Self.wallClockMilliseconds() }
        let timestamp = engineRecord.timestamp
        // The driver returns `charge` to the gate when the record completes.
        return submit(consume engineRecord, .init(completion: completion, timestamp: timestamp, charge: charge))
    }

    static func wallClockMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
