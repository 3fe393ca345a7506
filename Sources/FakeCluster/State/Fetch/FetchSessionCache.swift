/// KIP-227 incremental fetch sessions on one broker.
///
/// A fetch goes through two calls: `begin` interprets the request's session id/epoch and
/// returns the partitions the handler must read (for an incremental fetch: every partition
/// in the session, in session order); `finish` takes what the handler read and returns the
/// partitions the response carries (for an incremental fetch: only those with records,
/// errors or changed offsets), updating the session's cached view.
///
/// Eviction is least recently used (ties by lower session id) once `maxSessions` is
/// reached; Kafka's privileged-follower and size-weighted eviction are not modelled.
struct FetchSessionCache: Sendable, Equatable {
    /// Epoch -1 closes a session (or asks for none); 0 starts a new full session.
    static let finalEpoch: Int32 = -1
    static let initialEpoch: Int32 = 0

    struct PartitionRequest: Equatable, Sendable {
        var topicPartition: TopicPartition
        var fetchOffset: Int64
        var partitionMaxBytes: Int32
        var currentLeaderEpoch: Int32 = -1
        var logStartOffset: Int64 = -1
    }

    /// What the handler read for one partition; only the fields that decide inclusion.
    struct PartitionResult: Equatable, Sendable {
        var topicPartition: TopicPartition
        var error: KafkaErrorCode = .noError
        var highWatermark: Int64
        var lastStableOffset: Int64
        var logStartOffset: Int64
        var recordBytes: Int = 0
        var preferredReadReplica: Int32 = -1
        var hasDivergingEpoch: Bool = false
    }

    struct CachedPartition: Equatable, Sendable {
        var request: PartitionRequest
        /// Last values sent to the client; -1 (never sent) forces the first inclusion.
        var highWatermark: Int64 = -1
        var lastStableOffset: Int64 = -1
        var logStartOffset: Int64 = -1
    }

    struct Session: Equatable, Sendable {
        var id: Int32
        /// The epoch the next incremental request must carry.
        var nextEpoch: Int32
        var order: [TopicPartition]
        var partitions: [TopicPartition: CachedPartition]
        var lastUsed: Instant
    }

    enum Context: Equatable, Sendable {
        /// No session (epoch -1): a plain full fetch; the response's session id is 0.
        case sessionless([PartitionRequest])
        /// A new session (id 0 when the cache had no room): full response.
        case full(sessionId: Int32, [PartitionRequest])
        /// An existing session: read these, then let `finish` choose what to send.
        case incremental(sessionId: Int32, [PartitionRequest])
        /// A top-level error; the response carries no partitions and session id 0.
        case error(KafkaErrorCode)

        var partitions: [PartitionRequest] {
            switch self {
            case .sessionless(let p), .full(_, let p), .incremental(_, let p): return p
            case .error: return []
            }
        }

        var responseSessionId: Int32 {
            switch self {
            case .full(let id, _), .incremental(let id, _): return id
            case .sessionless, .error: return 0
            }
        }
    }

    var maxSessions: Int
    private(set) var sessions: [Int32: Session] = [:]

    init(maxSessions: Int = 1000) { self.maxSessions = maxSessions }

    func session(_ id: Int32) -> Session? { sessions[id] }

    mutating func begin<G: RandomNumberGenerator>(sessionId: Int32, epoch: Int32, fetch: [PartitionRequest],
                                                  forgotten: [TopicPartition], now: Instant,
                                                  using rng: inout G) -> Context {
        if epoch == Self.finalEpoch {
            if sessionId != 0 {
                guard sessions.removeValue(forKey: sessionId) != nil else { return .error(.fetchSessionIdNotFound) }
            }
            return .sessionless(fetch)
        }
        if epoch == Self.initialEpoch {
            if sessionId != 0 { sessions[sessionId] = nil }
            guard let id = makeRoom(now: now, using: &rng) else { return .full(sessionId: 0, fetch) }
            var s = Session(id: id, nextEpoch: 1, order: [], partitions: [:], lastUsed: now)
            for p in fetch where s.partitions[p.topicPartition] == nil {
                s.order.append(p.topicPartition)
                s.partitions[p.topicPartition] = CachedPartition(request: p)
            }
            sessions[id] = s
            return .full(sessionId: id, fetch)
        }
        guard sessionId != 0, var s = sessions[sessionId] else { return .error(.fetchSessionIdNotFound) }
        guard epoch == s.nextEpoch else { return .error(.invalidFetchSessionEpoch) }
        for tp in forgotten {
            s.partitions[tp] = nil
            s.order.removeAll { $0 == tp }
        }
        for p in fetch {
            if s.partitions[p.topicPartition] == nil {
                s.order.append(p.topicPartition)
                s.partitions[p.topicPartition] = CachedPartition(request: p)
            } else {
                s.partitions[p.topicPartition]!.request = p
            }
        }
        s.nextEpoch = s.nextEpoch == Int32.max ? 1 : s.nextEpoch + 1
        s.lastUsed = now
        sessions[sessionId] = s
        return .incremental(sessionId: sessionId, s.order.map { s.partitions[$0]!.request })
    }

    /// Chooses the response's partitions. Full and sessionless responses carry all of
    /// them; an incremental one only those with records, an error, a preferred read
    /// replica, a diverging epoch, or a high watermark / last stable / log start offset
    /// that changed since last sent. Partitions sent move to the back of the session's
    /// order so the next response starts with the others (Kafka's round robin).
    mutating func finish(_ context: Context, results: [PartitionResult]) -> [PartitionResult] {
        switch context {
        case .error: return []
        case .sessionless: return results
        case .full(let id, _):
            guard var s = sessions[id] else { return results }
            for r in results { remember(r, in: &s) }
            sessions[id] = s
            return results
        case .incremental(let id, _):
            guard var s = sessions[id] else { return results }
            var sent: [PartitionResult] = []
            for r in results {
                guard let cached = s.partitions[r.topicPartition] else { continue }
                let include = r.recordBytes > 0 || r.error != .noError || r.preferredReadReplica >= 0 || r.hasDivergingEpoch
                    || r.highWatermark != cached.highWatermark || r.lastStableOffset != cached.lastStableOffset
                    || r.logStartOffset != cached.logStartOffset
                guard include else { continue }
                remember(r, in: &s)
                sent.append(r)
            }
            let moved = sent.map(\.topicPartition)
            s.order = s.order.filter { !moved.contains($0) } + moved
            sessions[id] = s
            return sent
        }
    }

    private func remember(_ r: PartitionResult, in s: inout Session) {
        guard var c = s.partitions[r.topicPartition] else { return }
        c.highWatermark = r.highWatermark
        c.lastStableOffset = r.lastStableOffset
        c.logStartOffset = r.logStartOffset
        s.partitions[r.topicPartition] = c
    }

    /// A fresh non-zero session id, evicting the least recently used session when full.
    private mutating func makeRoom<G: RandomNumberGenerator>(now: Instant, using rng: inout G) -> Int32? {
        guard maxSessions > 0 else { return nil }
        while sessions.count >= maxSessions {
            let victim = sessions.values.min { a, b in (a.lastUsed, a.id) < (b.lastUsed, b.id) }!
            sessions[victim.id] = nil
        }
        while true {
            let id = Int32(truncatingIfNeeded: rng.next() & 0x7FFF_FFFF)
            if id != 0, sessions[id] == nil { return id }
        }
    }

    /// Drops sessions touching a deleted topic's partitions (the client re-establishes, and
    /// its full fetch hears that the partitions are gone). Removing only the partitions
    /// would leave the client's incremental fetches answered with nothing about them: it
    /// would never learn of the deletion.
    mutating func removePartitions(ofTopic topic: String) {
        for id in sessions.keys.sorted() where sessions[id]!.order.contains(where: { $0.topic == topic }) {
            sessions[id] = nil
        }
    }
}
