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
    // `headers` is declared first so that the memberwise initializer (internal) starts with
    // `headers:` and never matches a call of the public one (see there).
    /// Headers, kept in order (brokers before 0.11 refuse them).
    public var headers: [RecordHeader]
    /// The topic to produce to.
    public var topic: String
    /// nil: the configured partitioner picks one.
    public var partition: Int32?
    /// The key: what the partitioner hashes, and what compaction keeps the last value of.
    public var key: [UInt8]?
    /// The value; nil is a tombstone on a compacted topic.
    public var value: [UInt8]?
    /// Milliseconds since the epoch; nil: now.
    public var timestamp: Int64?

    /// Bytes counted against the producer's buffer limit.
    var bufferCharge: Int { 32 + (key?.count ?? 0) + (value?.count ?? 0) + headers.reduce(0) { $0 + $1.key.utf8.count + ($1.value?.count ?? 0) + 4 } }
}

// The initializer is in an extension and delegates to the memberwise one: with Swift 6.3 an
// explicit initializer of a struct this wide that assigns its fields one by one builds the
// record in a temporary and copies it out, a retain and a release of every field per record
// (callgrind: 25M of 1,040M instructions producing 200,000 records); the memberwise one
// builds it in place.
extension KafkaRecord {
    /// A record for `topic`; a nil `partition` lets the partitioner choose.
    public init(topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?, headers: [RecordHeader] = [],
                timestamp: Int64? = nil) {
        self.init(headers: headers, topic: topic, partition: partition, key: key, value: value, timestamp: timestamp)
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
    nonisolated(nonsending) public func produce(_ record: consuming KafkaRecord, completion: @escaping ProduceCompletion) async {
        let charge = record.bufferCharge
        if !producerGate.tryAcquire(charge) {
            guard configuration.producer.blockWhenFull, !configuration.producer.manualFlushing else {
                completion(.failure(.bufferFull))
                return
            }
            guard await producerGate.acquire(charge) else {
                completion(.failure(.cancelled))
                return
            }
        }
        // A producer ahead of the loop by `handOffLimit` records waits for it to take them,
        // rather than piling them up in memory (see `CommandInbox.handOffLimit`).
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
        let wait = CancellableWait<Void>()
        submit(.flush({ wait.finish(()) }))
        await wait.value()
    }

    /// Records buffered and not yet completed.
    public var bufferedRecords: Int { producerGate.buffered.records }

    /// True when the inbox holds `handOffLimit` records or more (see `CommandInbox.submit`).
    @discardableResult
    private func submitProduce(_ record: consuming KafkaRecord, charge: Int, completion: @escaping ProduceCompletion) -> Bool {
        let timestamp = record.timestamp ?? Self.wallClockMilliseconds()
        // The fields move out of `record`, not copied: a copy retains the topic, key, value
        // and headers here and releases them when `record` goes away. (The compiler still
        // copies the built record once into `submit`, a pair it does not fold away.)
        var engineRecord = ProducerRecord(topic: "", partition: record.partition, key: record.key.take(), value: record.value.take(),
                                          timestamp: timestamp, token: 0)
        swap(&engineRecord.topic, &record.topic)
        swap(&engineRecord.headers, &record.headers)
        // The driver returns `charge` to the gate when the record completes.
        return submit(consume engineRecord, .init(completion: completion, timestamp: timestamp, charge: charge))
    }

    static func wallClockMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
