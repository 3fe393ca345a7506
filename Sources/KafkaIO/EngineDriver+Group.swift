import KafkaProtocol
import KafkaStateMachines
import NIOCore

/// A group consumer command, queued like every other call.
enum GroupCommand: Sendable {
    case join(GroupConfig, GroupHooks, FetchBuffer)
    case leave(@Sendable () -> Void)
    case commit([TopicPartition: CommitPosition]?, @Sendable (CommitReport) -> Void)
}

/// What the group consumer hands the driver: where events go, the user's revocation
/// callback, and how long a revocation may wait for the user.
struct GroupHooks: Sendable {
    var event: @Sendable (GroupConsumerEvent) -> Void
    var onRevoked: (@Sendable ([TopicPartition]) async -> Void)?
    var onAssigned: (@Sendable ([TopicPartition]) -> Void)?
    var onLost: (@Sendable ([TopicPartition]) -> Void)?
    var revocationTimeout: Duration
}

/// The driver's group state: waiters for leave and commits, and the revocation in progress.
struct GroupDriverState {
    struct Revocation {
        var id: UInt64
        var partitions: [TopicPartition]
        var callbackDone: Bool
        var handFinished: Bool
        var timer: Scheduled<Void>?
    }
    var hooks: GroupHooks
    var buffer: FetchBuffer
    var leaveWaiters: [PromiseID: @Sendable () -> Void] = [:]
    var commitWaiters: [PromiseID: @Sendable (CommitReport) -> Void] = [:]
    var revocation: Revocation?
}

/// The group member's events on the driver's side. A revocation is answered once the user
/// is done with the partitions: its `onRevoked` callback returned, and the records it last
/// took of them are finished (it took or waited for more) — or the revocation timeout
/// passed. Then what it consumed of them is reported for the commit on revoke.
extension EngineDriver {
    func runGroup(_ command: GroupCommand, now: Instant) {
        switch command {
        case .join(let config, let hooks, let buffer):
            guard lifecycle == .running else {
                hooks.event(.failed(.clientClosed))
                return
            }
            if fetchBuffer == nil { fetchBuffer = buffer }
            buffer.trackPositions(true)
            var hooks = hooks
            if !clientHooks.isEmpty {
                // The client's hooks see the same events, before the consumer's own stream.
                let consumer = hooks.event
                let client = clientHooks
                hooks.event = { e in
                    for h in client { h.groupEvent(e) }
                    consumer(e)
                }
            }
            group = GroupDriverState(hooks: hooks, buffer: buffer)
            feed(.joinGroup(config), now: now)
        case .leave(let done):
            guard lifecycle == .running, group != nil else {
                done()
                return
            }
            // Leaving means the user is done with what it took: that counts as consumed.
            group!.buffer.finishAll()
            reportConsumedPositions(now: now)
            let p = makePromise()
            group!.leaveWaiters[p] = done
            feed(.leaveGroup(p), now: now)
        case .commit(let offsets, let done):
            guard lifecycle == .running, group != nil else {
                done(CommitReport(promise: nil, offsets: offsets ?? [:], failed: [:], error: lifecycle == .running ? .notInGroup : .clientClosed))
                return
            }
            if offsets == nil { reportConsumedPositions(now: now) }
            let p = makePromise()
            group!.commitWaiters[p] = done
            feed(.commitOffsets(offsets, p), now: now)
        }
    }

    /// Hands the engine what the user consumed since the last report.
    func reportConsumedPositions(now: Instant) {
        guard let g = group else { return }
        let changed = g.buffer.takeConsumedChanges()
        guard !changed.isEmpty else { return }
        feed(.groupConsumed(changed), now: now)
    }

    func groupEvent(_ event: GroupEvent) {
        guard group != nil else {
            if case .revoking(let id, _) = event { feed(.groupRevocationHandled(id), now: now) }
            return
        }
        let hooks = group!.hooks
        switch event {
        case .joined(let m, let g, let leader, let name):
            logger.info("joined group", metadata: ["member": "\(m)", "generation": "\(g)", "leader": "\(leader)", "protocol": "\(name)"])
            hooks.event(.joined(memberId: m, generation: g, leader: leader, protocolName: name))
        case .assigned(let parts, _):
            hooks.onAssigned?(parts)
            hooks.event(.assigned(parts))
        case .revoking(let id, let parts):
            startRevocation(id, parts)
        case .lost(let parts):
            dropBuffered(parts)
            _ = group!.buffer.releasePositions(parts)
            logger.warning("group partitions lost", metadata: ["partitions": "\(parts.count)"])
            hooks.onLost?(parts)
            hooks.event(.lost(parts))
        case .rewound(let parts):
            // The transaction aborted: what was handed out of these partitions is consumed
            // again from their committed offsets.
            dropBuffered(parts)
            _ = group!.buffer.releasePositions(parts)
        case .committed(let report):
            if let p = report.promise, let done = group!.commitWaiters.removeValue(forKey: p) {
                done(report)
            } else if !report.ok {
                logger.warning("commit failed", metadata: ["error": "\(report.error.map { "\($0)" } ?? "\(report.failed.count) partitions")"])
                hooks.event(.commitFailed(report))
            }
        case .left(let p):
            group!.leaveWaiters.removeValue(forKey: p)?()
        case .warning(let w):
            logger.warning("group", metadata: ["warning": "\(w)"])
            hooks.event(.warning(w))
        case .failed(let e):
            logger.error("group membership ended", metadata: ["error": "\(e)"])
            hooks.event(.failed(e))
            for (_, done) in group!.commitWaiters { done(CommitReport(promise: nil, offsets: [:], failed: [:], error: e)) }
            group!.commitWaiters = [:]
            for (_, done) in group!.leaveWaiters { done() }
            group!.leaveWaiters = [:]
        }
    }

    private func dropBuffered(_ parts: [TopicPartition]) {
        guard let buffer = fetchBuffer else { return }
        let dropped = buffer.drop(Set(parts))
        if dropped > 0 { feed(.fetchConsumed(dropped), now: now) }
    }

    private func startRevocation(_ id: UInt64, _ parts: [TopicPartition]) {
        dropBuffered(parts)
        let hooks = group!.hooks
        let bound = NIOLoopBound(self, eventLoop: loop)
        let loop = self.loop
        var r = GroupDriverState.Revocation(id: id, partitions: parts, callbackDone: hooks.onRevoked == nil, handFinished: true)
        r.handFinished = !group!.buffer.isInHand(parts) {
            loop.execute { bound.value.revocationProgress(id, handFinished: true) }
        }
        if let callback = hooks.onRevoked {
            Task {
                await callback(parts)
                loop.execute { bound.value.revocationProgress(id, callbackDone: true) }
            }
        }
        r.timer = loop.assumeIsolated().scheduleTask(in: TimeAmount(hooks.revocationTimeout)) { [weak self] in
            self?.revocationProgress(id, timedOut: true)
        }
        group!.revocation = r
        revocationProgress(id)
    }

    func revocationProgress(_ id: UInt64, handFinished: Bool = false, callbackDone: Bool = false, timedOut: Bool = false) {
        guard var r = group?.revocation, r.id == id else { return }
        if handFinished { r.handFinished = true }
        if callbackDone { r.callbackDone = true }
        guard (r.handFinished && r.callbackDone) || timedOut else {
            group!.revocation = r
            return
        }
        if timedOut {
            logger.warning("revocation answered after its timeout: the user was still busy with the partitions",
                           metadata: ["partitions": "\(r.partitions.count)"])
        }
        r.timer?.cancel()
        group!.revocation = nil
        let now = self.now
        let positions = group!.buffer.releasePositions(r.partitions)
        if !positions.isEmpty { feed(.groupConsumed(positions), now: now) }
        feed(.groupRevocationHandled(id), now: now)
        group!.hooks.event(.revoked(r.partitions))
        drain()
    }
}
