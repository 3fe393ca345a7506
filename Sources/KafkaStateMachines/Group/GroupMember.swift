import KafkaProtocol

/// One member of a classic consumer group, as a pure state machine on the engine's clock:
/// joins (KIP-394 member id, KIP-345 static instance id), leads (runs the balancer), syncs,
/// heartbeats (KIP-62: apart from the user's polling), revokes and rejoins (eager, or
/// KIP-429 cooperative: only the partitions that move), fetches committed offsets for what
/// it is given and commits what the user consumed. It drives the fetcher through engine
/// inputs (`.assign` / `.unassign` / `.pause` as `ComponentOutput.input`), never directly.
///
/// The membership proper is here; offsets (OffsetFetch, commits, autocommit) are in
/// GroupMember+Offsets, the leader's balancing in GroupMember+Leader, the component
/// contract in GroupMember+Component.
///
/// With `GroupConfig.groupProtocol == .consumer` the membership is KIP-848's instead
/// (GroupMember+ConsumerProtocol: ConsumerGroupHeartbeat, the coordinator's target
/// assignment reconciled partition by partition); everything else — offsets, commits,
/// revocations and their commit, lost partitions, leaving, events, the fetcher's inputs —
/// is the same code for both.
package struct GroupMember {
    /// Where the membership is.
    enum Step: Equatable {
        /// Waiting to send JoinGroup (at `joinNotBefore`, and once no revocation is pending).
        case needJoin
        case joining(tag: UInt64)
        /// The leader waits for metadata of every member's topics before balancing.
        case leaderWaitingMetadata(JoinGroupResponse)
        case syncing(tag: UInt64)
        case stable
        /// Giving everything up: revocation and commit, then LeaveGroup.
        case leaving
        case left
        case failed
    }

    /// Partitions being given up: unassigned from the fetcher at once; the commit waits for
    /// the driver's answer (the user finished with them), then `then` happens.
    struct Revocation {
        enum Then { case join, leave, nothing }
        var id: UInt64
        var partitions: [TopicPartition]
        var then: Then
        var handled = false
        var committing = false
    }

    enum Purpose {
        case join, sync, heartbeat(generation: Int32), leave, offsetFetch([TopicPartition]), commit
        /// KIP-848: a ConsumerGroupHeartbeat (joining, or a member's).
        case consumerHeartbeat(ConsumerMembership.Sent)
        /// A static leader told to skip the assignment reads the plan in force (KIP-814).
        case describePlan(generation: Int32)
    }

    package let config: GroupConfig
    var rng: SeededGenerator

    package internal(set) var memberId = ""
    package internal(set) var generation: Int32 = -1
    package internal(set) var protocolName: String?
    package internal(set) var isLeader = false
    var step: Step = .needJoin
    var joinNotBefore: Instant?
    var joinAttempts = 0
    /// A reason to join again arrived while a join was in flight.
    var rejoinAfterSync = false

    /// Partitions this member owns in `ownedGeneration` (sorted): fetched, or waiting for
    /// their committed offsets.
    package internal(set) var owned: [TopicPartition] = []
    var ownedGeneration: Int32 = -1
    /// Owned partitions whose committed offsets are being fetched (not fetched yet).
    var awaitingOffsets: Set<TopicPartition> = []
    /// Partitions awaiting offsets again after a transaction aborted: their fetch restarts
    /// without a second `.assigned` event.
    var rewinding: Set<TopicPartition> = []
    var offsetFetchTag: UInt64?
    var offsetFetchRetryAt: Instant?
    var offsetFetchAttempts = 0
    /// Partitions the user paused: kept paused when a rebalance gives them back.
    var paused: Set<TopicPartition> = []
    var revocation: Revocation?
    var nextRevocationId: UInt64 = 1

    var heartbeatTag: UInt64?
    var nextHeartbeat: Instant?
    var lastHeartbeatOK: Instant?

    /// What the user consumed (next offset to read), reported by the driver.
    var consumed: [TopicPartition: CommitPosition] = [:]
    /// The last offset committed (or found committed) per partition.
    var committed: [TopicPartition: Int64] = [:]
    var commits: [CommitJob] = []
    var commitTag: UInt64?
    var commitRetryAt: Instant?
    var nextAutocommit: Instant?

    var leavePromise: PromiseID?
    var leaveTag: UInt64?
    /// The LeaveGroup version the coordinator serves, noted while the context was at hand.
    var leaveVersionSeen: Int16?
    /// The same for OffsetCommit (leader epochs need v6+).
    var commitVersionSeen: Int16?

    /// The topics this member joined with (sorted).
    var joinedTopics: [String] = []
    /// Leader: partition counts of the group's topics the last plan used.
    var planCounts: [String: Int32] = [:]
    /// Leader: every member's topics (for metadata interest).
    var groupTopics: [String] = []
    var interestTold: [String]?? = nil

    /// The consumer protocol's (KIP-848) state; unused by a classic member.
    var consumer: ConsumerMembership

    var tags: [UInt64: Purpose] = [:]
    var nextTag: UInt64 = 1
    var outputs: [ComponentOutput] = []

    package init(_ config: GroupConfig, seed: UInt64) {
        self.config = config
        rng = SeededGenerator(seed: seed)
        consumer = ConsumerMembership(heartbeatInterval: config.heartbeatInterval)
        if config.groupProtocol == .consumer {
            // KIP-1082: the member names itself, from the engine's seeded generator.
            consumer.generatedId = ConsumerMembership.memberId(using: &rng)
        }
    }

    var isActive: Bool {
        switch step {
        case .left, .failed: return false
        default: return true
        }
    }

    var coordinator: RequestTarget { .groupCoordinator(config.groupId) }
    var coordinatorKey: CoordinatorKey { CoordinatorKey(.group, config.groupId) }

    // MARK: inputs

    /// The user paused or resumed partitions (kept across rebalances for those it keeps).
    mutating func notePaused(_ partitions: [TopicPartition], _ isPaused: Bool) {
        if isPaused { paused.formUnion(partitions) } else { paused.subtract(partitions) }
    }

    /// The driver finished with a revocation (`GroupEvent.revoking(id, …)`).
    mutating func revocationHandled(_ id: UInt64) {
        guard revocation?.id == id else { return }
        revocation!.handled = true
    }

    /// Starts leaving: revoke and commit what is owned, then LeaveGroup (not for a static
    /// member: it keeps its place until the session times out), then `.left(promise)`.
    mutating func leave(_ promise: PromiseID, now: Instant) {
        switch step {
        case .left, .failed:
            emit(.left(promise))
            return
        case .leaving:
            // Already leaving: answer this promise when that finishes.
            if let p = leavePromise { emit(.left(p)) }
            leavePromise = promise
            return
        default: break
        }
        leavePromise = promise
        step = .leaving
        // Consumer protocol: partitions reported but not taken yet are simply not taken.
        consumer.pendingAdd = []
        if revocation != nil {
            revocation!.then = .leave
        } else if !owned.isEmpty {
            startRevocation(owned, then: .leave)
        } else {
            sendLeave(now: now)
        }
    }

    // MARK: the membership

    /// Something calls for a new generation: a heartbeat saw a rebalance, the subscription
    /// or the group's partitions changed. Eager members give up everything first.
    mutating func rejoin(now: Instant) {
        // The consumer protocol has no rebalance to join: the coordinator sends targets.
        guard config.groupProtocol == .classic else { return }
        switch step {
        case .stable:
            if !isCooperative && !owned.isEmpty && revocation == nil {
                startRevocation(owned, then: .join)
                step = .needJoin
            } else if revocation != nil {
                revocation!.then = .join
                step = .needJoin
            } else {
                step = .needJoin
            }
        case .joining, .syncing, .leaderWaitingMetadata:
            rejoinAfterSync = true
        case .needJoin, .leaving, .left, .failed:
            break
        }
    }

    /// Cooperative (KIP-429) only when every balancer offered is: the group may pick any
    /// protocol every member offers, and a member that kept its partitions through a rejoin
    /// (cooperatively) into a group running an eager balancer would still own what that
    /// balancer hands to others at once.
    var isCooperative: Bool {
        !config.balancers.isEmpty && config.balancers.allSatisfy(\.isCooperative)
    }

    mutating func startRevocation(_ partitions: [TopicPartition], then: Revocation.Then) {
        let parts = partitions.sorted()
        let id = nextRevocationId
        nextRevocationId += 1
        let gone = Set(parts)
        owned.removeAll { gone.contains($0) }
        awaitingOffsets.subtract(parts)
        // A rewind still waiting for its offsets is over with the partition: if it comes
        // back later it is a fresh assignment (announced), not the end of that rewind.
        rewinding.subtract(parts)
        outputs.append(.input(.unassign(parts)))
        if config.transactional && !parts.isEmpty { outputs.append(.input(.transactionRebalanced)) }
        emit(.revoking(id: id, parts))
        revocation = Revocation(id: id, partitions: parts, then: then)
    }

    /// Called once a revocation is handled and its commit (if any) answered.
    mutating func finishRevocation(now: Instant) {
        guard let r = revocation else { return }
        revocation = nil
        for tp in r.partitions { consumed[tp] = nil }
        switch r.then {
        case .join:
            if step == .stable || step == .needJoin { step = .needJoin }
        case .leave:
            if !owned.isEmpty { startRevocation(owned, then: .leave) } else { sendLeave(now: now) }
        case .nothing:
            break
        }
    }

    /// The membership ended without a chance to commit (fenced out of the generation).
    mutating func loseAll() {
        let lost = owned
        owned = []
        awaitingOffsets = []
        rewinding = []
        if !lost.isEmpty {
            outputs.append(.input(.unassign(lost)))
            if config.transactional { outputs.append(.input(.transactionRebalanced)) }
            emit(.lost(lost))
        }
        for tp in lost { consumed[tp] = nil }
        ownedGeneration = -1
        // Queued commits belong to the generation that ended.
        failQueuedCommits(.broker(.illegalGeneration, "the generation ended before the commit was sent"))
    }

    /// The coordinator no longer knows this member's generation (ILLEGAL_GENERATION) or the
    /// member itself (UNKNOWN_MEMBER_ID, which also forgets the id): what it owns is lost;
    /// with `rejoin` it joins again at once.
    mutating func droppedOut(_ code: KafkaErrorCode, rejoin: Bool) {
        if config.groupProtocol == .consumer {
            // KIP-848: fenced (FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID): join again at epoch 0
            // under the same member id.
            consumer.fenced()
            heartbeatTag = nil
            // The fence makes every heartbeat in flight stale, a join's too (its answer is
            // dropped): a member that was joining must join again, or it waits for good.
            if case .joining = step, !rejoin { step = .needJoin; joinNotBefore = nil }
        } else if code == .unknownMemberId {
            memberId = ""
        }
        generation = -1
        loseAll()
        if rejoin {
            step = .needJoin
            joinNotBefore = nil
        }
    }

    mutating func fail(_ error: GroupError) {
        guard isActive else { return }
        loseAll()
        if let r = revocation { revocation = nil; _ = r }
        step = .failed
        generation = -1
        emit(.failed(error))
        if let p = leavePromise { leavePromise = nil; emit(.left(p)) }
    }

    mutating func backoff(_ attempts: Int) -> Interval {
        config.retryBackoff.delay(attempt: attempts, using: &rng)
    }

    /// The topics to join with: every named topic, and every known topic a pattern matches.
    func currentTopics(_ metadata: MetadataCache) -> [String] {
        var set = Set(config.subscription.topics)
        if !config.subscription.patterns.isEmpty {
            set.formUnion(config.subscription.matching(metadata.partitionCounts.keys.sorted()))
        }
        return set.sorted()
    }

    mutating func sendJoin(context: ComponentContext, now: Instant) {
        if config.instanceId != nil, let v = context.coordinatorVersion(JoinGroupRequest.self, coordinatorKey), v < 5 {
            fail(.invalidConfiguration("static membership (an instance id) needs JoinGroup v5 (Kafka 2.3+); the coordinator serves v\(v)"))
            return
        }
        let topics = currentTopics(context.metadata)
        joinedTopics = topics
        var r = JoinGroupRequest()
        r.groupId = config.groupId
        r.sessionTimeoutMs = Int32(clamping: config.sessionTimeout.nanoseconds / 1_000_000)
        r.rebalanceTimeoutMs = Int32(clamping: config.rebalanceTimeout.nanoseconds / 1_000_000)
        r.memberId = memberId
        r.groupInstanceId = config.instanceId
        r.protocolType = "consumer"
        do {
            r.protocols = try config.balancers.map { b throws(GroupProtocolError) in
                var p = JoinGroupRequest.JoinGroupRequestProtocol()
                p.name = b.protocolName
                p.metadata = try ConsumerProtocol.encodeSubscription(
                    topics: topics, userData: b.userData(owned: owned, generation: ownedGeneration),
                    owned: owned, generation: ownedGeneration, rack: config.rack)
                return p
            }
        } catch {
            fail(.invalidConfiguration("the subscription cannot be encoded: \(error)"))
            return
        }
        let tag = send(.join, r)
        step = .joining(tag: tag)
        rejoinAfterSync = false
    }

    mutating func joined(_ result: Result<any KafkaResponse, KafkaClientError>, context: ComponentContext, now: Instant) {
        guard case .joining = step else { return }
        guard case .success(let any) = result, let r = any as? JoinGroupResponse else {
            if case .failure(let e) = result {
                if case .encodingFailed = e { fail(.request(e)) } else if let code = Self.refusedForGood(e) {
                    fail(.broker(code, "JoinGroup refused: \(e)"))
                } else { retryJoin(now: now, warning: "JoinGroup failed: \(e)") }
            }
            return
        }
        let code = KafkaErrorCode(r.errorCode)
        switch code {
        case .noError:
            if let t = r.protocolType, t != "consumer" {
                fail(.broker(.inconsistentGroupProtocol, "the group's protocol type is \(t), not consumer"))
                return
            }
            guard let name = r.protocolName, config.balancers.contains(where: { $0.protocolName == name }) else {
                fail(.broker(.inconsistentGroupProtocol, "the coordinator chose protocol \(r.protocolName ?? "none"), which this member did not offer"))
                return
            }
            memberId = r.memberId
            generation = r.generationId
            protocolName = name
            isLeader = r.leader == r.memberId
            joinAttempts = 0
            if isLeader && !r.skipAssignment {
                leaderBalance(r, context: context, now: now)
            } else {
                if isLeader { learnGroupTopics(r, context: context) }
                sendSync([], context: context)
            }
        case .memberIdRequired:
            // KIP-394: join again at once with the id the coordinator handed out.
            memberId = r.memberId
            step = .needJoin
            joinNotBefore = nil
        case .unknownMemberId, .illegalGeneration:
            droppedOut(code, rejoin: true)
        case .rebalanceInProgress:
            step = .needJoin
            joinNotBefore = nil
        default:
            if Self.isFatal(code) {
                fail(.broker(code, "JoinGroup refused"))
            } else {
                retryJoin(now: now, warning: nil)
            }
        }
    }

    mutating func retryJoin(now: Instant, warning: String?) {
        if let warning { emit(.warning(warning)) }
        step = .needJoin
        joinNotBefore = now + backoff(joinAttempts)
        joinAttempts += 1
    }

    mutating func sendSync(_ assignments: [SyncGroupRequest.SyncGroupRequestAssignment], context: ComponentContext) {
        var r = SyncGroupRequest()
        r.groupId = config.groupId
        r.generationId = generation
        r.memberId = memberId
        r.groupInstanceId = config.instanceId
        // KIP-559's checks: only versions 5+ carry the protocol type and name.
        if let v = context.coordinatorVersion(SyncGroupRequest.self, coordinatorKey), v >= 5 {
            r.protocolType = "consumer"
            r.protocolName = protocolName
        }
        r.assignments = assignments
        step = .syncing(tag: send(.sync, r))
    }

    mutating func synced(_ result: Result<any KafkaResponse, KafkaClientError>, context: ComponentContext, now: Instant) {
        guard case .syncing = step else { return }
        guard case .success(let any) = result, let r = any as? SyncGroupResponse else {
            if case .failure(let e) = result {
                if let code = Self.refusedForGood(e) { fail(.broker(code, "SyncGroup refused: \(e)")) } else {
                    retryJoin(now: now, warning: "SyncGroup failed: \(e)")
                }
            }
            return
        }
        let code = KafkaErrorCode(r.errorCode)
        switch code {
        case .noError:
            if let t = r.protocolType, t != "consumer" {
                fail(.broker(.inconsistentGroupProtocol, "SyncGroup answered protocol type \(t)"))
                return
            }
            if let n = r.protocolName, n != protocolName {
                fail(.broker(.inconsistentGroupProtocol, "SyncGroup answered protocol \(n), the join said \(protocolName ?? "none")"))
                return
            }
            var assigned: [TopicPartition] = []
            do {
                assigned = try ConsumerProtocol.decodeAssignment(r.assignment).partitions
            } catch {
                emit(.warning("the leader's assignment could not be read (\(error)); consuming nothing this generation"))
            }
            becomeStable(with: assigned, context: context, now: now)
        case .rebalanceInProgress:
            step = .needJoin
            joinNotBefore = nil
        case .unknownMemberId, .illegalGeneration:
            droppedOut(code, rejoin: true)
        default:
            if Self.isFatal(code) {
                fail(.broker(code, "SyncGroup refused"))
            } else {
                retryJoin(now: now, warning: nil)
            }
        }
    }

    /// A new generation's assignment: give up what moved (cooperative: then rejoin), fetch
    /// committed offsets of what is new.
    mutating func becomeStable(with assignment: [TopicPartition], context: ComponentContext, now: Instant) {
        var mine = Set<TopicPartition>()
        var dropped: [TopicPartition] = []
        var unknown = false
        let subscribed = Set(joinedTopics)
        for tp in assignment {
            if !subscribed.contains(tp.topic) || tp.partition < 0 {
                dropped.append(tp)
            } else {
                // A partition past what this member's metadata knows was most likely just
                // added (the leader saw it first): kept, and the metadata refreshed at once.
                if let count = context.metadata.partitionCounts[tp.topic], tp.partition >= count { unknown = true }
                mine.insert(tp)
            }
        }
        if unknown {
            let want: [String]? = config.subscription.patterns.isEmpty ? Set(config.subscription.topics).union(groupTopics).sorted() : nil
            outputs.append(.metadata(topics: want, refresh: .urgent))
        }
        if !dropped.isEmpty {
            emit(.warning("the assignment names partitions this member cannot consume, ignored: \(dropped.sorted().map { "\($0.topic)/\($0.partition)" }.joined(separator: ","))"))
        }
        step = .stable
        lastHeartbeatOK = now
        nextHeartbeat = now + config.heartbeatInterval
        if config.autocommitInterval != nil && nextAutocommit == nil { nextAutocommit = now + config.autocommitInterval! }
        emit(.joined(memberId: memberId, generation: generation, leader: isLeader, protocolName: protocolName ?? ""))
        let revoked = owned.filter { !mine.contains($0) }
        let added = mine.subtracting(owned).sorted()
        ownedGeneration = generation
        if !revoked.isEmpty {
            // Cooperative: give these up, then join again so they can move (KIP-429).
            // Eager members revoked everything before joining; anything left is given up
            // without a rejoin.
            startRevocation(revoked, then: isCooperative ? .join : .nothing)
        }
        if !added.isEmpty {
            owned = (owned + added).sorted()
            awaitingOffsets.formUnion(added)
            offsetFetchAttempts = 0
            offsetFetchRetryAt = nil
        }
        if rejoinAfterSync {
            rejoinAfterSync = false
            rejoin(now: now)
        }
    }

    mutating func sendHeartbeat(now: Instant) {
        var r = HeartbeatRequest()
        r.groupId = config.groupId
        r.generationId = generation
        r.memberId = memberId
        r.groupInstanceId = config.instanceId
        heartbeatTag = send(.heartbeat(generation: generation), r)
        nextHeartbeat = nil
    }

    mutating func heartbeatAnswered(_ result: Result<any KafkaResponse, KafkaClientError>, sentIn gen: Int32, now: Instant) {
        heartbeatTag = nil
        nextHeartbeat = now + config.heartbeatInterval
        guard gen == generation, case .success(let any) = result, let r = any as? HeartbeatResponse else { return }
        let code = KafkaErrorCode(r.errorCode)
        switch code {
        case .noError:
            lastHeartbeatOK = now
        case .rebalanceInProgress:
            lastHeartbeatOK = now
            rejoin(now: now)
        case .illegalGeneration, .unknownMemberId:
            droppedOut(code, rejoin: step == .stable)
        default:
            if Self.isFatal(code) { fail(.broker(code, "Heartbeat refused")) }
        }
    }

    mutating func sendLeave(now: Instant) {
        if config.groupProtocol == .consumer {
            sendConsumerLeave()
            return
        }
        guard config.instanceId == nil, !memberId.isEmpty else {
            finishLeave()
            return
        }
        var r = LeaveGroupRequest()
        r.groupId = config.groupId
        // v0-2 name the member at the top; v3+ list members (v5 with a reason).
        let v = leaveVersionSeen
        if let v, v < 3 {
            r.memberId = memberId
            leaveTag = send(.leave, r, pin: 0 ... 2, maxRetries: 1)
        } else {
            var m = LeaveGroupRequest.MemberIdentity()
            m.memberId = memberId
            if v.map({ $0 >= 5 }) ?? false { m.reason = "the consumer is closing" }
            r.members = [m]
            leaveTag = send(.leave, r, pin: 3 ... 5, maxRetries: 1)
        }
    }

    /// A refused or failed LeaveGroup is only a warning: the session timeout removes the
    /// member anyway.
    mutating func leaveAnswered(_ result: Result<any KafkaResponse, KafkaClientError>) {
        switch result {
        case .failure(let e):
            emit(.warning("LeaveGroup failed (\(e)); the coordinator drops the member when its session times out"))
        case .success(let any):
            if let c = any as? ConsumerGroupHeartbeatResponse, c.errorCode != 0 {
                emit(.warning("leaving heartbeat refused: \(KafkaErrorCode(c.errorCode)); the coordinator drops the member when its session times out"))
                return
            }
            guard let r = any as? LeaveGroupResponse else { return }
            let codes = [KafkaErrorCode(r.errorCode)] + r.members.map { KafkaErrorCode($0.errorCode) }
            if let bad = codes.first(where: { $0 != .noError }) {
                emit(.warning("LeaveGroup refused: \(bad); the coordinator drops the member when its session times out"))
            }
        }
    }

    mutating func finishLeave() {
        leaveTag = nil
        step = .left
        generation = -1
        memberId = ""
        if let p = leavePromise {
            leavePromise = nil
            emit(.left(p))
        }
    }

    /// A request that failed before the coordinator answered it (the coordinator lookup,
    /// FindCoordinator, was refused) for a reason no retry can change: not authorized for
    /// the group, or another error `isFatal` names.
    static func refusedForGood(_ e: KafkaClientError) -> KafkaErrorCode? {
        switch e {
        case .brokerError(let code, _) where isFatal(code): return code
        case .retriesExhausted(_, let last): return refusedForGood(last)
        default: return nil
        }
    }

    /// Errors after which this member cannot go on (as the Java client treats them).
    static func isFatal(_ code: KafkaErrorCode) -> Bool {
        switch code {
        case .fencedInstanceId, .groupAuthorizationFailed, .inconsistentGroupProtocol, .invalidSessionTimeout,
             .groupMaxSizeReached, .unsupportedVersion, .invalidGroupId, .unreleasedInstanceId:
            return true
        default:
            return false
        }
    }

    // MARK: plumbing

    mutating func send(_ purpose: Purpose, _ request: any KafkaRequest, pin: ClosedRange<Int16>? = nil, maxRetries: Int? = nil) -> UInt64 {
        let tag = nextTag
        nextTag += 1
        tags[tag] = purpose
        outputs.append(.send(ComponentRequest(tag: tag, request, to: coordinator, pin: pin, maxRetries: maxRetries)))
        return tag
    }

    mutating func emit(_ event: GroupEvent) {
        outputs.append(.action(.group(event)))
    }
}
