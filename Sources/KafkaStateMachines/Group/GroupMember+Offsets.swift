import KafkaProtocol

/// A commit waiting its turn: one OffsetCommit is in flight at a time, so commits land in
/// the order made and a committed offset never goes back because of reordering.
struct CommitJob {
    enum Purpose: Equatable { case user, auto, revocation(UInt64), leave }
    var promise: PromiseID?
    var offsets: [TopicPartition: CommitPosition]
    var purpose: Purpose
    var attempts = 0
}

/// Offsets: the committed offsets of newly owned partitions (OffsetFetch, KIP-447
/// require-stable), commits (manual, automatic, on revoke), each with the member's
/// generation and id so a commit from a generation that ended is refused, and reported.
extension GroupMember {
    /// OffsetFetch v1-7 (one group, topics at the top level; v0 read ZooKeeper).
    static let offsetFetchVersions: ClosedRange<Int16> = 1 ... 7
    /// OffsetCommit for consumer protocol members (KIP-848: v9+).
    static let consumerOffsetCommitVersions: ClosedRange<Int16> = 9 ... OffsetCommitRequest.validVersions.upperBound

    /// The driver reports what the user consumed (positions to commit): of partitions owned,
    /// or being revoked (the driver's last word on them comes before it answers the revocation).
    /// Not of a partition whose start is still being fetched: no record of this ownership
    /// (or of this rewind) has been handed out yet, so such a position comes from records
    /// polled before it (held through a rebalance, or part of an aborted transaction) and
    /// committing it would skip records nobody processed.
    mutating func noteConsumed(_ positions: [TopicPartition: CommitPosition]) {
        for (tp, p) in positions where !awaitingOffsets.contains(tp)
            && (owned.contains(tp) || (revocation?.partitions.contains(tp) ?? false)) {
            consumed[tp] = p
        }
    }

    /// A commit the user asked for: these offsets, or (nil) everything consumed.
    mutating func commit(_ offsets: [TopicPartition: CommitPosition]?, promise: PromiseID?, now: Instant) {
        let what = offsets ?? consumed.filter { owned.contains($0.key) }
        guard generation >= 0, step == .stable || revocation != nil else {
            emit(.committed(CommitReport(promise: promise, offsets: what, failed: what.mapValues { _ in .notInGroup }, error: .notInGroup)))
            return
        }
        if what.isEmpty {
            emit(.committed(CommitReport(promise: promise, offsets: [:], failed: [:], error: nil)))
            return
        }
        commits.append(CommitJob(promise: promise, offsets: what, purpose: .user))
    }

    /// A group transact session's offsets for the open transaction: what moved since the
    /// last commit, with this member's identity so a zombie is fenced (KIP-447). Nil when
    /// the member has no generation to speak for.
    var transactionOffsets: TransactionOffsets? {
        guard generation >= 0, step == .stable || revocation != nil else { return nil }
        return TransactionOffsets(groupId: config.groupId, generationId: generation, memberId: memberId,
                                  instanceId: config.instanceId, offsets: uncommitted)
    }

    /// A transactional member between generations that still owns partitions (a cooperative
    /// rejoin): its transaction's offsets wait for the next generation instead of failing.
    /// Bounded: losing the partitions (session expiry seen locally, fenced) ends the wait.
    var awaitsGeneration: Bool {
        guard config.transactional, !owned.isEmpty else { return false }
        switch step {
        case .needJoin, .joining, .leaderWaitingMetadata, .syncing: return true
        default: return false
        }
    }

    /// The producer's transaction ended. Committed: its offsets are this group's committed
    /// offsets now. Aborted: what was consumed since the last commit must be consumed again,
    /// so every owned partition starts over from its committed offset (asked again with
    /// require-stable: the aborted offsets are gone once the coordinator settles them).
    mutating func transactionEnded(committed ok: Bool, offsets: [TopicPartition: CommitPosition]) {
        guard config.transactional else { return }
        if ok {
            for (tp, p) in offsets { committed[tp] = p.offset }
            return
        }
        // Every position reported since the last commit was the aborted transaction's,
        // including those of partitions whose start is being fetched (not rewound here).
        consumed.removeAll()
        let parts = owned.filter { !awaitingOffsets.contains($0) }.sorted()
        guard !parts.isEmpty else { return }
        outputs.append(.input(.unassign(parts)))
        emit(.rewound(parts))
        awaitingOffsets.formUnion(parts)
        rewinding.formUnion(parts)
    }

    /// What autocommit would commit now: consumed positions that moved since the last commit.
    var uncommitted: [TopicPartition: CommitPosition] {
        consumed.filter { tp, p in owned.contains(tp) && committed[tp] != p.offset }
    }

    mutating func sendOffsetFetch(now: Instant) {
        let parts = awaitingOffsets.sorted()
        var r = OffsetFetchRequest()
        r.groupId = config.groupId
        var topics: [OffsetFetchRequest.OffsetFetchRequestTopic] = []
        for tp in parts {
            if topics.last?.name != tp.topic {
                var t = OffsetFetchRequest.OffsetFetchRequestTopic()
                t.name = tp.topic
                topics.append(t)
            }
            topics[topics.count - 1].partitionIndexes.append(tp.partition)
        }
        r.topics = topics
        r.requireStable = config.requireStable
        offsetFetchTag = send(.offsetFetch(parts), r, pin: Self.offsetFetchVersions)
        offsetFetchRetryAt = nil
    }

    mutating func offsetsFetched(_ result: Result<any KafkaResponse, KafkaClientError>, asked: [TopicPartition], now: Instant) {
        offsetFetchTag = nil
        func retryLater() {
            offsetFetchRetryAt = now + backoff(offsetFetchAttempts)
            offsetFetchAttempts += 1
        }
        guard case .success(let any) = result, let r = any as? OffsetFetchResponse else {
            retryLater()
            return
        }
        let top = KafkaErrorCode(r.errorCode)
        if top != .noError {
            if top == .groupAuthorizationFailed { fail(.broker(top, "OffsetFetch refused")) } else { retryLater() }
            return
        }
        var starts: [TopicPartition: StartOffset] = [:]
        var again = false
        for t in r.topics {
            for p in t.partitions {
                let tp = TopicPartition(t.name, p.partitionIndex)
                guard awaitingOffsets.contains(tp) else { continue }
                let code = KafkaErrorCode(p.errorCode)
                if code == .topicAuthorizationFailed || code == .groupAuthorizationFailed {
                    fail(.broker(code, "OffsetFetch refused for \(tp.topic)"))
                    return
                }
                guard code == .noError else { again = true; continue }
                if p.committedOffset >= 0 {
                    starts[tp] = p.committedLeaderEpoch >= 0 ? .exactWithEpoch(p.committedOffset, epoch: p.committedLeaderEpoch) : .exact(p.committedOffset)
                    committed[tp] = p.committedOffset
                } else {
                    starts[tp] = config.noCommitStart
                }
            }
        }
        // A partition asked for and not answered is asked again.
        if asked.contains(where: { awaitingOffsets.contains($0) && starts[$0] == nil }) { again = true }
        if !starts.isEmpty {
            awaitingOffsets.subtract(starts.keys)
            // Consumption starts over from here: nothing reported before counts.
            for tp in starts.keys { consumed[tp] = nil }
            outputs.append(.input(.assign(starts)))
            let keptPaused = starts.keys.filter { paused.contains($0) }.sorted()
            if !keptPaused.isEmpty { outputs.append(.input(.pause(keptPaused))) }
            let fresh = starts.keys.filter { !rewinding.contains($0) }.sorted()
            rewinding.subtract(starts.keys)
            if !fresh.isEmpty { emit(.assigned(fresh, generation: generation)) }
        }
        if again { retryLater() } else { offsetFetchAttempts = 0 }
    }

    mutating func sendCommit(now: Instant) {
        guard let job = commits.first else { return }
        guard generation >= 0, !memberId.isEmpty else {
            commits.removeFirst()
            report(job, error: .notInGroup, failed: job.offsets.mapValues { _ in .notInGroup }, now: now)
            return
        }
        var r = OffsetCommitRequest()
        r.groupId = config.groupId
        r.generationIdOrMemberEpoch = generation
        r.memberId = memberId
        r.groupInstanceId = config.instanceId
        var topics: [OffsetCommitRequest.OffsetCommitRequestTopic] = []
        for tp in job.offsets.keys.sorted() {
            let pos = job.offsets[tp]!
            if topics.last?.name != tp.topic {
                var t = OffsetCommitRequest.OffsetCommitRequestTopic()
                t.name = tp.topic
                topics.append(t)
            }
            var p = OffsetCommitRequest.OffsetCommitRequestPartition()
            p.partitionIndex = tp.partition
            p.committedOffset = pos.offset
            // Leader epochs ride v6+ only (KIP-320).
            if commitVersionSeen.map({ $0 >= 6 }) ?? false { p.committedLeaderEpoch = pos.leaderEpoch }
            p.committedMetadata = pos.metadata ?? ""
            topics[topics.count - 1].partitions.append(p)
        }
        r.topics = topics
        // KIP-848: a consumer protocol member commits with its member id and epoch, which
        // OffsetCommit v9+ carries (the field is the generation below).
        commitTag = send(.commit, r, pin: config.groupProtocol == .consumer ? Self.consumerOffsetCommitVersions : nil)
        commitRetryAt = nil
    }

    mutating func commitAnswered(_ result: Result<any KafkaResponse, KafkaClientError>, now: Instant) {
        commitTag = nil
        guard var job = commits.first else { return }
        let r: OffsetCommitResponse
        switch result {
        case .failure(let e):
            commits.removeFirst()
            report(job, error: .request(e), failed: job.offsets.mapValues { _ in .request(e) }, now: now)
            return
        case .success(let any):
            guard let c = any as? OffsetCommitResponse else { return }
            r = c
        }
        var failed: [TopicPartition: GroupError] = [:]
        var moved = false
        var stale = false
        var ended: KafkaErrorCode?
        for t in r.topics {
            for p in t.partitions {
                let code = KafkaErrorCode(p.errorCode)
                guard code != .noError else { continue }
                let tp = TopicPartition(t.name, p.partitionIndex)
                switch code {
                case .notCoordinator, .coordinatorNotAvailable, .coordinatorLoadInProgress, .requestTimedOut:
                    moved = true
                case .illegalGeneration, .unknownMemberId, .rebalanceInProgress, .fencedInstanceId, .fencedMemberEpoch:
                    ended = code
                case .staleMemberEpoch:
                    // KIP-848: the member's epoch moved on; the next attempt carries the new one.
                    stale = true
                default: break
                }
                failed[tp] = .broker(code, "OffsetCommit refused for \(tp.topic)/\(tp.partition)")
            }
        }
        // The coordinator moved or is loading: the same commit again, a few times.
        if (moved || stale) && ended == nil && job.attempts < 5 {
            job.attempts += 1
            commits[0] = job
            if moved { outputs.append(.coordinatorMoved(CoordinatorKey(.group, config.groupId))) }
            commitRetryAt = now + backoff(job.attempts - 1)
            return
        }
        commits.removeFirst()
        for (tp, pos) in job.offsets where failed[tp] == nil {
            committed[tp] = max(committed[tp] ?? -1, pos.offset)
        }
        report(job, error: nil, failed: failed, now: now)
        // A commit refused because the generation moved is reported, never retried.
        switch ended {
        case let code? where code == .illegalGeneration || code == .unknownMemberId || code == .fencedMemberEpoch:
            droppedOut(code, rejoin: step == .stable)
        case .rebalanceInProgress?:
            rejoin(now: now)
        case .fencedInstanceId?:
            fail(.broker(.fencedInstanceId, "OffsetCommit refused"))
        default: break
        }
    }

    mutating func report(_ job: CommitJob, error: GroupError?, failed: [TopicPartition: GroupError], now: Instant) {
        emit(.committed(CommitReport(promise: job.promise, offsets: job.offsets, failed: failed, error: error)))
        if case .revocation(let id) = job.purpose, revocation?.id == id {
            finishRevocation(now: now)
        }
    }

    /// Fails every commit not yet sent (the generation they were for ended).
    mutating func failQueuedCommits(_ error: GroupError) {
        let start = commitTag == nil ? 0 : 1
        guard commits.count > start else { return }
        let dropped = Array(commits[start...])
        commits.removeSubrange(start...)
        for job in dropped {
            emit(.committed(CommitReport(promise: job.promise, offsets: job.offsets, failed: job.offsets.mapValues { _ in error }, error: error)))
            if case .revocation(let id) = job.purpose, revocation?.id == id { revocation!.committing = false }
        }
    }

    /// The revocation's commit once the driver handled it; finishes it when there is nothing to commit.
    mutating func advanceRevocation(now: Instant) {
        guard let r = revocation, r.handled, !r.committing else { return }
        let wantsCommit = config.commitOnRevoke || (r.then == .leave && config.autocommitInterval != nil)
        var what: [TopicPartition: CommitPosition] = [:]
        for tp in r.partitions {
            if let p = consumed[tp], committed[tp] != p.offset { what[tp] = p }
        }
        if wantsCommit && generation >= 0 && !what.isEmpty {
            revocation!.committing = true
            commits.append(CommitJob(promise: nil, offsets: what, purpose: .revocation(r.id)))
        } else {
            if wantsCommit && !what.isEmpty {
                // Fenced while the user held the revocation (past the rebalance timeout): the
                // commit it promised cannot be made; say so, as a commit would have failed,
                // rather than drop it silently (whoever owns the partitions now reads again).
                let e = GroupError.broker(.unknownMemberId, "the membership ended before the revocation's commit")
                emit(.committed(CommitReport(promise: nil, offsets: what, failed: what.mapValues { _ in e }, error: e)))
            }
            finishRevocation(now: now)
        }
    }
}
