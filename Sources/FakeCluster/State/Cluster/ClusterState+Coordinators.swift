/// Coordinator placement (which broker answers FindCoordinator for a key), applying the
/// transaction coordinator's completions to logs and groups, and the cluster-wide timer.
extension ClusterState {
    enum CoordinatorType: Int8, Sendable, Hashable { case group = 0, transaction = 1 }

    struct CoordinatorKey: Hashable, Sendable {
        var type: CoordinatorType
        var key: String
    }

    /// Java's String.hashCode over UTF-16 code units, as Kafka uses to pick the
    /// __consumer_offsets / __transaction_state partition of a key.
    static func javaHashCode(_ s: String) -> Int32 {
        var h: Int32 = 0
        for unit in s.utf16 { h = h &* 31 &+ Int32(unit) }
        return h
    }

    /// The coordinator's broker for a key: a pinned override while that broker is up,
    /// else the key's internal partition (Kafka's abs(hash) % partitions) mapped onto the
    /// live brokers in id order. nil when no broker is up.
    func coordinator(for key: String, type: CoordinatorType) -> Int32? {
        if let pinned = coordinatorOverrides[CoordinatorKey(type: type, key: key)], metadata.isUp(pinned) { return pinned }
        let live = metadata.liveBrokerIds
        guard !live.isEmpty else { return nil }
        let count = type == .group ? config.offsetsTopicPartitions : config.transactionTopicPartitions
        let partition = Int(Self.javaHashCode(key) & 0x7FFF_FFFF) % Int(max(1, count))
        return live[partition % live.count]
    }

    /// Test control: move a coordinator. A group reloads from its persisted state (parked
    /// joins/syncs fail with NOT_COORDINATOR); a transactional id is taken over by the new
    /// broker (see `transactionCoordinatorsTookOver`).
    mutating func moveCoordinator(key: String, type: CoordinatorType, to broker: Int32, now: Instant) {
        let before = coordinator(for: key, type: type)
        coordinatorOverrides[CoordinatorKey(type: type, key: key)] = broker
        guard before != coordinator(for: key, type: type) else { return }
        switch type {
        case .group: groups.moveGroup(key, now: now)
        case .transaction: transactionCoordinatorsTookOver([key], now: now)
        }
    }

    /// Coordinators placed before a broker change: those that moved are reloaded.
    mutating func coordinatorsChanged(from before: [CoordinatorKey: Int32?], now: Instant) {
        var txnMoved: [String] = []
        for k in before.keys.sorted(by: { ($0.type.rawValue, $0.key) < ($1.type.rawValue, $1.key) })
        where coordinator(for: k.key, type: k.type) != before[k]! {
            switch k.type {
            case .group: groups.moveGroup(k.key, now: now)
            case .transaction: txnMoved.append(k.key)
            }
        }
        if !txnMoved.isEmpty { transactionCoordinatorsTookOver(txnMoved, now: now) }
    }

    /// Transaction coordinator failover with the log kept: the new broker has the ids'
    /// whole state (the coordinator keeps one value for the cluster, standing for the
    /// replicated __transaction_state log), bumps the coordinator epoch, and loads for
    /// `transactionCoordinatorLoadMs` (COORDINATOR_LOAD_IN_PROGRESS; the old broker says
    /// NOT_COORDINATOR through placement). A transaction caught in PrepareCommit /
    /// PrepareAbort is finished by the new coordinator: the old one's marker writes still
    /// queued are dropped and the markers are written again, carrying the new epoch, a
    /// WriteTxnMarkers delay after the load (with no load window, when they were due).
    /// Markers waiting for a leaderless partition carry the new epoch too.
    mutating func transactionCoordinatorsTookOver(_ ids: [String], now: Instant) {
        let loadMs = config.transactionCoordinatorLoadMs
        let epoch = transactions.takeOver(ids, loadMs: loadMs, now: now)
        for id in ids {
            let queued = scheduledMarkers.filter { $0.completion.transactionalId == id }
            scheduledMarkers.removeAll { $0.completion.transactionalId == id }
            for i in pendingMarkers.indices where pendingMarkers[i].transactionalId == id {
                pendingMarkers[i].coordinatorEpoch = epoch
            }
            // Only a transaction whose markers the old coordinator had not written yet.
            guard !queued.isEmpty, let c = transactions.preparedCompletion(id) else { continue }
            let due = loadMs > 0 ? now.adding(milliseconds: loadMs + config.transactionMarkerDelayMs)
                                 : queued.map(\.due).min()!
            scheduledMarkers.append(ScheduledMarkers(due: due, completion: c))
        }
    }

    /// Where every known group and transactional id is coordinated right now.
    var coordinatorPlacement: [CoordinatorKey: Int32?] {
        var out: [CoordinatorKey: Int32?] = [:]
        for g in groups.allGroupIds { out[CoordinatorKey(type: .group, key: g)] = coordinator(for: g, type: .group) }
        for t in transactions.transactionalIds {
            out[CoordinatorKey(type: .transaction, key: t)] = coordinator(for: t, type: .transaction)
        }
        return out
    }

    /// Writes a finished transaction's markers into each partition's leader log, settles
    /// its group offsets, and marks it complete. Partitions without a leader keep their
    /// marker pending (returned) — the transaction then stays in its Prepare state, as a
    /// real coordinator keeps retrying — see `retryPendingMarkers`.
    @discardableResult
    mutating func finishTransaction(_ c: TransactionCoordinator.Completion, now: Instant) -> [TopicPartition] {
        var unwritten: [TopicPartition] = []
        for tp in c.partitions {
            guard let p = metadata.partition(tp) else { continue } // deleted topic: nothing to mark
            guard p.leader >= 0 else { unwritten.append(tp); continue }
            let live = metadata
            partitions[tp]?.appendMarker(commit: c.commit, producerId: c.producerId, producerEpoch: c.producerEpoch,
                                         coordinatorEpoch: c.coordinatorEpoch, leader: p.leader, leaderEpoch: p.leaderEpoch,
                                         timestamp: now.milliseconds, isr: p.isr) { live.isUp($0) }
            noteLag(tp, now: now)
        }
        for g in c.groups { groups.completeTransaction(groupId: g, producerId: c.producerId, commit: c.commit) }
        if unwritten.isEmpty {
            transactions.markersWritten(transactionalId: c.transactionalId, now: now)
        } else {
            var rest = c
            rest.partitions = unwritten
            rest.groups = []
            pendingMarkers.append(rest)
        }
        return unwritten
    }

    /// A transaction entered PrepareCommit/PrepareAbort: its markers are written after the
    /// configured WriteTxnMarkers delay (at once when it is 0).
    mutating func scheduleMarkers(_ c: TransactionCoordinator.Completion, now: Instant) {
        guard config.transactionMarkerDelayMs > 0 else {
            finishTransaction(c, now: now)
            return
        }
        scheduledMarkers.append(ScheduledMarkers(due: now.adding(milliseconds: config.transactionMarkerDelayMs), completion: c))
    }

    /// Writes the markers whose time has come, in the order their transactions ended.
    mutating func writeDueMarkers(now: Instant) {
        let due = scheduledMarkers.filter { $0.due <= now }
        guard !due.isEmpty else { return }
        scheduledMarkers.removeAll { $0.due <= now }
        for m in due { finishTransaction(m.completion, now: now) }
    }

    var nextMarkerDeadline: Instant? { scheduledMarkers.map(\.due).min() }

    /// Markers held for a leaderless partition while their coordinator loaded are retried
    /// when a load ends.
    var nextPendingMarkerRetry: Instant? { pendingMarkers.isEmpty ? nil : transactions.nextLoadEnd }

    /// Retries markers for partitions that had no leader (not while their coordinator loads).
    mutating func retryPendingMarkers(now: Instant) {
        let pending = pendingMarkers
        pendingMarkers = []
        for c in pending {
            if transactions.isLoading(c.transactionalId, now: now) { pendingMarkers.append(c) } else { finishTransaction(c, now: now) }
        }
    }

    struct TickResult: Equatable, Sendable {
        var groupCompletions: [GroupCoordinator.Completion]
        var nextDeadline: Instant?
    }

    /// Advances the cluster's timers to `now`: expired transactions are aborted (markers
    /// written), pending markers retried, lagging followers leave the ISR, and group
    /// timers fire.
    mutating func tick(now: Instant) -> TickResult {
        transactions.finishLoads(now: now)
        writeDueMarkers(now: now)
        for c in transactions.expireTransactions(now: now) { scheduleMarkers(c, now: now) }
        retryPendingMarkers(now: now)
        completeDueReassignments(now: now)
        shrinkLaggingISRs(now: now)
        if !groups.consumerGroups.isEmpty { groups.tickConsumerGroups(image: topicImage, now: now) }
        let g = groups.tick(now: now)
        let next = earliest(earliest(earliest(g.nextDeadline, transactions.nextDeadline), nextLagDeadline), nextMarkerDeadline)
        return TickResult(groupCompletions: g.completions, nextDeadline: earliest(earliest(next, nextPendingMarkerRetry), nextReassignmentDeadline))
    }
}
