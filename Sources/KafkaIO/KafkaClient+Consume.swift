import KafkaProtocol
import KafkaStateMachines
import NIOCore

/// A consumed record with where it came from.
public struct ConsumerRecord: Sendable {
    /// The topic it was read from.
    public var topic: String
    /// The partition it was read from.
    public var partition: Int32
    /// The record: offset, timestamp, key, value and headers, over the fetched bytes.
    public var record: Record

    /// The record's offset in its partition.
    public var offset: Int64 { record.offset }
    /// The record's timestamp, milliseconds since the epoch.
    public var timestamp: Int64 { record.timestamp }
    /// The key (nil for a null key).
    public var key: ArraySlice<UInt8>? { record.key }
    /// The value (nil for a null value, a tombstone).
    public var value: ArraySlice<UInt8>? { record.value }
    /// The record's headers, in order.
    public var headers: [RecordHeader] { record.headers }

    /// For tests of code that handles consumed records.
    public init(topic: String, partition: Int32, record: Record) {
        self.topic = topic
        self.partition = partition
        self.record = record
    }
}

/// One partition's share of a poll: its records in offset order, then the error that
/// stopped it, if any (the records before a bad batch are kept).
public struct PolledPartition: Sendable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// Its records of this poll, in offset order.
    public var records: [Record]
    /// Why the partition stopped after these records, if it did (`skip` or `seek` to go on).
    public var error: ConsumerPartitionError?
    /// The high watermark the last fetch reported (-1 if none did).
    public var highWatermark: Int64
    /// Where the next fetch of this partition starts.
    public var nextOffset: Int64 = -1
    /// The partition has been read to its end (high watermark, or last stable offset).
    public var atEnd = false

    /// For tests of code that handles polls.
    public init(topic: String, partition: Int32, records: [Record], error: ConsumerPartitionError? = nil,
                highWatermark: Int64 = -1, nextOffset: Int64 = -1, atEnd: Bool = false) {
        self.topic = topic
        self.partition = partition
        self.records = records
        self.error = error
        self.highWatermark = highWatermark
        self.nextOffset = nextOffset
        self.atEnd = atEnd
    }
}

/// What `poll` returns: fetched partitions grouped by topic and partition, and any data
/// loss detected (KIP-320) since the previous poll.
public struct ConsumerPoll: Sendable {
    /// Sorted by topic, then partition.
    public var partitions: [PolledPartition]
    /// Truncations found since the previous poll (KIP-320): records already read that no
    /// longer exist on the leader.
    public var dataLoss: [DataLoss]
    /// The client closed: nothing more will come.
    public var closed: Bool

    /// `partitions` are kept in the order given (the client sorts them by topic, then partition).
    public init(partitions: [PolledPartition], dataLoss: [DataLoss] = [], closed: Bool = false) {
        self.partitions = partitions
        self.dataLoss = dataLoss
        self.closed = closed
    }

    /// No records, no partition errors and no data loss.
    public var isEmpty: Bool { partitions.isEmpty && dataLoss.isEmpty }
    /// The records of every partition.
    public var recordCount: Int { partitions.reduce(0) { $0 + $1.records.count } }

    /// Partitions by topic.
    public var byTopic: [String: [PolledPartition]] { Dictionary(grouping: partitions, by: \.topic) }

    /// The partitions that stopped, with why.
    public var errors: [(TopicPartition, ConsumerPartitionError)] {
        partitions.compactMap { p in p.error.map { (TopicPartition(p.topic, p.partition), $0) } }
    }

    /// Every record, by partition in order.
    public var records: [ConsumerRecord] {
        var out: [ConsumerRecord] = []
        out.reserveCapacity(recordCount)
        for p in partitions { for r in p.records { out.append(ConsumerRecord(topic: p.topic, partition: p.partition, record: r)) } }
        return out
    }
}

/// Something a consumer should know besides records: a partition stopped, or data was lost.
public enum ConsumerIssue: Sendable, CustomStringConvertible {
    case partitionError(TopicPartition, ConsumerPartitionError)
    case dataLoss(DataLoss)
    /// One line: the partition and its error, or the data loss.
    public var description: String {
        switch self {
        case .partitionError(let tp, let e): return "\(tp): \(e)"
        case .dataLoss(let d): return "\(d)"
        }
    }
}

extension KafkaClient {
    /// Consumes these partitions from these offsets (a partition already consumed moves).
    public func assign(_ partitions: [TopicPartition: StartOffset]) {
        submit(.consumer(.assign(partitions), fetchBuffer))
    }

    /// Stops consuming these partitions.
    public func unassign(_ partitions: [TopicPartition]) {
        submit(.consumer(.unassign(partitions), fetchBuffer))
    }

    /// Consumes every partition of `topics` and of the topics matching `patterns` (whole
    /// names, Swift Regex syntax) except those matching `excluding`; topics created later
    /// are picked up at the next metadata refresh. Replaces the previous subscription.
    public func consume(topics: [String], patterns: [String] = [], excluding: [String] = [],
                        from start: StartOffset = .start) throws(KafkaConfigurationError) {
        if let bad = TopicSubscription.invalidPattern(in: patterns + excluding) {
            throw .invalidConsumer("pattern \(bad.pattern) does not compile: \(bad.reason)")
        }
        submit(.consumer(.subscribe(TopicSubscription(topics: topics, patterns: patterns, exclusions: excluding, start: start)), fetchBuffer))
    }

    /// Moves a consumed partition to `start`: its next fetch starts there.
    public func seek(_ tp: TopicPartition, to start: StartOffset) {
        submit(.consumer(.seek(tp, start), fetchBuffer))
    }

    /// Resumes a partition stopped by a bad batch, after that batch.
    public func skip(_ tp: TopicPartition) {
        submit(.consumer(.skip(tp), fetchBuffer))
    }

    /// Stops fetching these partitions and holds back their buffered records.
    public func pause(_ partitions: [TopicPartition]) {
        fetchBuffer.setPaused(partitions, true)
        submit(.consumer(.pause(partitions), fetchBuffer))
    }

    /// Fetches paused partitions again and releases their held-back records.
    public func resume(_ partitions: [TopicPartition]) {
        fetchBuffer.setPaused(partitions, false)
        submit(.consumer(.resume(partitions), fetchBuffer))
    }

    /// Waits until fetched data (or a data-loss report) is available, up to `timeout`
    /// (nil: no limit), and returns it decoded, grouped by topic and partition: about
    /// `ConsumerConfiguration.maxPollBytes` of decoded records at most (one batch at least),
    /// the rest left for the next poll. An empty
    /// result means the timeout passed, the calling task was cancelled, or the client
    /// closed (`closed`).
    public func poll(timeout: Duration? = nil) async -> ConsumerPoll {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        var timer: Scheduled<Void>?
        let id = fetchBuffer.makeWaiterId()
        defer {
            timer?.cancel()
            fetchBuffer.forget(id)
        }
        let buffer = fetchBuffer
        let c = configuration.consumer
        let decoding = FetchBuffer.Decoding(budget: c.maxPollBytes, verifyCRC: c.verifyCRC, keepControlRecords: c.keepControlRecords,
                                            decompressionLimit: DecompressionLimit(maxOutputBytes: c.decompressionLimit))
        while true {
            let taken = fetchBuffer.take(decoding)
            if taken.released > 0 { submit(.consumer(.fetchConsumed(taken.released), fetchBuffer)) }
            for (tp, offset, error, skipTo) in taken.stops {
                // Found while decoding, after the engine moved on: stop the partition at the
                // bad batch so the user can skip it or seek.
                submit(.consumer(.stopPartition(tp, offset: offset, error: error, skipTo: skipTo), fetchBuffer))
            }
            let expired = deadline.map { ContinuousClock.now >= $0 } ?? false
            if !taken.isEmpty || taken.closed || expired || Task.isCancelled {
                return ConsumerPoll(partitions: taken.partitions, dataLoss: taken.dataLoss, closed: taken.closed)
            }
            if let timeout, timer == nil {
                timer = loop.scheduleTask(in: TimeAmount(timeout)) { buffer.wake(id) }
            }
            // Cancelling the task ends the wait like a timeout (an early wake is kept if the
            // cancel comes before the wait begins).
            await withTaskCancellationHandler {
                await buffer.wait(id: id)
            } onCancel: {
                buffer.wake(id)
            }
        }
    }

    /// Every record as it arrives, with backpressure: nothing more is fetched while the
    /// client's buffer is full and this sequence is not being read. Partition errors and
    /// data loss go to `onIssue`; the sequence ends when the client closes or the iterating
    /// task is cancelled.
    public func records(onIssue: (@Sendable (ConsumerIssue) -> Void)? = nil) -> ConsumerRecords {
        ConsumerRecords(client: self, onIssue: onIssue)
    }
}

/// The records of a client as an AsyncSequence (see `KafkaClient.records`).
public struct ConsumerRecords: AsyncSequence, Sendable {
    /// Each record with its topic and partition.
    public typealias Element = ConsumerRecord
    let client: KafkaClient
    let onIssue: (@Sendable (ConsumerIssue) -> Void)?

    /// Polls the client as records are asked for.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let client: KafkaClient
        let onIssue: (@Sendable (ConsumerIssue) -> Void)?
        var pending: [ConsumerRecord] = []
        var index = 0

        /// The next record, polling for more when the last poll's are handed out; nil once the
        /// client closed or the task is cancelled.
        public mutating func next() async -> ConsumerRecord? {
            while index >= pending.count {
                if Task.isCancelled { return nil }
                let poll = await client.poll()
                for loss in poll.dataLoss { onIssue?(.dataLoss(loss)) }
                for (tp, e) in poll.errors { onIssue?(.partitionError(tp, e)) }
                pending = poll.records
                index = 0
                if pending.isEmpty && poll.closed { return nil }
            }
            defer { index += 1 }
            return pending[index]
        }
    }

    /// An iterator that polls the client.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(client: client, onIssue: onIssue) }
}
