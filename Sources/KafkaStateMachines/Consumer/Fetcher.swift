import KafkaProtocol

/// The direct consumer's fetch path, as a sub-machine of `ClientEngine`: per-partition
/// positions, start offsets (ListOffsets), KIP-320 validation (OffsetForLeaderEpoch), fetch
/// requests per source broker with KIP-227 sessions and KIP-392 preferred replicas, and
/// backpressure. It does not decide what to consume: explicit assignments and topic
/// subscriptions come in as inputs (a group member will drive the same inputs later).
///
/// Pure: inputs carry `now` and the engine's metadata; outputs are `ComponentOutput`s the
/// engine turns into requests (no retries: the fetcher handles every error itself) and
/// `.fetched` actions (one per fetch response).
package struct Fetcher {
    public var config: FetcherConfig

    enum Phase: Equatable {
        case needsOffset(StartOffset)
        case listing(tag: UInt64, start: StartOffset)
        case needsValidation
        case validating(tag: UInt64)
        case ready
        case fetching(tag: UInt64)
        /// Stopped with an error the user has seen; `skipTo` is where `skip` resumes.
        case stopped(ConsumerPartitionError, skipTo: Int64)
    }

    struct Cursor: Equatable {
        var offset: Int64 = -1
        /// Leader epoch of the last fetched batch (or given with the start offset), -1 unknown.
        var epoch: Int32 = -1
        /// The leader epoch metadata gave when we last looked; sent as currentLeaderEpoch.
        var leaderEpoch: Int32 = -1
        var phase: Phase
        var paused = false
        /// No request for this partition before this instant.
        var retryAt: Instant = .zero
        /// KIP-392: the replica the leader pointed us at, until the recheck.
        var preferredReplica: Int32?
        var preferredUntil: Instant = .zero
        /// Came from a subscription (removed when the topic stops matching).
        var subscribed = false
        /// An empty delivery told the user this partition is at its end.
        var reportedEnd = false
        /// The topic ID metadata gave when this position was taken (nil: not seen yet, or
        /// a broker before Metadata v10): another one means the topic was created again.
        var topicId: KafkaUUID? = nil
        /// What the next fetch asks of this partition (0: the first fetch's size).
        var fetchBytes: Int32 = 0
    }

    /// A partition's first fetch after assign or seek; also the least a whole fetch asks for.
    private var firstFetchSize: Int32 {
        config.firstFetchBytes > 0 ? min(config.firstFetchBytes, config.partitionMaxBytes) : config.partitionMaxBytes
    }

    /// What a partition's next fetch asks for: small after a (re)start, then growing (or the
    /// full size once records have arrived, `fullSizeOnceRecordsArrive`).
    private func fetchBytes(_ c: Cursor) -> Int32 {
        if recordsArrived && config.fullSizeOnceRecordsArrive { return config.partitionMaxBytes }
        return c.fetchBytes > 0 ? min(c.fetchBytes, config.partitionMaxBytes) : firstFetchSize
    }

    enum InFlight {
        /// `asked`: the bytes the fetch asked for in all (what its answer may carry at most,
        /// one batch aside); `capped`: whether a cut cap made it ask for less.
        /// `partitions`: the fetch's partitions, sorted (its answer releases only these);
        case fetch(broker: Int32, plan: FetchSession.Plan, partitions: [TopicPartition], asked: Int32, capped: Bool)
        case list(broker: Int32)
        case validate(broker: Int32, positions: [TopicPartition: (offset: Int64, epoch: Int32)])
    }

    private(set) var cursors: [TopicPartition: Cursor] = [:]
    /// `cursors`' keys, sorted: what every walk over the partitions goes through (the
    /// sorted order keeps it deterministic). Rebuilt only when partitions come or go,
    /// not at each step: sorting 1,000 partitions per step was most of a consumer's CPU.
    private var order: [TopicPartition] = []
    /// The topics of `order`, sorted, each once (`metadataTopics` runs at every step).
    private var orderTopics: [String] = []
    /// No cursor's `retryAt` is later than this (`nextFetchDeadline` skips its walk once
    /// this is past).
    private var latestRetryAt: Instant = .zero
    /// `startRecreatedTopicsOver` has to look again: a partition lacks its topic ID or was
    /// left while it had a request out. Otherwise only new topic IDs can change anything.
    private var recreatedCheckDue = true
    private var checkedTopicIds: [String: KafkaUUID] = [:]
    private var sessions: [Int32: FetchSession] = [:]
    /// Per broker: the most a fetch there asks for in all, after connections to it were
    /// cut with a fetch in flight (`FetcherConfig.fetchBytesAfterCut`).
    private var cutCaps: [Int32: Int32] = [:]
    /// A fetch has brought records (see `FetcherConfig.fullSizeOnceRecordsArrive`).
    private var recordsArrived = false
    private var inFlight: [UInt64: InFlight] = [:]
    private var nextTag: UInt64 = 1
    /// Delivered record bytes the user has not polled yet.
    public private(set) var bufferedBytes = 0
    public private(set) var subscription = TopicSubscription()
    private var nextTopicRefresh: Instant?
    /// The metadata refresh the subscription was last matched against.
    private var subscriptionAppliedAt: Instant?
    /// A new subscription wants fresh metadata before it can match anything.
    private var subscriptionNeedsMetadata = false
    private var outputs: [ComponentOutput] = []
    /// The metadata topics last told to the engine (`metadataTopics`), so they are told once.
    var interestTold: [String]?? = nil

    public init(config: FetcherConfig) { self.config = config }

    /// Whether the fetcher has anything to do (the engine skips it entirely otherwise).
    public var isActive: Bool { !cursors.isEmpty || !subscription.isEmpty }

    /// The partitions being consumed, sorted.
    public var assigned: [TopicPartition] { order }

    /// Where `tp` will fetch next (nil while its start offset is unknown or unassigned).
    public func position(of tp: TopicPartition) -> (offset: Int64, epoch: Int32)? {
        guard let c = cursors[tp], c.offset >= 0 else { return nil }
        switch c.phase {
        case .needsOffset, .listing: return nil
        default: return (c.offset, c.epoch)
        }
    }

    /// Topics metadata must cover (nil: every topic, for patterns).
    var metadataTopics: [String]? {
        if subscription.needsAllTopics { return nil }
        if subscription.topics.isEmpty { return orderTopics }
        return Set(orderTopics).union(subscription.topics).sorted()
    }

    mutating func takeOutputs() -> [ComponentOutput] {
        defer { outputs.removeAll(keepingCapacity: true) }
        return outputs
    }

    // MARK: user inputs

    /// Consumes these partitions from these offsets (a partition already assigned moves
    /// to the new offset, as `seek` does).
    public mutating func assign(_ partitions: [TopicPartition: StartOffset]) {
        for tp in partitions.keys.sorted() {
            var c = cursors[tp] ?? Cursor(phase: .needsOffset(partitions[tp]!))
            c.phase = .needsOffset(partitions[tp]!)
            c.retryAt = .zero
            c.fetchBytes = 0
            // The user's start is for the topic as it is now.
            c.topicId = nil
            cursors[tp] = c
        }
        partitionsChanged()
    }

    /// Partitions came or went: the sorted walk order follows, and a new partition needs
    /// its topic ID.
    private mutating func partitionsChanged() {
        order = cursors.keys.sorted()
        orderTopics = []
        for tp in order where orderTopics.last != tp.topic { orderTopics.append(tp.topic) }
        recreatedCheckDue = true
    }

    public mutating func unassign(_ partitions: [TopicPartition]) {
        for tp in partitions { cursors[tp] = nil }
        partitionsChanged()
    }

    /// Replaces the topic subscription; partitions of topics no longer subscribed stop.
    public mutating func subscribe(_ s: TopicSubscription, metadata: MetadataCache) {
        subscription = s
        nextTopicRefresh = nil
        // Matched against what metadata already holds; a refresh only for what it lacks.
        subscriptionNeedsMetadata = !metadata.knows(s.topics) || (s.needsAllTopics && !metadata.wantsAllTopics)
        applySubscription(metadata)
    }

    public mutating func seek(_ tp: TopicPartition, to start: StartOffset) {
        guard cursors[tp] != nil else { return }
        cursors[tp]!.phase = .needsOffset(start)
        cursors[tp]!.retryAt = .zero
        cursors[tp]!.topicId = nil
        cursors[tp]!.fetchBytes = 0
        recreatedCheckDue = true
    }

    /// Resumes a stopped partition past the batch that stopped it.
    public mutating func skip(_ tp: TopicPartition) {
        guard let c = cursors[tp], case .stopped(_, let to) = c.phase else { return }
        cursors[tp]!.offset = to
        cursors[tp]!.phase = .ready
    }

    /// The user found a batch it cannot decode at `offset` (after the engine had moved
    /// on): the partition stops there until `skip` (to `skipTo`) or `seek`.
    public mutating func stop(_ tp: TopicPartition, at offset: Int64, error: ConsumerPartitionError, skipTo: Int64) {
        guard cursors[tp] != nil else { return }
        cursors[tp]!.offset = offset
        cursors[tp]!.phase = .stopped(error, skipTo: skipTo)
    }

    public mutating func pause(_ partitions: [TopicPartition]) {
        for tp in partitions where cursors[tp] != nil { cursors[tp]!.paused = true }
    }

    public mutating func resume(_ partitions: [TopicPartition]) {
        for tp in partitions where cursors[tp] != nil { cursors[tp]!.paused = false }
    }

    public func isPaused(_ tp: TopicPartition) -> Bool { cursors[tp]?.paused ?? false }

    /// The user polled `bytes` of delivered records.
    public mutating func consumed(bytes: Int) {
        bufferedBytes = max(0, bufferedBytes - bytes)
    }

    // MARK: metadata

    /// New metadata: pick up subscribed topics' partitions, and send partitions whose
    /// leader epoch moved to validation (KIP-320) before they fetch again.
    mutating func metadataUpdated(_ metadata: MetadataCache) {
        subscriptionNeedsMetadata = false
        applySubscription(metadata)
        for tp in order {
            guard let info = metadata.partitions[tp] else { continue }
            var c = cursors[tp]!
            let old = c.leaderEpoch
            c.leaderEpoch = info.leaderEpoch
            if info.leaderEpoch > old && old >= 0 && c.epoch >= 0 && config.validateEpochs {
                switch c.phase {
                case .ready, .fetching: c.phase = .needsValidation
                default: break
                }
            }
            cursors[tp] = c
        }
    }

    private mutating func applySubscription(_ metadata: MetadataCache) {
        subscriptionAppliedAt = metadata.lastRefresh
        let known = metadata.topicErrors.filter { $0.value == .noError }.keys.sorted()
        let wanted = Set(subscription.matching(known))
        var changed = false
        defer { if changed { partitionsChanged() } }
        for tp in order where cursors[tp]!.subscribed && !wanted.contains(tp.topic) {
            cursors[tp] = nil
            changed = true
        }
        guard !wanted.isEmpty else { return }
        for tp in metadata.partitions.keys.sorted() where wanted.contains(tp.topic) && cursors[tp] == nil {
            var c = Cursor(phase: .needsOffset(subscription.start))
            c.subscribed = true
            cursors[tp] = c
            changed = true
        }
    }

    // MARK: scheduling

    /// The earliest instant after `floor` a backoff ends, or when a topic refresh is due. A
    /// backoff that ended by `floor` was seen by the schedule then (a partition waiting for
    /// a leader waits for metadata, not time).
    func nextFetchDeadline(after floor: Instant?) -> Instant? {
        var d = nextTopicRefresh
        guard latestRetryAt > (floor ?? .zero) else { return d }
        for c in cursors.values where c.retryAt > (floor ?? .zero) {
            switch c.phase {
            case .needsOffset, .needsValidation, .ready: d = d.map { min($0, c.retryAt) } ?? c.retryAt
            default: break
            }
        }
        return d
    }

    /// Issues every request that can go now: offsets to list, positions to validate,
    /// fetches to each source broker within the concurrency and buffer limits.
    mutating func schedule(now: Instant, metadata: MetadataCache, versions: [BrokerID: BrokerVersions]) {
        if subscription.needsAllTopics {
            if let at = nextTopicRefresh, now >= at {
                outputs.append(.metadata(topics: [], refresh: .normal))
                nextTopicRefresh = now + config.topicRefresh
            } else if nextTopicRefresh == nil {
                nextTopicRefresh = now + config.topicRefresh
            }
        }
        // Any newer metadata (a user's Metadata answer counts too) may hold new topics.
        if !subscription.isEmpty && metadata.lastRefresh != subscriptionAppliedAt { applySubscription(metadata) }
        startRecreatedTopicsOver(metadata)
        var needMetadata = subscriptionNeedsMetadata || !metadata.knows(subscription.topics)
        var needUrgentMetadata = false
        subscriptionNeedsMetadata = false
        var lists: [Int32: [TopicPartition]] = [:]
        var validations: [Int32: [TopicPartition]] = [:]
        var fetches: [Int32: [TopicPartition]] = [:]
        for tp in order {
            let c = cursors[tp]!
            guard c.retryAt <= now else { continue }
            switch c.phase {
            case .needsOffset, .needsValidation, .ready: break
            default: continue
            }
            guard let leader = metadata.leader(of: tp) else {
                needMetadata = true
                continue
            }
            // A newer epoch (from any metadata answer, ours or the user's) means the leader
            // changed: validate before fetching again (KIP-320).
            if let e = metadata.partitions[tp]?.leaderEpoch, e > c.leaderEpoch {
                if c.leaderEpoch >= 0 && c.epoch >= 0 && config.validateEpochs && c.phase == .ready { cursors[tp]!.phase = .needsValidation }
                cursors[tp]!.leaderEpoch = e
            }
            if case .needsOffset(let start) = c.phase, start.listTimestamp == nil { startAt(tp, start) }
            switch cursors[tp]!.phase {
            case .needsOffset:
                lists[leader, default: []].append(tp)
            case .needsValidation:
                if !config.validateEpochs || c.epoch < 0 || !Self.supportsValidation(versions[.node(leader)]) {
                    cursors[tp]!.phase = .ready
                } else {
                    validations[leader, default: []].append(tp)
                }
            default:
                break
            }
        }
        // Partitions made ready above (exact starts, skipped validation) fetch in this round.
        for tp in order {
            guard let c = cursors[tp], c.phase == .ready, !c.paused, c.retryAt <= now, let leader = metadata.leader(of: tp) else { continue }
            if let r = c.preferredReplica, metadata.brokers[r] == nil {
                // KIP-392: the preferred replica is still missing from metadata. Back to
                // the leader, and look again (as the Java consumer does): without a refresh
                // the leader would point at it forever and the partition never move.
                cursors[tp]!.preferredReplica = nil
                needUrgentMetadata = true
            }
            fetches[source(of: tp, leader: leader, metadata: metadata, now: now), default: []].append(tp)
        }
        if needUrgentMetadata {
            outputs.append(.metadata(topics: [], refresh: .urgent))
        } else if needMetadata {
            outputs.append(.metadata(topics: [], refresh: .normal))
        }
        for broker in lists.keys.sorted() { sendListOffsets(broker, lists[broker]!) }
        for broker in validations.keys.sorted() { sendValidation(broker, validations[broker]!) }
        guard bufferedBytes < config.maxBufferedBytes else { return }
        var running = inFlight.values.filter { if case .fetch = $0 { return true } else { return false } }.count
        let busy = Set(inFlight.values.compactMap { f -> Int32? in if case .fetch(let b, _, _, _, _) = f { return b } else { return nil } })
        let going = fetches.keys.sorted().filter { !busy.contains($0) }.prefix(max(0, config.maxConcurrentFetches - running))
        for broker in going {
            sendFetch(broker, fetches[broker]!, sharers: busy.count + going.count, versions: versions[.node(broker)], now: now)
            running += 1
        }
    }

    /// A consumed topic created again under its name (metadata gives its name a new topic
    /// ID): its partitions start over as a new topic's. The old topic's positions and
    /// epochs mean nothing there (the new one's epochs start again from 0), so there is no
    /// KIP-320 validation: a subscribed partition starts where new partitions of the
    /// subscription start, an assigned one where the reset policy says (with `.error`, at
    /// its offset without an epoch: the leader's range check reports it if out of range).
    /// Partitions with a request out are left until its answer.
    private mutating func startRecreatedTopicsOver(_ metadata: MetadataCache) {
        guard !metadata.topicIds.isEmpty else { return }
        // Nothing to do unless a partition is new, was left for its answer, or IDs moved.
        guard recreatedCheckDue || metadata.topicIds != checkedTopicIds else { return }
        checkedTopicIds = metadata.topicIds
        recreatedCheckDue = false
        for tp in order {
            guard let id = metadata.topicIds[tp.topic] else { continue }
            var c = cursors[tp]!
            guard let known = c.topicId else {
                cursors[tp]!.topicId = id
                continue
            }
            guard known != id else { continue }
            switch c.phase {
            case .listing, .validating, .fetching:
                recreatedCheckDue = true
                continue
            case .needsOffset, .needsValidation, .ready, .stopped: break
            }
            c.topicId = id
            c.epoch = -1
            c.leaderEpoch = metadata.partitions[tp]?.leaderEpoch ?? -1
            c.preferredReplica = nil
            c.reportedEnd = false
            c.retryAt = .zero
            if c.subscribed {
                c.phase = .needsOffset(subscription.start)
            } else {
                switch config.resetPolicy {
                case .start: c.phase = .needsOffset(.start)
                case .end: c.phase = .needsOffset(.end)
                case .error: c.phase = .ready
                }
            }
            cursors[tp] = c
        }
    }

    /// Puts a partition at an offset that needs no lookup.
    private mutating func startAt(_ tp: TopicPartition, _ start: StartOffset) {
        switch start {
        case .exact(let o):
            cursors[tp]!.offset = o
            cursors[tp]!.epoch = -1
            cursors[tp]!.phase = .ready
        case .exactWithEpoch(let o, let e):
            cursors[tp]!.offset = o
            cursors[tp]!.epoch = e
            cursors[tp]!.phase = config.validateEpochs && e >= 0 ? .needsValidation : .ready
        default:
            break
        }
    }

    private func source(of tp: TopicPartition, leader: Int32, metadata: MetadataCache, now: Instant) -> Int32 {
        if let r = cursors[tp]?.preferredReplica, now < cursors[tp]!.preferredUntil, metadata.brokers[r] != nil { return r }
        return leader
    }

    static func supportsValidation(_ v: BrokerVersions?) -> Bool {
        // Unknown versions: try; an unsupported-version failure then skips validation.
        guard let v else { return true }
        guard let r = v.range(for: .offsetForLeaderEpoch) else { return false }
        return r.upperBound >= 2  // v2 carries currentLeaderEpoch
    }

    private mutating func takeTag() -> UInt64 {
        defer { nextTag += 1 }
        return nextTag
    }

    private mutating func sendListOffsets(_ broker: Int32, _ partitions: [TopicPartition]) {
        let tag = takeTag()
        var request = ListOffsetsRequest()
        request.replicaId = -1
        request.isolationLevel = config.isolation.rawValue
        var byTopic: [String: [ListOffsetsRequest.ListOffsetsPartition]] = [:]
        for tp in partitions {
            guard case .needsOffset(let start) = cursors[tp]!.phase, let ts = start.listTimestamp else { continue }
            var p = ListOffsetsRequest.ListOffsetsPartition()
            p.partitionIndex = tp.partition
            p.currentLeaderEpoch = cursors[tp]!.leaderEpoch
            p.timestamp = ts
            byTopic[tp.topic, default: []].append(p)
            cursors[tp]!.phase = .listing(tag: tag, start: start)
        }
        request.topics = byTopic.keys.sorted().map { name in
            var t = ListOffsetsRequest.ListOffsetsTopic()
            t.name = name
            t.partitions = byTopic[name]!
            return t
        }
        inFlight[tag] = .list(broker: broker)
        outputs.append(.send(ComponentRequest(tag: tag, request, to: .broker(broker), pin: nil, maxRetries: 0)))
    }

    private mutating func sendValidation(_ broker: Int32, _ partitions: [TopicPartition]) {
        let tag = takeTag()
        var request = OffsetForLeaderEpochRequest()
        var byTopic: [String: [OffsetForLeaderEpochRequest.OffsetForLeaderPartition]] = [:]
        var positions: [TopicPartition: (offset: Int64, epoch: Int32)] = [:]
        for tp in partitions {
            let c = cursors[tp]!
            var p = OffsetForLeaderEpochRequest.OffsetForLeaderPartition()
            p.partition = tp.partition
            p.currentLeaderEpoch = c.leaderEpoch
            p.leaderEpoch = c.epoch
            byTopic[tp.topic, default: []].append(p)
            positions[tp] = (c.offset, c.epoch)
            cursors[tp]!.phase = .validating(tag: tag)
        }
        request.topics = byTopic.keys.sorted().map { name in
            var t = OffsetForLeaderEpochRequest.OffsetForLeaderTopic()
            t.topic = name
            t.partitions = byTopic[name]!
            return t
        }
        inFlight[tag] = .validate(broker: broker, positions: positions)
        outputs.append(.send(ComponentRequest(tag: tag, request, to: .broker(broker), pin: 2 ... 4, maxRetries: 0)))
    }

    /// `sharers`: the fetches out or going out in this round, which share the buffer.
    private mutating func sendFetch(_ broker: Int32, _ partitions: [TopicPartition], sharers: Int, versions: BrokerVersions?, now: Instant) {
        let tag = takeTag()
        let fetchMax = versions?.range(for: .fetch)?.upperBound ?? 0
        let cap = cutCaps[broker]
        var wanted: [TopicPartition: FetchSession.Entry] = [:]
        var uncapped = 0
        for tp in partitions {
            let c = cursors[tp]!
            let bytes = fetchBytes(c)
            uncapped += Int(bytes)
            wanted[tp] = FetchSession.Entry(offset: c.offset, currentLeaderEpoch: c.leaderEpoch,
                                            lastFetchedEpoch: fetchMax >= 12 && config.validateEpochs ? c.epoch : -1,
                                            maxBytes: cap.map { min(bytes, $0) } ?? bytes)
            cursors[tp]!.phase = .fetching(tag: tag)
        }
        var session = sessions[broker] ?? FetchSession(enabled: config.fetchSessions)
        session.enabled = config.fetchSessions
        sessions[broker] = session
        let plan = session.plan(wanted)
        var request = FetchRequest()
        request.replicaId = -1
        request.maxWaitMs = Int32(clamping: config.maxWait.milliseconds)
        request.minBytes = config.minBytes
        // No more than the buffer has room for (a broker still returns one batch at least,
        // KIP-74): with many partitions, a response could otherwise bring maxBytes at once.
        // Nor more than the partitions ask for together: a broker that ignores partition
        // sizes (Tansu) would otherwise answer the fetch ramp's small first fetch with the
        // whole room, and large frames (with their copies) are most of a consumer's memory.
        // Fetches out at once (one per broker) share the buffer: otherwise each broker's
        // fetch could bring the whole room at once. A share rather than what is left after
        // the fetches in flight: that left the next fetch at the first fetch size most of
        // the time, and many small fetches cost more than the memory they saved. A fetch
        // still asks for `firstFetchSize` at least, so consuming never stops.
        var room = max(0, config.maxBufferedBytes - bufferedBytes)
        if config.shareRoomAmongFetches { room = min(room, config.maxBufferedBytes / max(1, sharers)) }
        let base = min(config.maxBytes, Int32(clamping: max(room, Int(firstFetchSize))))
        let asked = config.capFetchAtPartitionSizes ? wanted.values.reduce(0) { $0 + Int($1.maxBytes) } : Int.max
        request.maxBytes = min(base, Int32(clamping: asked))
        // What the fetch would ask for in all without a cut cap (Fetcher.adjustCutCap).
        let wouldAsk = min(base, Int32(clamping: uncapped))
        if let cap { request.maxBytes = min(request.maxBytes, cap) }
        // Until records arrive the whole fetch asks for one partition's first fetch: their first
        // fetches together made a response of megabytes with many partitions, which the broker
        // takes its time to gather (100 partitions on Tansu: the first record after 0.23-0.5 s).
        if config.fullSizeOnceRecordsArrive && config.firstFetchBytes > 0 && !recordsArrived {
            request.maxBytes = min(request.maxBytes, firstFetchSize)
        }
        request.isolationLevel = config.isolation.rawValue
        request.sessionId = plan.sessionId
        request.sessionEpoch = plan.sessionEpoch
        request.rackId = config.rack ?? ""
        var topics: [FetchRequest.FetchTopic] = []
        for (tp, e) in plan.send {
            var p = FetchRequest.FetchPartition()
            p.partition = tp.partition
            p.currentLeaderEpoch = e.currentLeaderEpoch
            p.fetchOffset = e.offset
            p.lastFetchedEpoch = e.lastFetchedEpoch
            p.partitionMaxBytes = e.maxBytes
            if topics.last?.topic == tp.topic {
                topics[topics.count - 1].partitions.append(p)
            } else {
                var t = FetchRequest.FetchTopic()
                t.topic = tp.topic
                t.partitions = [p]
                topics.append(t)
            }
        }
        request.topics = topics
        var forgotten: [FetchRequest.ForgottenTopic] = []
        for tp in plan.forget {
            if forgotten.last?.topic == tp.topic {
                forgotten[forgotten.count - 1].partitions.append(tp.partition)
            } else {
                var f = FetchRequest.ForgottenTopic()
                f.topic = tp.topic
                f.partitions = [tp.partition]
                forgotten.append(f)
            }
        }
        request.forgottenTopicsData = forgotten
        inFlight[tag] = .fetch(broker: broker, plan: plan, partitions: partitions, asked: min(wouldAsk, cap ?? wouldAsk), capped: cap.map { $0 < wouldAsk } ?? false)
        // Topic ids (v13+) are not tracked: names travel up to v12.
        outputs.append(.send(ComponentRequest(tag: tag, request, to: .broker(broker), pin: 0 ... 12, maxRetries: 0)))
    }

    // MARK: answers

    /// Whether `tag` is one of ours (the engine routes only those here).
    func owns(_ tag: UInt64) -> Bool { inFlight[tag] != nil }

    mutating func completed(_ tag: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant, metadata: MetadataCache) {
        guard let what = inFlight.removeValue(forKey: tag) else { return }
        switch what {
        case .fetch(let broker, let plan, let partitions, let asked, let capped):
            adjustCutCap(broker, asked: asked, capped: capped, result)
            fetchCompleted(tag, broker: broker, plan: plan, partitions: partitions, result, now: now, metadata: metadata)
        case .list:
            listCompleted(tag, result, now: now)
        case .validate(_, let positions):
            validationCompleted(tag, positions: positions, result, now: now)
        }
    }

    /// A connection cut with a fetch in flight halves what fetches to that broker ask for (a
    /// path that resets after so many bytes cuts an answer bigger than that every time);
    /// an answered fetch doubles it back, and once a fetch no longer needs the cap it goes.
    private mutating func adjustCutCap(_ broker: Int32, asked: Int32, capped: Bool, _ result: Result<any KafkaResponse, KafkaClientError>) {
        guard config.fetchBytesAfterCut > 0 else { return }
        switch result {
        case .failure(.connectionClosed):
            cutCaps[broker] = max(config.fetchBytesAfterCut, asked / 2)
        case .success:
            guard let cap = cutCaps[broker] else { return }
            if !capped { cutCaps[broker] = nil } else { cutCaps[broker] = cap > Int32.max / 2 ? Int32.max : cap * 2 }
        case .failure:
            break
        }
    }

    /// Puts partitions still marked with `tag` back to `phase` after a backoff. `among`: the
    /// partitions the request went out for, when known (a fetch's), else all of them.
    private mutating func release(_ tag: UInt64, among partitions: [TopicPartition]? = nil, to phase: (Cursor) -> Phase,
                                  backoff: Bool, now: Instant) {
        for tp in partitions ?? order {
            guard let c = cursors[tp] else { continue }
            let mine: Bool
            switch c.phase {
            case .fetching(let t), .validating(let t): mine = t == tag
            case .listing(let t, _): mine = t == tag
            default: mine = false
            }
            guard mine else { continue }
            cursors[tp]!.phase = phase(c)
            if backoff { setRetry(tp, at: now + config.retryBackoff) }
        }
    }

    private mutating func setRetry(_ tp: TopicPartition, at t: Instant) {
        cursors[tp]!.retryAt = t
        latestRetryAt = max(latestRetryAt, t)
    }

    private mutating func partitionNeedsMetadata(_ tp: TopicPartition, now: Instant) {
        setRetry(tp, at: now + config.retryBackoff)
        cursors[tp]!.preferredReplica = nil
        outputs.append(.metadata(topics: [], refresh: .normal))
    }

    private mutating func fetchCompleted(_ tag: UInt64, broker: Int32, plan: FetchSession.Plan, partitions: [TopicPartition],
                                         _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant, metadata: MetadataCache) {
        let response: FetchResponse
        switch result {
        case .failure(let error):
            sessions[broker]?.reset()
            let clearReplica = plan.wanted.keys.contains { cursors[$0]?.preferredReplica == broker }
            release(tag, among: partitions, to: { _ in .ready }, backoff: true, now: now)
            if clearReplica {
                for tp in plan.wanted.keys where cursors[tp]?.preferredReplica == broker { cursors[tp]!.preferredReplica = nil }
            }
            if case .unsupportedVersion = error { return }
            outputs.append(.metadata(topics: [], refresh: .normal))
            return
        case .success(let r):
            guard let f = r as? FetchResponse else { return release(tag, among: partitions, to: { _ in .ready }, backoff: true, now: now) }
            response = f
        }
        let top = KafkaErrorCode(response.errorCode)
        if top != .noError {
            sessions[broker]?.reset()
            // A lost session is refetched in full at once; anything else waits a little.
            release(tag, among: partitions, to: { _ in .ready }, backoff: !FetchSession.isSessionError(top), now: now)
            return
        }
        sessions[broker]?.accepted(plan, responseSessionId: response.sessionId)

        var delivered: [FetchedPartition] = []
        var losses: [DataLoss] = []
        for topic in response.responses {
            for p in topic.partitions {
                let tp = TopicPartition(topic.topic, p.partitionIndex)
                guard let c = cursors[tp], c.phase == .fetching(tag: tag), let sent = plan.wanted[tp] else { continue }
                cursors[tp]!.phase = .ready
                // Paused meanwhile: drop the data; it is fetched again on resume.
                if c.paused { continue }
                if let d = handlePartition(tp, p, sent: sent, cursor: c, from: broker, now: now, metadata: metadata, losses: &losses) { delivered.append(d) }
            }
        }
        // Partitions an incremental response left out had nothing new.
        release(tag, among: partitions, to: { _ in .ready }, backoff: false, now: now)
        guard !delivered.isEmpty || !losses.isEmpty else { return }
        let batch = FetchBatch(broker: broker, partitions: delivered, dataLoss: losses)
        bufferedBytes += batch.bytes
        outputs.append(.action(.fetched(batch)))
    }

    /// One partition's answer; returns what the user should see.
    private mutating func handlePartition(_ tp: TopicPartition, _ p: FetchResponse.PartitionData, sent: FetchSession.Entry,
                                          cursor c: Cursor, from broker: Int32, now: Instant, metadata: MetadataCache,
                                          losses: inout [DataLoss]) -> FetchedPartition? {
        let code = KafkaErrorCode(p.errorCode)
        if p.preferredReadReplica >= 0 && p.preferredReadReplica != broker {
            cursors[tp]!.preferredReplica = p.preferredReadReplica
            cursors[tp]!.preferredUntil = now + config.preferredReplicaRecheck
            if metadata.brokers[p.preferredReadReplica] == nil {
                // A replica our metadata does not list (it came back after our last
                // refresh): its address comes with new metadata. The leader sends no
                // records with the pointer, so asking it again meanwhile gets the same
                // answer at once: wait for the refresh (or the backoff) instead. Urgent:
                // the partition cannot move until it lands.
                setRetry(tp, at: now + config.retryBackoff)
                outputs.append(.metadata(topics: [], refresh: .urgent))
            }
        }
        func stopped(_ e: ConsumerPartitionError, skipTo: Int64) -> FetchedPartition {
            cursors[tp]!.phase = .stopped(e, skipTo: skipTo)
            return FetchedPartition(topicPartition: tp, fetchOffset: sent.offset, nextOffset: sent.offset, highWatermark: p.highWatermark,
                                    lastStableOffset: p.lastStableOffset, logStartOffset: p.logStartOffset, isolation: config.isolation, error: e)
        }
        switch code {
        case .noError:
            break
        case .offsetOutOfRange:
            if c.preferredReplica == broker {
                // A follower behind the leader: go back to the leader (KIP-392).
                cursors[tp]!.preferredReplica = nil
                return nil
            }
            outputs.append(.decision(.offsetReset(tp, offset: sent.offset, policy: config.resetPolicy)))
            switch config.resetPolicy {
            case .start: cursors[tp]!.phase = .needsOffset(.start)
            case .end: cursors[tp]!.phase = .needsOffset(.end)
            case .error: return stopped(.offsetOutOfRange(offset: sent.offset), skipTo: sent.offset)
            }
            return nil
        case .fencedLeaderEpoch:
            // Our epoch is older than the leader's: new metadata, then validation.
            cursors[tp]!.phase = c.epoch >= 0 && config.validateEpochs ? .needsValidation : .ready
            partitionNeedsMetadata(tp, now: now)
            return nil
        default:
            if MetadataCache.isStale(code) || code.isRetriable {
                partitionNeedsMetadata(tp, now: now)
                return nil
            }
            return stopped(.broker(code), skipTo: sent.offset)
        }
        // KIP-320 through the fetch itself (v12+): the leader's log diverged from ours.
        if p.divergingEpoch.epoch >= 0 && p.divergingEpoch.endOffset >= 0 {
            let end = p.divergingEpoch.endOffset
            if end < sent.offset {
                losses.append(DataLoss(topicPartition: tp, fromOffset: end, toOffset: sent.offset))
                cursors[tp]!.offset = end
                cursors[tp]!.epoch = p.divergingEpoch.epoch
            } else {
                cursors[tp]!.epoch = p.divergingEpoch.epoch
            }
            return nil
        }
        guard let bytes = p.records, !bytes.isEmpty else {
            // Reached the end: say so once (kcat's -e and "partition EOF" need it).
            let end = config.isolation == .readCommitted && p.lastStableOffset >= 0 ? p.lastStableOffset : p.highWatermark
            guard sent.offset >= end, !c.reportedEnd else { return nil }
            cursors[tp]!.reportedEnd = true
            return FetchedPartition(topicPartition: tp, fetchOffset: sent.offset, nextOffset: sent.offset, highWatermark: p.highWatermark,
                                    lastStableOffset: p.lastStableOffset, logStartOffset: p.logStartOffset, isolation: config.isolation)
        }
        cursors[tp]!.reportedEnd = false
        let scan = BatchScan(bytes, fetchOffset: sent.offset, verifyCRC: config.verifyCRC)
        var records = scan.validBytes == bytes.count ? bytes : Array(bytes[0 ..< scan.validBytes])
        var error: ConsumerPartitionError?
        var next = scan.nextOffset
        if let bad = scan.corrupt {
            error = .corruptBatch(offset: bad.offset, reason: bad.reason)
            cursors[tp]!.phase = .stopped(error!, skipTo: max(scan.skipTo, BatchScan.after(bad.offset)))
            next = bad.offset
        } else if scan.batches == 0 && sent.maxBytes < config.partitionMaxBytes {
            // Nothing complete fit in a small first fetch: ask again at the full size.
            cursors[tp]!.fetchBytes = config.partitionMaxBytes
            return nil
        } else if scan.batches == 0 {
            // Nothing complete fit: a batch larger than the partition limit.
            error = .batchTooLarge(offset: sent.offset)
            cursors[tp]!.phase = .stopped(error!, skipTo: sent.offset)
            records = []
        }
        cursors[tp]!.offset = next
        if scan.batches > 0 { recordsArrived = true }
        if scan.lastEpoch >= 0 { cursors[tp]!.epoch = scan.lastEpoch }
        if sent.maxBytes < config.partitionMaxBytes {
            cursors[tp]!.fetchBytes = sent.maxBytes > config.partitionMaxBytes / 2 ? config.partitionMaxBytes : sent.maxBytes * 2
        }
        let aborted = (p.abortedTransactions ?? []).map { AbortedTransaction(producerId: $0.producerId, firstOffset: $0.firstOffset) }
        var fetched = FetchedPartition(topicPartition: tp, fetchOffset: sent.offset, nextOffset: next, highWatermark: p.highWatermark,
                                       lastStableOffset: p.lastStableOffset, logStartOffset: p.logStartOffset, records: records,
                                       abortedTransactions: aborted, isolation: config.isolation, error: error)
        fetched.lastEpoch = scan.corrupt == nil ? scan.lastEpoch : -1
        return fetched
    }

    private mutating func listCompleted(_ tag: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        guard case .success(let r) = result, let response = r as? ListOffsetsResponse else {
            release(tag, to: { c in if case .listing(_, let s) = c.phase { return .needsOffset(s) } else { return c.phase } },
                    backoff: true, now: now)
            outputs.append(.metadata(topics: [], refresh: .normal))
            return
        }
        var stoppedParts: [FetchedPartition] = []
        for topic in response.topics {
            for p in topic.partitions {
                let tp = TopicPartition(topic.name, p.partitionIndex)
                guard let c = cursors[tp], case .listing(let t, let start) = c.phase, t == tag else { continue }
                let code = KafkaErrorCode(p.errorCode)
                guard code == .noError else {
                    cursors[tp]!.phase = .needsOffset(start)
                    if MetadataCache.isStale(code) || code.isRetriable {
                        partitionNeedsMetadata(tp, now: now)
                    } else {
                        cursors[tp]!.phase = .stopped(.broker(code), skipTo: -1)
                        stoppedParts.append(FetchedPartition(topicPartition: tp, fetchOffset: -1, nextOffset: -1, error: .broker(code)))
                    }
                    continue
                }
                var offset = p.offset >= 0 ? p.offset : (p.oldStyleOffsets.first ?? -1)
                if offset < 0 {
                    // No record at or after the timestamp: consume from the end.
                    cursors[tp]!.phase = .needsOffset(.end)
                    continue
                }
                switch start {
                case .relativeToStart(let n): offset = offset &+ max(0, n)
                case .relativeToEnd(let n): offset = max(0, offset &- max(0, n))
                default: break
                }
                cursors[tp]!.offset = offset
                cursors[tp]!.epoch = p.leaderEpoch
                cursors[tp]!.phase = .ready
            }
        }
        release(tag, to: { c in if case .listing(_, let s) = c.phase { return .needsOffset(s) } else { return c.phase } }, backoff: true, now: now)
        if !stoppedParts.isEmpty { outputs.append(.action(.fetched(FetchBatch(broker: nil, partitions: stoppedParts)))) }
    }

    private mutating func validationCompleted(_ tag: UInt64, positions: [TopicPartition: (offset: Int64, epoch: Int32)],
                                              _ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        let response: OffsetForLeaderEpochResponse
        switch result {
        case .failure(.unsupportedVersion):
            // The broker cannot validate (no OffsetForLeaderEpoch v2+): fetch unvalidated.
            release(tag, to: { _ in .ready }, backoff: false, now: now)
            return
        case .failure:
            release(tag, to: { _ in .needsValidation }, backoff: true, now: now)
            outputs.append(.metadata(topics: [], refresh: .normal))
            return
        case .success(let r):
            guard let v = r as? OffsetForLeaderEpochResponse else { return release(tag, to: { _ in .needsValidation }, backoff: true, now: now) }
            response = v
        }
        var losses: [DataLoss] = []
        for topic in response.topics {
            for p in topic.partitions {
                let tp = TopicPartition(topic.topic, p.partition)
                guard let c = cursors[tp], c.phase == .validating(tag: tag), let pos = positions[tp] else { continue }
                let code = KafkaErrorCode(p.errorCode)
                guard code == .noError else {
                    cursors[tp]!.phase = .needsValidation
                    partitionNeedsMetadata(tp, now: now)
                    continue
                }
                if p.endOffset < 0 || p.leaderEpoch < 0 {
                    // The leader knows nothing of our epoch: fall back to the reset policy.
                    switch config.resetPolicy {
                    case .start: cursors[tp]!.phase = .needsOffset(.start)
                    case .end: cursors[tp]!.phase = .needsOffset(.end)
                    case .error: cursors[tp]!.phase = .ready
                    }
                    continue
                }
                if p.endOffset < pos.offset {
                    losses.append(DataLoss(topicPartition: tp, fromOffset: p.endOffset, toOffset: pos.offset))
                    cursors[tp]!.offset = p.endOffset
                    cursors[tp]!.epoch = p.leaderEpoch
                }
                cursors[tp]!.phase = .ready
            }
        }
        release(tag, to: { _ in .needsValidation }, backoff: true, now: now)
        if !losses.isEmpty { outputs.append(.action(.fetched(FetchBatch(broker: nil, partitions: [], dataLoss: losses)))) }
    }
}
