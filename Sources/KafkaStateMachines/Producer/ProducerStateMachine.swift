/// The engine's producer: buffers records per partition, partitions them, batches them
/// with linger and size limits, sends them to partition leaders with idempotent sequence
/// numbers, retries in order, follows leaders, and reports each finished batch. Pure: the
/// engine passes `now`, the metadata it holds and the versions brokers reported.
struct ProducerStateMachine {
    let config: ProducerConfig
    var rng: SeededGenerator
    let backoff: BackoffPolicy
    let contexts = CompressionContexts()

    var topics: [String: ProducerTopic] = [:]
    /// Topic names sorted, for deterministic walks.
    var topicNames: [String] = []
    /// The topic of the last record produced and its index in `topics` (see `topicIndex`).
    var lastTopic: (name: String, index: TopicIndex)? = nil
    /// Produce requests go once to the leader (`maxRetries` 0, ordered per broker: the
    /// producer retries itself), InitProducerId to any broker with the engine's retries;
    /// reports and notices become `.delivery` / `.producer` actions.
    var outputs: [ComponentOutput] = []
    /// Report each batch put in a request as an `Observation` (`EngineConfig.observe`).
    let observe: Bool
    /// Emptied bodies of acknowledged batches, for new batches to fill: a body allocated
    /// per batch is fresh memory, each 4 KiB page zero-filled by the kernel on first touch.
    /// At most `BatchBodies.limit` (each up to maxBatchBytes) are kept.
    var spareBodies = BatchBodies()

    var bufferedRecords = 0
    var bufferedBytes = 0
    var flushWaiters: [PromiseID] = []
    var closed = false
    var fatalError: ProduceError? = nil
    /// Set when something since the last pump may be sendable.
    var dirty = false

    // Idempotence (KIP-98, KIP-360).
    enum ProducerIdState: Equatable {
        case none
        case requesting(ticket: UInt64)
        case ready
    }
    /// Whether batches carry producer ids and sequences: the configured idempotence until
    /// a cluster without InitProducerId turns a defaulted one off (`idempotenceFallback`).
    var idempotent: Bool
    var idState = ProducerIdState.none
    var producerId: Int64 = -1
    var producerEpoch: Int16 = -1
    var idRetryAt: Instant? = nil
    var idFailures = 0
    /// An epoch bump is due once nothing is outstanding.
    var bumpPending = false
    /// Taking a defaulted idempotence up again (ProducerIdempotenceSwitch.swift): the
    /// broker the producer id is asked of, while that is under way.
    var resumingIdempotence: Int32? = nil
    /// After a resume that failed: not before this, and how many failed in a row.
    var resumeIdempotenceAt: Instant? = nil
    var resumeFailures = 0
    /// When the leaders without idempotence were last asked again (`probeLeaders`), and
    /// when their tables were last looked at (`idempotenceLook`).
    var idempotenceProbedAt: Instant? = nil
    var idempotenceLookedAt: Instant? = nil
    /// The transaction coordinator speaks InitProducerId v3+ (KIP-360's id and epoch
    /// fields), so a transactional producer fenced inside a transaction may ask to go on
    /// (KIP-588, `TransactionManager.fencedBy`). Updated on each answer the producer gets.
    var epochRecoverable = false
    /// When the transactional InitProducerId's run of unanswered attempts began (bounded by
    /// the transaction timeout, then fatal).
    var idFailingSince: Instant? = nil

    struct SentPart {
        var topic: String
        var partition: Int32
        var generation: UInt64
        /// The batch's first record token: which batch the answer is for.
        var batch: UInt64
    }
    struct SentRequest {
        var broker: Int32
        var parts: [SentPart]
        var acksNone: Bool
    }
    var sent: [UInt64: SentRequest] = [:]
    var inFlightPerBroker: [Int32: Int] = [:]
    /// Per broker, the first partition left out of the last request for want of room
    /// (`maxRequestBytes`): the next request starts there, so the partitions first in order
    /// cannot keep the others waiting. No entry: requests start at the first partition.
    var resumeAt: [Int32: TopicPartition] = [:]
    /// Brokers whose last Produce was lost with its connection (no answer) and how many
    /// requests may be in flight to each meanwhile: 1 after the loss, one more per answer,
    /// gone again at `maxInFlightPerBroker` (see `pump`). Looked up only, never iterated.
    var recovering: [Int32: Int] = [:]
    var nextTicket: UInt64 = 1
    /// Brokers that refused a zstd-pinned Produce: their batches fall back to the next codec.
    var brokersWithoutZstd: Set<Int32> = []
    var lastMetadataAsk: Instant? = nil
    /// The transactional state when the producer has a transactional id (nil otherwise).
    var txn: TransactionManager?
    /// `txn != nil`, read per record: testing the optional itself copies the whole
    /// TransactionManager out first (an outlined copy and a memcpy each time).
    let transactional: Bool

    init(config: ProducerConfig, backoff: BackoffPolicy, rng: SeededGenerator, observe: Bool = false) {
        self.observe = observe
        self.config = config
        self.idempotent = config.idempotent
        self.backoff = backoff
        self.rng = rng
        self.txn = config.transactionalId.map { TransactionManager(transactionalId: $0, timeout: config.transactionTimeout) }
        self.transactional = config.transactionalId != nil
    }

    var isIdle: Bool { bufferedRecords == 0 && sent.isEmpty }

    // MARK: produce

    /// Takes one record; returns an error when it is refused at the call (nothing queued).
    mutating func produce(_ record: ProducerRecord, metadata: MetadataCache, now: Instant) -> ProduceError? {
        if closed { return .clientClosed }
        if let fatalError { return .fatal(fatalError) }
        if transactional, let refusal = transactionRecordRefusal() { return refusal }
        if record.topic.isEmpty { return .emptyTopic }
        if let p = record.partition, p < 0 { return .negativePartition(p) }
        if record.partition == nil, config.partitioner == .manual { return .partitionRequired }
        guard let size = RecordBatchEncoder.recordSize(key: record.key, value: record.value, headers: record.headers,
                                                       offsetDelta: 0, timestampDelta: 0) else {
            return .recordTooLarge(size: Int(Int32.max), max: config.maxBatchBytes)
        }
        let charge = size.all
        // A record's deltas in a batch can grow it by a few varint bytes; keep that headroom.
        if charge + 16 + RecordBatchEncoder.batchHeaderSize > config.maxBatchBytes {
            return .recordTooLarge(size: charge, max: config.maxBatchBytes - RecordBatchEncoder.batchHeaderSize - 16)
        }
        if bufferedRecords >= config.maxBufferedRecords || bufferedBytes + charge > config.maxBufferedBytes { return .bufferFull }
        let ti = topicIndex(record.topic, metadata: metadata)
        // Through `inout` the topic is read in place; a plain read of `topics.values[ti]`
        // would copy it (retaining every array it holds) once per record.
        let (known, count) = Self.peek(&topics.values[ti])
        if !known {
            if Self.wait(WaitingRecord(record: record, charge: charge, baseBody: size.body, at: now), in: &topics.values[ti]) {
                askMetadata(now: now, force: true)
            }
        } else {
            if let p = record.partition, Int(p) >= count { return .partitionOutOfRange(p, count: count) }
            place(record, in: ti, size: size, now: now)
        }
        bufferedRecords += 1
        bufferedBytes += charge
        if idState == .none, idempotent { dirty = true }
        // A partition new to the transaction is added while its batch lingers, not after.
        if transactional { dirty = true }
        return nil
    }

    typealias TopicIndex = Dictionary<String, ProducerTopic>.Index

    /// The topic's index in `topics`, adding it when new. One hash lookup per run of records
    /// to the same topic: the last index is kept until a topic is added.
    private mutating func topicIndex(_ name: String, metadata: MetadataCache) -> TopicIndex {
        if let last = lastTopic, last.name == name { return last.index }
        let ti: TopicIndex
        if let i = topics.index(forKey: name) {
            ti = i
        } else {
            let own = Self.ownCopy(name)
            topics[own] = ProducerTopic(name: own)
            let at = topicNames.firstIndex { $0 > own } ?? topicNames.count
            topicNames.insert(own, at: at)
            learnTopic(own, metadata: metadata)
            ti = topics.index(forKey: own)!
        }
        // The caller's string, so that the next record naming the topic with the same string
        // matches on identity, without reading its bytes.
        lastTopic = (name, ti)
        return ti
    }

    /// `name` in storage of the producer's own. A topic name the caller made is retained and
    /// released by the caller's thread for every record; reports carry the producer's names
    /// (each delivered record's result holds one), and sharing the caller's storage would
    /// have both threads update one reference count, a cache line passed back and forth.
    private static func ownCopy(_ name: String) -> String {
        String(decoding: Array(name.utf8), as: UTF8.self)
    }

    private static func peek(_ t: inout ProducerTopic) -> (known: Bool, partitions: Int) {
        (t.isKnown, t.partitions.count)
    }

    /// Queues `w` until metadata knows its topic; true when it is the first to wait.
    private static func wait(_ w: consuming WaitingRecord, in t: inout ProducerTopic) -> Bool {
        t.waiting.append(w)
        return t.waiting.count == 1
    }

    /// Appends a record of a known topic to its partition's open batch (or a new one);
    /// `size` is the record's size at deltas 0.
    private mutating func place(_ record: ProducerRecord, in ti: TopicIndex, size: (body: Int, all: Int), now: Instant) {
        let closedOne = Self.place(record, in: &topics.values[ti], size: size, now: now, partitioner: config.partitioner,
                                   maxBatchBytes: config.maxBatchBytes, spares: &spareBodies, rng: &rng)
        if closedOne { dirty = true }
        // During a flush nothing lingers: the new record may go at once.
        if (config.linger == .zero && !config.manualFlushing) || isFlushingNow() { dirty = true }
    }

    private static func place(_ record: ProducerRecord, in t: inout ProducerTopic, size: (body: Int, all: Int), now: Instant,
                              partitioner: PartitionerKind, maxBatchBytes: Int, spares: inout BatchBodies,
                              rng: inout SeededGenerator) -> Bool {
        let p = Int(record.partition ?? t.choosePartition(record, charge: size.all, partitioner: partitioner, rng: &rng))
        t.partitions[p].bufferedRecords += 1
        let closedOne = t.partitions[p].append(record, baseBody: size.body, charge: size.all, now: now, maxBatchBytes: maxBatchBytes,
                                               spares: &spares)
        if closedOne, case .sticky = partitioner, record.key == nil, record.partition == nil, t.sticky == Int32(p) {
            t.stickyBefore = t.sticky
            t.sticky = -1
        }
        return closedOne
    }

    // MARK: flush and close

    mutating func flush(_ promise: PromiseID) {
        flushWaiters.append(promise)
        dirty = true
        completeFlushesIfDone()
    }

    /// A commit flushes too: the transaction's records go without lingering.
    var isFlushing: Bool { !flushWaiters.isEmpty || (txn?.isCommitting ?? false) }

    /// `isFlushing`, for the path every record takes. Reading `isFlushing` there copied the
    /// whole TransactionManager (288 bytes) on every record, transactional or not, before
    /// testing anything; a non-mutating helper copied the whole producer (841).
    private mutating func isFlushingNow() -> Bool {
        if !flushWaiters.isEmpty { return true }
        return transactional && Self.committing(&txn)
    }

    @inline(never)
    private static func committing(_ txn: inout TransactionManager?) -> Bool { txn?.isCommitting ?? false }

    mutating func completeFlushesIfDone() {
        guard bufferedRecords == 0, !flushWaiters.isEmpty else { return }
        for p in flushWaiters { outputs.append(.action(.producer(.flushed(p)))) }
        flushWaiters.removeAll()
    }

    /// Fails everything still buffered; the engine has already failed the outstanding requests.
    mutating func close() {
        guard !closed else { return }
        closed = true
        failEverything(.clientClosed)
        failTransactionWaiters(.clientClosed)
    }

    mutating func failEverything(_ error: ProduceError) {
        for name in topicNames {
            failWaiting(name, error)
            for p in topics[name]!.partitions.indices {
                while !topics[name]!.partitions[p].batches.isEmpty {
                    let b = topics[name]!.partitions[p].batches.removeFirst()
                    report(name, Int32(p), b, error: error)
                }
                topics[name]!.partitions[p].sentCount = 0
            }
        }
        completeFlushesIfDone()
    }

    mutating func failWaiting(_ name: String, _ error: ProduceError) {
        let waiting = topics[name]!.waiting
        guard !waiting.isEmpty else { return }
        topics[name]!.waiting = []
        bufferedRecords -= waiting.count
        bufferedBytes -= waiting.reduce(0) { $0 + $1.charge }
        outputs.append(.action(.delivery(DeliveryReport(topic: name, partition: -1, baseOffset: -1, logAppendTime: -1,
                                              tokens: waiting.map(\.record.token), error: error))))
        if txn != nil { transactionRecordFailed(error) }
    }

    mutating func fail(fatally error: ProduceError) {
        guard fatalError == nil else { return }
        fatalError = error
        outputs.append(.action(.producer(.fatal(error))))
        failEverything(.fatal(error))
        failTransactionWaiters(.fatal(error))
    }

    /// Reports a batch as done (delivered or failed) and releases its buffer charge.
    mutating func report(_ topic: String, _ partition: Int32, _ b: ProducerBatch, baseOffset: Int64 = -1, logAppendTime: Int64 = -1,
                         error: ProduceError?) {
        bufferedRecords -= b.count
        bufferedBytes -= b.charged
        topics[topic]!.partitions[Int(partition)].bufferedRecords -= b.count
        outputs.append(.action(.delivery(DeliveryReport(topic: topic, partition: partition, baseOffset: error == nil ? baseOffset : -1,
                                              logAppendTime: logAppendTime, tokens: b.tokens, error: error))))
        if let error, txn != nil { transactionRecordFailed(error) }
    }

    // MARK: metadata

    mutating func askMetadata(now: Instant, force: Bool = false, urgent: Bool = false) {
        if !force, let last = lastMetadataAsk, now < last + .seconds(1) { return }
        lastMetadataAsk = now
        outputs.append(.metadata(topics: topicNames, refresh: urgent ? .urgent : .normal))
    }

    /// Takes what metadata says about one topic: partitions, leaders, existence.
    mutating func learnTopic(_ name: String, metadata: MetadataCache) {
        guard var t = topics[name], let code = metadata.topicErrors[name] else { return }
        let known = metadata.partitions.keys.filter { $0.topic == name }.map(\.partition)
        if code != .noError || known.isEmpty {
            t.missingRefreshes += 1
            topics[name] = t
            lastTopic = nil
            return
        }
        t.missingRefreshes = 0
        // Created again, after a deletion we saw or under a new ID: a new topic under the
        // old name (and retriable errors are retried again).
        let id = metadata.topicIds[name]
        if t.deleted || (id != nil && t.topicId != nil && id != t.topicId) {
            for p in t.partitions.indices { t.partitions[p].startOver() }
        }
        if let id { t.topicId = id }
        t.deleted = false
        let count = Int((known.max() ?? -1) + 1)
        while t.partitions.count < count { t.partitions.append(PartitionQueue()) }
        var available: [Int32] = []
        for p in 0 ..< t.partitions.count {
            let tp = TopicPartition(name, Int32(p))
            let info = metadata.partitions[tp]
            let leader = metadata.leader(of: tp) ?? -1
            if leader >= 0 { available.append(Int32(p)) }
            var q = t.partitions[p]
            let epoch = info?.leaderEpoch ?? -1
            // An older epoch than a KIP-951 hint already applied says nothing new.
            if leader >= 0, leader != q.leader, epoch >= q.leaderEpoch || q.leader < 0 {
                if q.sentCount > 0 && q.sentTo != leader { q.rewind(resolvedOne: false) }
                q.leader = leader
                q.leaderEpoch = epoch
                dirty = true
            } else if leader >= 0, epoch > q.leaderEpoch {
                q.leaderEpoch = epoch
            }
            t.partitions[p] = q
        }
        t.available = available
        // A partition metadata no longer lists (fewer partitions than before) is no sticky choice.
        if t.sticky >= 0, !known.contains(t.sticky) { t.sticky = -1 }
        topics[name] = t
        lastTopic = nil
    }

    mutating func metadataUpdated(_ metadata: MetadataCache, now: Instant) {
        for name in topicNames {
            // Not authorized to describe the topic: no refresh will change that (as the Java
            // client, its records fail at once rather than at the delivery timeout).
            if metadata.topicErrors[name] == .topicAuthorizationFailed, !topics[name]!.isKnown {
                failTopic(name, wasKnown: false, error: .broker(.topicAuthorizationFailed, message: "not authorized to describe topic \(name)"))
                continue
            }
            let before = topics[name]!.missingRefreshes
            let wasKnown = topics[name]!.isKnown
            learnTopic(name, metadata: metadata)
            let t = topics[name]!
            if t.missingRefreshes > before {
                if t.missingRefreshes > config.unknownTopicRetries {
                    failTopic(name, wasKnown: wasKnown)
                } else if !t.waiting.isEmpty || wasKnown {
                    askMetadata(now: now, force: true)
                }
                continue
            }
            if t.isKnown && !t.waiting.isEmpty {
                let partitionCount = t.partitions.count
                _ = consume t
                // Taken out, so the records are placed from the only reference to them:
                // iterating a copy retained and released every field of every record.
                var waiting: [WaitingRecord] = []
                swap(&waiting, &topics[name]!.waiting)
                let ti = topics.index(forKey: name)!
                for i in waiting.indices {
                    if let p = waiting[i].record.partition, Int(p) >= partitionCount {
                        bufferedRecords -= 1
                        bufferedBytes -= waiting[i].charge
                        outputs.append(.action(.delivery(DeliveryReport(topic: name, partition: p, baseOffset: -1, logAppendTime: -1, tokens: [waiting[i].record.token],
                                                              error: .partitionOutOfRange(p, count: partitionCount)))))
                        if txn != nil { transactionRecordFailed(.partitionOutOfRange(p, count: partitionCount)) }
                        continue
                    }
                    place(waiting[i].record, in: ti, size: (waiting[i].baseBody, waiting[i].charge), now: waiting[i].at)
                }
                dirty = true
            }
        }
        completeFlushesIfDone()
    }

    /// The topic does not exist (or no longer): its waiting and unsent records fail; sent
    /// ones fail when their answers come back.
    mutating func failTopic(_ name: String, wasKnown: Bool, error: ProduceError? = nil) {
        let error = error ?? ProduceError.unknownTopic(name)
        failWaiting(name, error)
        topics[name]!.missingRefreshes = 0
        if wasKnown { topics[name]!.deleted = true }
        for p in topics[name]!.partitions.indices {
            // Reported in produce order.
            let q = topics[name]!.partitions[p]
            let unsent = q.batches[q.sentCount...]
            topics[name]!.partitions[p].batches.removeLast(unsent.count)
            for b in unsent { report(name, Int32(p), b, error: error) }
        }
        completeFlushesIfDone()
    }

    // MARK: time

    func lingerDone(_ b: ProducerBatch, now: Instant) -> Bool {
        if isFlushing { return true }
        if config.manualFlushing { return false }
        return now >= b.opened + config.linger
    }

    func nextDeadline(after floor: Instant?) -> Instant? {
        guard !closed, fatalError == nil else { return nil }
        var d: Instant?
        func consider(_ t: Instant) {
            if let floor, t <= floor { return }
            d = d.map { min($0, t) } ?? t
        }
        if let r = idRetryAt { consider(r) }
        if let r = txn?.nextRetry { consider(r) }
        if idempotenceSuspended, idempotenceMayFallBack, bufferedRecords > 0 {
            if let r = resumeIdempotenceAt { consider(r) }
            if let p = idempotenceProbedAt { consider(p + Self.idempotenceRecheck) }
        }
        for name in topicNames {
            let t = topics[name]!
            if let w = t.waiting.first {
                if let timeout = config.deliveryTimeout { consider(w.at + timeout) }
                consider((lastMetadataAsk ?? w.at) + .seconds(1))
            }
            for q in t.partitions where !q.batches.isEmpty {
                if let b = q.backoffUntil, q.sentCount < q.batches.count { consider(b) }
                // Batches for a partition without a known leader: ask metadata again (see `tick`).
                if q.leader < 0, q.sentCount < q.batches.count { consider((lastMetadataAsk ?? q.batches[0].opened) + .seconds(1)) }
                if let timeout = config.deliveryTimeout { consider(q.batches[0].opened + timeout) }
                if q.sentCount < q.batches.count, !config.manualFlushing, !isFlushing {
                    let b = q.batches[q.sentCount]
                    if !b.closed { consider(b.opened + config.linger) }
                }
            }
        }
        return d
    }

    mutating func tick(now: Instant) {
        guard !closed, fatalError == nil else { return }
        if let r = idRetryAt, now >= r { idRetryAt = nil }
        txn?.tick(now: now)
        var anyWaiting = false
        var leaderless = false
        for name in topicNames {
            if !topics[name]!.waiting.isEmpty { anyWaiting = true }
            // A partition whose leader metadata did not know (none elected, or a leader
            // missing from the broker list) holds its batches until a refresh names one;
            // nothing else would ask for it (a keyed or explicit record can land there).
            // Found by the txn-producer sweep: keyed records to a partition led by a
            // broker cut off from clients waited forever after it healed.
            // The ask is urgent (the refresh min age does not hold it back, only the
            // stale-metadata floor): those batches cannot move until it lands.
            if topics[name]!.partitions.contains(where: { $0.leader < 0 && $0.sentCount < $0.batches.count }) { leaderless = true }
            if let timeout = config.deliveryTimeout { expire(name, timeout: timeout, now: now) }
        }
        if anyWaiting || leaderless { askMetadata(now: now, urgent: leaderless) }
        dirty = true
        completeFlushesIfDone()
    }

    /// Fails records older than the delivery timeout that are not out on a request that
    /// still counts. A batch that had been sent may have been written, so an idempotent
    /// producer bumps its epoch before sending the partition's later batches.
    mutating func expire(_ name: String, timeout: Interval, now: Instant) {
        let waiting = topics[name]!.waiting
        if let first = waiting.first, now >= first.at + timeout {
            let expired = waiting.prefix { now >= $0.at + timeout }
            topics[name]!.waiting.removeFirst(expired.count)
            bufferedRecords -= expired.count
            bufferedBytes -= expired.reduce(0) { $0 + $1.charge }
            outputs.append(.action(.delivery(DeliveryReport(topic: name, partition: -1, baseOffset: -1, logAppendTime: -1,
                                                  tokens: expired.map(\.record.token), error: .deliveryTimeout))))
            if txn != nil { transactionRecordFailed(.deliveryTimeout) }
        }
        for p in topics[name]!.partitions.indices {
            while let b = topics[name]!.partitions[p].batches.first, topics[name]!.partitions[p].sentCount == 0, now >= b.opened + timeout {
                topics[name]!.partitions[p].batches.removeFirst()
                // (A transaction must abort instead: its report below says so.)
                if b.attempts > 0 && idempotent && txn == nil { bumpPending = true }
                report(name, Int32(p), b, error: .deliveryTimeout)
            }
        }
    }
}

extension PartitionQueue {
    /// Appends to the open batch, or closes it and opens a new one when the record does
    /// not fit. Returns whether a batch was closed for being full.
    mutating func append(_ r: ProducerRecord, baseBody: Int, charge: Int, now: Instant, maxBatchBytes: Int,
                         spares: inout BatchBodies) -> Bool {
        var closedOne = false
        if hasOpenBatch {
            let last = batches.count - 1
            if let size = batches[last].sizeIfAppended(r, baseBody: baseBody), batches[last].wireSize + size.all <= maxBatchBytes {
                batches[last].append(r, charge: charge, size: size)
                if batches[last].wireSize + 16 >= maxBatchBytes { batches[last].closed = true; closedOne = true }
                return closedOne
            }
            batches[last].closed = true
            closedOne = true
        }
        if let last = batches.last { lastBatchBody = last.bytes.count }
        // Sized like the partition's last batch (plus an eighth): a steady stream fills its
        // batches without regrowing (and re-faulting) the body several times each. No floor
        // beyond a first batch's 4 KiB: a 16 KiB floor held 16 KiB (and more, in flight) per
        // partition whatever the partition's batches needed, tens of MB at 1,000 partitions.
        let want = lastBatchBody == 0 ? 4096 : lastBatchBody + lastBatchBody / 8
        var b = ProducerBatch(opened: now, storage: spares.take(capacity: min(maxBatchBytes, want)))
        // Accepted records always fit an empty batch (checked at the call).
        guard let size = b.sizeIfAppended(r, baseBody: baseBody) else { preconditionFailure("record accepted without a size") }
        b.append(r, charge: charge, size: size)
        batches.append(b)
        return closedOne
    }
}
