import KafkaProtocol

/// The group member as an engine component: every run does what is due (join, heartbeat,
/// offset fetch, commits, autocommit, the session check) and hands over its outputs.
extension GroupMember: EngineComponent {
    mutating func answered(_ tag: UInt64, _ result: Result<any KafkaResponse, KafkaClientError>, context: ComponentContext, now: Instant) {
        guard let purpose = tags.removeValue(forKey: tag) else { return }
        switch purpose {
        case .join: joined(result, context: context, now: now)
        case .sync: synced(result, context: context, now: now)
        case .heartbeat(let gen): heartbeatAnswered(result, sentIn: gen, now: now)
        case .leave:
            leaveAnswered(result)
            finishLeave()
        case .offsetFetch(let asked): offsetsFetched(result, asked: asked, now: now)
        case .commit: commitAnswered(result, now: now)
        case .describePlan(let gen): planDescribed(result, generation: gen, context: context, now: now)
        case .consumerHeartbeat(let sent): consumerHeartbeatAnswered(result, sent: sent, context: context, now: now)
        }
    }

    mutating func metadataUpdated(context: ComponentContext, now: Instant) {
        guard isActive else { return }
        if config.groupProtocol == .consumer {
            consumerMetadataChanged(context: context, now: now)
        } else {
            metadataChanged(context: context, now: now)
        }
    }

    /// Deadlines are checked by `run`.
    mutating func tick(context: ComponentContext, now: Instant) -> Bool { isActive }

    func nextDeadline(after floor: Instant?) -> Instant? {
        guard isActive else { return nil }
        // Asked on every engine turn: folded in place rather than collected into an array.
        var best: Instant?
        func consider(_ d: Instant?) {
            guard let d, floor.map({ d > $0 }) ?? true else { return }
            best = best.map { min($0, d) } ?? d
        }
        if step == .needJoin && revocation == nil { consider(joinNotBefore) }
        if config.groupProtocol == .consumer {
            if (step == .stable || step == .leaving) && generation >= 0 && heartbeatTag == nil && leaveTag == nil {
                consider(consumer.nextHeartbeat)
            }
        } else if heartbeating && heartbeatTag == nil {
            consider(nextHeartbeat)
        }
        if step == .stable {
            consider(lastHeartbeatOK.map { $0 + config.sessionTimeout })
            consider(nextAutocommit)
        }
        if !awaitingOffsets.isEmpty && offsetFetchTag == nil { consider(offsetFetchRetryAt) }
        if commitTag == nil && !commits.isEmpty { consider(commitRetryAt) }
        return best
    }

    mutating func close(context: ComponentContext, now: Instant) {
        guard isActive else { return }
        fail(.clientClosed)
    }

    mutating func run(context: ComponentContext, now: Instant, into out: inout [ComponentOutput]) {
        if !context.isClosed && isActive { advance(context: context, now: now) }
        out.append(contentsOf: outputs)
        outputs.removeAll(keepingCapacity: true)
    }

    private mutating func advance(context: ComponentContext, now: Instant) {
        leaveVersionSeen = context.coordinatorVersion(LeaveGroupRequest.self, coordinatorKey) ?? leaveVersionSeen
        commitVersionSeen = context.coordinatorVersion(OffsetCommitRequest.self, coordinatorKey) ?? commitVersionSeen
        let patterns = !config.subscription.patterns.isEmpty
        let want: [String]? = patterns ? nil : Set(config.subscription.topics).union(groupTopics).sorted()
        if interestTold != .some(want) {
            interestTold = .some(want)
            outputs.append(.metadata(topics: want, refresh: patterns && context.metadata.lastRefresh == nil ? .urgent : .normal))
        }
        advanceRevocation(now: now)
        if step == .stable, let ok = lastHeartbeatOK, now >= ok + config.sessionTimeout {
            // No heartbeat got through for a whole session: the coordinator has surely
            // given our partitions to others. Stop consuming them and join again (below).
            emit(.warning("no heartbeat answered for the session timeout; partitions treated as lost"))
            droppedOut(.illegalGeneration, rejoin: true)
        }
        if config.groupProtocol == .consumer {
            advanceConsumer(context: context, now: now, patterns: patterns)
            guard isActive else { return }
        } else {
            if step == .needJoin, revocation == nil, joinNotBefore.map({ now >= $0 }) ?? true {
                // A pattern needs to have seen the cluster's topics once before joining.
                if !patterns || context.metadata.lastRefresh != nil { sendJoin(context: context, now: now) }
            }
            if heartbeating, heartbeatTag == nil, let due = nextHeartbeat, now >= due {
                sendHeartbeat(now: now)
            }
        }
        if !awaitingOffsets.isEmpty, offsetFetchTag == nil, generation >= 0, step != .leaving,
           offsetFetchRetryAt.map({ now >= $0 }) ?? true {
            sendOffsetFetch(now: now)
        }
        if let interval = config.autocommitInterval, step == .stable, let due = nextAutocommit, now >= due {
            nextAutocommit = now + interval
            let u = uncommitted
            if !u.isEmpty && !commits.contains(where: { $0.purpose == .auto }) {
                commits.append(CommitJob(promise: nil, offsets: u, purpose: .auto))
            }
        }
        if commitTag == nil, !commits.isEmpty, commitRetryAt.map({ now >= $0 }) ?? true {
            sendCommit(now: now)
        }
    }

    /// Heartbeats go on while stable, and while the user finishes a revocation before the
    /// rejoin (KIP-62: the user's time is not the session's).
    var heartbeating: Bool {
        generation >= 0 && (step == .stable || (step == .needJoin && revocation != nil))
    }

}
