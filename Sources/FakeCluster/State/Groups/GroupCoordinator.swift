/// The classic group coordinator: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the
/// timers behind them, on virtual time.
///
/// JoinGroup and SyncGroup responses are often held back until a phase ends. Such calls
/// return `.parked(token)`; when the phase ends — during this or any later call, or in
/// `tick(now:)` — the response is queued in the outbox as a `Completion` carrying the
/// token. Drain it with `takeCompletions()` (or take `tick`'s result) after every call.
/// A call whose own response is ready at once returns `.immediate`.
struct GroupCoordinator: Sendable, Equatable {
    struct Config: Sendable, Equatable {
        var minSessionTimeoutMs: Int32 = 6_000
        var maxSessionTimeoutMs: Int32 = 1_800_000
        /// Kafka defaults to 3 s; the fake defaults to none so tests need no extra tick.
        var initialRebalanceDelayMs: Int32 = 0
        var maxGroupSize: Int = Int.max
        var maxOffsetMetadataBytes: Int = 4096
        /// offsets.retention.minutes (Kafka's default, 7 days, in milliseconds).
        var offsetsRetentionMs: Int64 = 7 * 24 * 60 * 60 * 1000
        /// offsets.retention.check.interval.ms: expired offsets (and then empty groups without
        /// offsets) are removed at every multiple of this on the virtual clock.
        var offsetsRetentionCheckIntervalMs: Int64 = 600_000
        /// group.consumer.session.timeout.ms: a KIP-848 member without a heartbeat this long is fenced.
        var consumerSessionTimeoutMs: Int32 = 45_000
        /// group.consumer.heartbeat.interval.ms: what ConsumerGroupHeartbeat answers tell members.
        var consumerHeartbeatIntervalMs: Int32 = 5_000
        /// group.consumer.migration.policy: online conversions of groups with members.
        var migrationPolicy: ConsumerGroupMigrationPolicy = .bidirectional
    }

    enum Outcome<Response: Equatable & Sendable>: Equatable, Sendable {
        case immediate(Response)
        case parked(ParkedToken)
    }

    enum Completion: Equatable, Sendable {
        case join(ParkedToken, JoinResponse)
        case sync(ParkedToken, SyncResponse)

        var token: ParkedToken {
            switch self {
            case .join(let t, _), .sync(let t, _): return t
            }
        }
    }

    struct JoinRequest: Sendable {
        var groupId: String
        var memberId: String = ""
        var groupInstanceId: String?
        var clientId: String = "client"
        var clientHost: String = "/127.0.0.1"
        var sessionTimeoutMs: Int32 = 10_000
        /// -1 (JoinGroup v0) means "same as the session timeout".
        var rebalanceTimeoutMs: Int32 = 30_000
        var protocolType: String = "consumer"
        var protocols: [ClassicGroup.GroupProtocol]
        /// KIP-394 (MEMBER_ID_REQUIRED) applies from version 4.
        var version: Int16 = 9
    }

    struct JoinResponse: Equatable, Sendable {
        struct Member: Equatable, Sendable {
            var memberId: String
            var groupInstanceId: String?
            var metadata: [UInt8]
        }
        var error: KafkaErrorCode
        var generationId: Int32 = -1
        var protocolType: String?
        var protocolName: String?
        var leader: String = ""
        /// KIP-814: a static leader rejoining a stable group must not reassign.
        var skipAssignment: Bool = false
        var memberId: String = ""
        var members: [Member] = []
    }

    struct SyncRequest: Sendable {
        var groupId: String
        var generationId: Int32
        var memberId: String
        var groupInstanceId: String?
        var protocolType: String?
        var protocolName: String?
        /// Only the leader sends assignments.
        var assignments: [(memberId: String, assignment: [UInt8])] = []
    }

    struct SyncResponse: Equatable, Sendable {
        var error: KafkaErrorCode
        var protocolType: String?
        var protocolName: String?
        var assignment: [UInt8] = []
    }

    var config: Config
    var groups: [String: ClassicGroup] = [:]
    /// KIP-848 consumer groups (GroupCoordinator+Consumer.swift). A group id is in at most
    /// one of `groups` and `consumerGroups`.
    var consumerGroups: [String: ConsumerGroup] = [:]
    /// When the last offsets-expiration pass ran (they run at multiples of the interval).
    private var lastOffsetsCleanup: Instant?
    private var nextToken: UInt64 = 1
    private var outbox: [Completion] = []

    init(config: Config = Config()) { self.config = config }

    /// When the next offsets-expiration pass runs: the next multiple of the check interval.
    var nextOffsetsCleanup: Instant? {
        guard config.offsetsRetentionCheckIntervalMs > 0 else { return nil }
        let step = UInt64(config.offsetsRetentionCheckIntervalMs) * 1_000_000
        return Instant(nanoseconds: ((lastOffsetsCleanup?.nanoseconds ?? 0) / step + 1) * step)
    }

    var groupIds: [String] { groups.keys.sorted() }
    /// Classic and consumer groups, sorted.
    var allGroupIds: [String] { (Array(groups.keys) + Array(consumerGroups.keys)).sorted() }

    mutating func takeCompletions() -> [Completion] {
        defer { outbox = [] }
        return outbox
    }

    private mutating func newToken() -> ParkedToken {
        defer { nextToken += 1 }
        return ParkedToken(value: nextToken)
    }

    /// Resolves a just-parked call: if its completion is already queued, hand it back directly.
    private mutating func resolve(_ token: ParkedToken) -> Completion? {
        guard let i = outbox.firstIndex(where: { $0.token == token }) else { return nil }
        return outbox.remove(at: i)
    }

    /// Kafka's member ids: a prefix (client id, or instance id for static members), a dash,
    /// and a UUID — here drawn from the seeded generator.
    static func newMemberId<G: RandomNumberGenerator>(prefix: String, using rng: inout G) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        let a = rng.next(), b = rng.next()
        for i in 0 ..< 32 {
            if [8, 12, 16, 20].contains(i) { out.append(UInt8(ascii: "-")) }
            let word = i < 16 ? a : b
            out.append(hex[Int((word >> UInt64(60 - 4 * (i % 16))) & 0xF)])
        }
        return prefix + "-" + String(decoding: out, as: UTF8.self)
    }

    // MARK: JoinGroup

    /// `image` (the topics as they are) matters only to a consumer group's classic members.
    mutating func joinGroup<G: RandomNumberGenerator>(_ req: JoinRequest, image: TopicImage = TopicImage(), now: Instant,
                                                      using rng: inout G) -> Outcome<JoinResponse> {
        func fail(_ e: KafkaErrorCode, memberId: String = req.memberId) -> Outcome<JoinResponse> {
            .immediate(JoinResponse(error: e, memberId: memberId))
        }
        guard !req.groupId.isEmpty else { return fail(.invalidGroupId) }
        guard req.sessionTimeoutMs >= config.minSessionTimeoutMs, req.sessionTimeoutMs <= config.maxSessionTimeoutMs else {
            return fail(.invalidSessionTimeout)
        }
        if let cg = consumerGroups[req.groupId] {
            // A consumer group with members takes the joiner as a classic member
            // (GroupCoordinator+ClassicMembers); an empty one becomes a classic group, offsets kept.
            guard cg.isEmpty else { return .immediate(classicJoinToConsumerGroup(req, image: image, now: now, using: &rng)) }
            var g = ClassicGroup(groupId: req.groupId)
            g.offsets = cg.offsets
            g.pendingTransactionalOffsets = cg.pendingTransactionalOffsets
            consumerGroups[req.groupId] = nil
            groups[req.groupId] = g
        }
        if groups[req.groupId] == nil {
            guard req.memberId.isEmpty else { return fail(.unknownMemberId) }
            groups[req.groupId] = ClassicGroup(groupId: req.groupId)
        }
        var g = groups[req.groupId]!
        guard g.state != .dead else { return fail(.coordinatorNotAvailable) }
        let existingId = req.memberId.isEmpty ? req.groupInstanceId.flatMap { g.memberId(forInstance: $0) } : req.memberId
        guard g.accepts(protocolType: req.protocolType, protocols: req.protocols, excluding: existingId) else {
            if g.isEmpty && g.offsets.isEmpty { groups[req.groupId] = nil }
            return fail(.inconsistentGroupProtocol)
        }
        let token = newToken()
        let result: Outcome<JoinResponse>?
        if req.memberId.isEmpty {
            result = joinUnknownMember(&g, req, token: token, now: now, rng: &rng)
        } else {
            result = joinKnownMember(&g, req, token: token, now: now)
        }
        groups[req.groupId] = g
        if let result { return result }
        if case .join(_, let r)? = resolve(token) { return .immediate(r) }
        return .parked(token)
    }

    /// nil means "parked under token" (possibly already completed into the outbox).
    private mutating func joinUnknownMember<G: RandomNumberGenerator>(
        _ g: inout ClassicGroup, _ req: JoinRequest, token: ParkedToken, now: Instant, rng: inout G
    ) -> Outcome<JoinResponse>? {
        if let inst = req.groupInstanceId, let oldId = g.memberId(forInstance: inst) {
            return rejoinStatic(&g, req, oldId: oldId, token: token, now: now, rng: &rng)
        }
        guard g.members.count + g.pendingMembers.count < config.maxGroupSize else {
            return .immediate(JoinResponse(error: .groupMaxSizeReached))
        }
        let newId = Self.newMemberId(prefix: req.groupInstanceId ?? req.clientId, using: &rng)
        if req.groupInstanceId == nil, req.version >= 4 {
            g.pendingMembers[newId] = now.adding(milliseconds: Int64(req.sessionTimeoutMs))
            return .immediate(JoinResponse(error: .memberIdRequired, memberId: newId))
        }
        addMemberAndRebalance(&g, member(from: req, id: newId, token: token, now: now), now: now)
        return nil
    }

    /// A new member (dynamic after KIP-394, static, or pre-v4): added, and the group
    /// rebalances. A member added while a brand-new group (generation 0) waits out its
    /// initial delay extends that delay.
    private mutating func addMemberAndRebalance(_ g: inout ClassicGroup, _ m: ClassicGroup.Member, now: Instant) {
        g.add(m)
        if g.state == .preparingRebalance, g.generationId == 0 { g.newMemberAdded = true }
        rebalanceOrWait(&g, now: now)
    }

    private func member(from req: JoinRequest, id: String, token: ParkedToken?, now: Instant) -> ClassicGroup.Member {
        ClassicGroup.Member(memberId: id, groupInstanceId: req.groupInstanceId, clientId: req.clientId,
                            clientHost: req.clientHost, sessionTimeoutMs: req.sessionTimeoutMs,
                            rebalanceTimeoutMs: req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs,
                            protocolType: req.protocolType, protocols: req.protocols, lastHeartbeat: now,
                            joinToken: token)
    }

    /// KIP-345: a known static member rejoins with a fresh id; the old id is fenced.
    private mutating func rejoinStatic<G: RandomNumberGenerator>(
        _ g: inout ClassicGroup, _ req: JoinRequest, oldId: String, token: ParkedToken, now: Instant, rng: inout G
    ) -> Outcome<JoinResponse>? {
        let old = g.member(oldId)!
        let newId = Self.newMemberId(prefix: req.groupInstanceId!, using: &rng)
        if let t = old.joinToken { outbox.append(.join(t, JoinResponse(error: .fencedInstanceId, memberId: oldId))) }
        if let t = old.syncToken { outbox.append(.sync(t, SyncResponse(error: .fencedInstanceId))) }
        let previousLeader = g.leaderId
        _ = g.replaceStatic(oldId: oldId, newId: newId)
        g.update(newId) { m in
            m.protocols = req.protocols
            m.protocolType = req.protocolType
            m.sessionTimeoutMs = req.sessionTimeoutMs
            m.rebalanceTimeoutMs = req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs
            m.clientId = req.clientId
            m.clientHost = req.clientHost
            m.lastHeartbeat = now
        }
        switch g.state {
        case .stable where g.selectProtocol() == g.protocolName:
            // Kafka rebalances only when the protocol the group would select changes, not for
            // new subscription metadata: hand back the current generation. From JoinGroup v9
            // a leader gets the member list with skipAssignment (KIP-814); before v9 it is told
            // the old leader id, so it does not take itself for the leader and reassign.
            var r = currentGenerationResponse(g, for: newId)
            if req.version >= 9 {
                r.skipAssignment = g.leaderId == newId
            } else {
                r.members = []
                r.leader = previousLeader ?? ""
            }
            g.persist() // the new member id is part of the stored generation
            return .immediate(r)
        case .preparingRebalance:
            g.update(newId) { $0.joinToken = token }
            tryCompleteJoin(&g, now: now, forced: false)
            return nil
        default:
            g.update(newId) { $0.joinToken = token }
            prepareRebalance(&g, now: now)
            tryCompleteJoin(&g, now: now, forced: false)
            return nil
        }
    }

    private mutating func joinKnownMember(_ g: inout ClassicGroup, _ req: JoinRequest, token: ParkedToken,
                                          now: Instant) -> Outcome<JoinResponse>? {
        let id = req.memberId
        if g.pendingMembers.removeValue(forKey: id) != nil {
            addMemberAndRebalance(&g, member(from: req, id: id, token: token, now: now), now: now)
            return nil
        }
        if let error = memberError(g, memberId: id, instanceId: req.groupInstanceId) {
            return .immediate(JoinResponse(error: error, memberId: id))
        }
        let old = g.member(id)!
        let changed = old.protocols != req.protocols || old.protocolType != req.protocolType
        let refresh: (inout ClassicGroup.Member) -> Void = { m in
            m.protocols = req.protocols
            m.protocolType = req.protocolType
            m.sessionTimeoutMs = req.sessionTimeoutMs
            m.rebalanceTimeoutMs = req.rebalanceTimeoutMs < 0 ? req.sessionTimeoutMs : req.rebalanceTimeoutMs
            m.lastHeartbeat = now
        }
        switch g.state {
        case .preparingRebalance:
            // A newer JoinGroup supersedes a parked one from the same member.
            if let t = old.joinToken { outbox.append(.join(t, JoinResponse(error: .rebalanceInProgress, memberId: id))) }
            g.update(id) { m in refresh(&m); m.joinToken = token }
            tryCompleteJoin(&g, now: now, forced: false)
            return nil
        case .completingRebalance where !changed:
            g.update(id) { $0.lastHeartbeat = now }
            return .immediate(currentGenerationResponse(g, for: id))
        case .stable where !changed && g.leaderId != id:
            g.update(id) { $0.lastHeartbeat = now }
            return .immediate(currentGenerationResponse(g, for: id))
        case .completingRebalance, .stable:
            g.update(id) { m in refresh(&m); m.joinToken = token }
            prepareRebalance(&g, now: now)
            tryCompleteJoin(&g, now: now, forced: false)
            return nil
        case .empty, .dead:
            return .immediate(JoinResponse(error: .unknownMemberId, memberId: id))
        }
    }

    /// UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID checks shared by every member request.
    func memberError(_ g: ClassicGroup, memberId: String, instanceId: String?) -> KafkaErrorCode? {
        if let inst = instanceId, let current = g.memberId(forInstance: inst), current != memberId {
            return .fencedInstanceId
        }
        guard let m = g.member(memberId) else { return .unknownMemberId }
        if let inst = instanceId, m.groupInstanceId != inst { return .fencedInstanceId }
        return nil
    }

    private func currentGenerationResponse(_ g: ClassicGroup, for memberId: String) -> JoinResponse {
        JoinResponse(error: .noError, generationId: g.generationId, protocolType: g.protocolType, protocolName: g.protocolName,
                     leader: g.leaderId ?? "", memberId: memberId,
                     members: g.leaderId == memberId ? memberList(g) : [])
    }

    private func memberList(_ g: ClassicGroup) -> [JoinResponse.Member] {
        g.orderedMembers.map { .init(memberId: $0.memberId, groupInstanceId: $0.groupInstanceId,
                                     metadata: $0.metadata(for: g.protocolName)) }
    }

    // MARK: rebalance phases

    private mutating func rebalanceOrWait(_ g: inout ClassicGroup, now: Instant) {
        if g.state != .preparingRebalance { prepareRebalance(&g, now: now) }
        tryCompleteJoin(&g, now: now, forced: false)
    }

    mutating func prepareRebalance(_ g: inout ClassicGroup, now: Instant) {
        if g.state == .completingRebalance {
            for m in g.orderedMembers {
                if let t = m.syncToken { outbox.append(.sync(t, SyncResponse(error: .rebalanceInProgress))) }
                g.update(m.memberId) { $0.syncToken = nil }
            }
        }
        g.pendingSync = []
        g.syncDeadline = nil
        if g.state == .empty {
            // Kafka's InitialDelayedJoin, even for a delay of 0 (which completes at once).
            let delay = Int64(config.initialRebalanceDelayMs)
            g.initialDelay = .init(deadline: now.adding(milliseconds: delay), delayMs: delay,
                                   remainingMs: max(Int64(g.maxRebalanceTimeoutMs) - delay, 0))
            g.newMemberAdded = false
            g.rebalanceDeadline = nil
        } else {
            g.initialDelay = nil
            g.rebalanceDeadline = now.adding(milliseconds: Int64(g.maxRebalanceTimeoutMs))
        }
        g.transition(to: .preparingRebalance, now: now)
    }

    /// Ends the join phase when every member (and no pending KIP-394 member) has rejoined,
    /// or when `forced` by the rebalance deadline, dropping dynamic members that did not
    /// rejoin (static ones stay until their session expires). A rebalance out of Empty ends
    /// only when its initial delay runs out (then as if forced). If no member at all rejoined
    /// (only static members that stay), the join phase waits another rebalance timeout.
    private mutating func tryCompleteJoin(_ g: inout ClassicGroup, now: Instant, forced: Bool) {
        guard g.state == .preparingRebalance else { return }
        var forced = forced
        if let d = g.initialDelay {
            guard d.deadline <= now else { return }
            if g.newMemberAdded, d.remainingMs != 0 {
                g.newMemberAdded = false
                let delay = min(Int64(config.initialRebalanceDelayMs), d.remainingMs)
                g.initialDelay = .init(deadline: now.adding(milliseconds: delay), delayMs: delay,
                                       remainingMs: max(d.remainingMs - d.delayMs, 0))
                return
            }
            g.initialDelay = nil
            forced = true
        }
        if !forced {
            let allJoined = g.orderedMembers.allSatisfy { $0.joinToken != nil } && g.pendingMembers.isEmpty
            guard allJoined else { return }
        } else {
            for m in g.orderedMembers where m.joinToken == nil && m.groupInstanceId == nil { g.remove(m.memberId) }
        }
        let joined = g.orderedMembers.filter { $0.joinToken != nil }
        if joined.isEmpty, !g.isEmpty {
            g.rebalanceDeadline = now.adding(milliseconds: Int64(g.maxRebalanceTimeoutMs))
            return
        }
        g.rebalanceDeadline = nil
        g.generationId += 1
        if g.isEmpty {
            g.transition(to: .empty, now: now)
            g.protocolName = nil
            g.leaderId = nil
            g.persist()
            return
        }
        g.protocolType = g.orderedMembers.first?.protocolType
        g.protocolName = g.selectProtocol()
        if g.leaderId.flatMap({ g.member($0)?.joinToken }) == nil {
            g.leaderId = joined.first?.memberId
        }
        g.transition(to: .completingRebalance, now: now)
        g.pendingSync = g.orderedMembers.map(\.memberId)
        g.syncDeadline = now.adding(milliseconds: Int64(g.maxRebalanceTimeoutMs))
        let list = memberList(g)
        for m in g.orderedMembers {
            g.update(m.memberId) { $0.lastHeartbeat = now; $0.joinToken = nil; $0.assignment = [] }
            guard let t = m.joinToken else { continue }
            outbox.append(.join(t, JoinResponse(error: .noError, generationId: g.generationId, protocolType: g.protocolType,
                                                protocolName: g.protocolName, leader: g.leaderId ?? "",
                                                memberId: m.memberId, members: m.memberId == g.leaderId ? list : [])))
        }
    }

    /// Removes a member (leave, expiry, fencing) and moves the group along.
    private mutating func removeMember(_ g: inout ClassicGroup, _ id: String, error: KafkaErrorCode, now: Instant) {
        guard let m = g.remove(id) else { return }
        if let t = m.joinToken { outbox.append(.join(t, JoinResponse(error: error, memberId: id))) }
        if let t = m.syncToken { outbox.append(.sync(t, SyncResponse(error: error))) }
        switch g.state {
        case .stable, .completingRebalance:
            prepareRebalance(&g, now: now)
            tryCompleteJoin(&g, now: now, forced: false)
        case .preparingRebalance:
            tryCompleteJoin(&g, now: now, forced: false)
        case .empty, .dead:
            break
        }
    }

    // MARK: SyncGroup

    /// `image` matters only to a consumer group's classic members (their assignment's names).
    mutating func syncGroup(_ req: SyncRequest, image: TopicImage = TopicImage(), now: Instant) -> Outcome<SyncResponse> {
        func fail(_ e: KafkaErrorCode) -> Outcome<SyncResponse> { .immediate(SyncResponse(error: e)) }
        if consumerGroups[req.groupId] != nil { return .immediate(classicSyncToConsumerGroup(req, image: image, now: now)) }
        guard var g = groups[req.groupId] else { return fail(.unknownMemberId) }
        guard g.state != .dead else { return fail(.coordinatorNotAvailable) }
        if let e = memberError(g, memberId: req.memberId, instanceId: req.groupInstanceId) { return fail(e) }
        guard req.generationId == g.generationId else { return fail(.illegalGeneration) }
        if let t = req.protocolType, t != g.protocolType { return fail(.inconsistentGroupProtocol) }
        if let n = req.protocolName, n != g.protocolName { return fail(.inconsistentGroupProtocol) }
        switch g.state {
        case .empty, .dead:
            return fail(.unknownMemberId)
        case .preparingRebalance:
            return fail(.rebalanceInProgress)
        case .stable:
            g.update(req.memberId) { $0.lastHeartbeat = now }
            synced(&g, req.memberId)
            groups[req.groupId] = g
            return .immediate(SyncResponse(error: .noError, protocolType: g.protocolType, protocolName: g.protocolName,
                                           assignment: g.member(req.memberId)!.assignment))
        case .completingRebalance:
            let token = newToken()
            if let old = g.member(req.memberId)?.syncToken {
                outbox.append(.sync(old, SyncResponse(error: .rebalanceInProgress)))
            }
            g.update(req.memberId) { $0.syncToken = token; $0.lastHeartbeat = now }
            synced(&g, req.memberId)
            if req.memberId == g.leaderId {
                var given: [String: [UInt8]] = [:]
                for a in req.assignments { given[a.memberId] = a.assignment }
                g.transition(to: .stable, now: now)
                for m in g.orderedMembers {
                    let assignment = given[m.memberId] ?? []
                    g.update(m.memberId) { $0.assignment = assignment; $0.syncToken = nil; $0.lastHeartbeat = now }
                    if let t = m.syncToken {
                        outbox.append(.sync(t, SyncResponse(error: .noError, protocolType: g.protocolType,
                                                            protocolName: g.protocolName, assignment: assignment)))
                    }
                }
                g.persist()
            }
            groups[req.groupId] = g
            if case .sync(_, let r)? = resolve(token) { return .immediate(r) }
            return .parked(token)
        }
    }

    /// A member's SyncGroup arrived: it is no longer pending; the sync timer stops once all are in.
    private func synced(_ g: inout ClassicGroup, _ memberId: String) {
        g.pendingSync.removeAll { $0 == memberId }
        if g.pendingSync.isEmpty { g.syncDeadline = nil }
    }

    // MARK: Heartbeat and LeaveGroup

    mutating func heartbeat(groupId: String, memberId: String, groupInstanceId: String?, generationId: Int32,
                            now: Instant) -> KafkaErrorCode {
        if consumerGroups[groupId] != nil {
            return classicHeartbeatToConsumerGroup(groupId: groupId, memberId: memberId, groupInstanceId: groupInstanceId,
                                                   generationId: generationId, now: now)
        }
        guard var g = groups[groupId] else { return .unknownMemberId }
        guard g.state != .dead else { return .coordinatorNotAvailable }
        if let e = memberError(g, memberId: memberId, instanceId: groupInstanceId) { return e }
        guard generationId == g.generationId else { return .illegalGeneration }
        switch g.state {
        case .empty, .dead:
            return .unknownMemberId
        case .preparingRebalance:
            g.update(memberId) { $0.lastHeartbeat = now }
            groups[groupId] = g
            return .rebalanceInProgress
        case .completingRebalance, .stable:
            g.update(memberId) { $0.lastHeartbeat = now }
            groups[groupId] = g
            return .noError
        }
    }

    struct LeavingMember: Equatable, Sendable {
        var memberId: String
        var groupInstanceId: String?
    }

    /// LeaveGroup (v3+ batch form; older versions pass one member). Static members may
    /// leave by instance id alone. Returns one error per member, in request order.
    /// `image` matters only to a consumer group's classic members (the reassignment).
    mutating func leaveGroup(groupId: String, members leaving: [LeavingMember], image: TopicImage = TopicImage(),
                             now: Instant) -> [KafkaErrorCode] {
        if consumerGroups[groupId] != nil {
            return classicLeaveFromConsumerGroup(groupId: groupId, members: leaving, image: image, now: now)
        }
        guard var g = groups[groupId], g.state != .dead else { return leaving.map { _ in .unknownMemberId } }
        var errors: [KafkaErrorCode] = []
        for l in leaving {
            if l.groupInstanceId == nil, g.pendingMembers.removeValue(forKey: l.memberId) != nil {
                errors.append(.noError)
                tryCompleteJoin(&g, now: now, forced: false)
                continue
            }
            var id = l.memberId
            if id.isEmpty, let inst = l.groupInstanceId {
                guard let current = g.memberId(forInstance: inst) else { errors.append(.unknownMemberId); continue }
                id = current
            }
            if let e = memberError(g, memberId: id, instanceId: l.groupInstanceId) { errors.append(e); continue }
            removeMember(&g, id, error: .unknownMemberId, now: now)
            errors.append(.noError)
        }
        groups[groupId] = g
        return errors
    }

    // MARK: coordinator movement

    /// The group's coordinator moved (a test control, or its broker stopped): requests
    /// parked here fail with NOT_COORDINATOR and the group restarts from what was last
    /// persisted — a rebalance in progress is lost, as in Kafka.
    mutating func moveGroup(_ groupId: String, now: Instant) {
        moveConsumerGroup(groupId, now: now)
        guard let g = groups[groupId] else { return }
        for m in g.orderedMembers {
            if let t = m.joinToken { outbox.append(.join(t, JoinResponse(error: .notCoordinator, memberId: m.memberId))) }
            if let t = m.syncToken { outbox.append(.sync(t, SyncResponse(error: .notCoordinator))) }
        }
        groups[groupId] = g.reloaded(now: now)
    }

    // MARK: time

    struct TickResult: Equatable, Sendable {
        var completions: [Completion]
        var nextDeadline: Instant?
    }

    /// Fires every timer due at `now`: KIP-394 pending ids and member sessions expire,
    /// join phases end at their rebalance deadline (or initial delay), members that did not
    /// sync in time are removed, and offsets expire. Groups are visited in id order.
    mutating func tick(now: Instant) -> TickResult {
        for id in groupIds {
            var g = groups[id]!
            for (pending, deadline) in g.pendingMembers.sorted(by: { $0.key < $1.key }) where deadline <= now {
                g.pendingMembers[pending] = nil
            }
            for id in g.orderedMembers.map(\.memberId) {
                // Re-read: an earlier removal may have ended a join and restarted sessions.
                guard let m = g.member(id), m.joinToken == nil, m.syncToken == nil, m.sessionDeadline <= now else { continue }
                removeMember(&g, id, error: .unknownMemberId, now: now)
            }
            if g.state == .preparingRebalance {
                let forced = g.initialDelay == nil && (g.rebalanceDeadline.map { $0 <= now } ?? false)
                tryCompleteJoin(&g, now: now, forced: forced)
            }
            if g.state == .completingRebalance || g.state == .stable, let d = g.syncDeadline, d <= now {
                g.syncDeadline = nil
                if !g.pendingSync.isEmpty {
                    for m in g.pendingSync { removeParked(&g, m, error: .unknownMemberId) }
                    prepareRebalance(&g, now: now)
                    tryCompleteJoin(&g, now: now, forced: false)
                }
            }
            groups[id] = g
        }
        if let due = nextOffsetsCleanup, due <= now {
            expireOffsets(now: now)
            lastOffsetsCleanup = now
        }
        return TickResult(completions: takeCompletions(), nextDeadline: nextDeadline)
    }

    /// Answers every request `g`'s members have parked (the group is converted or gone).
    mutating func answerParked(_ g: ClassicGroup, error: KafkaErrorCode) {
        for m in g.orderedMembers {
            if let t = m.joinToken { outbox.append(.join(t, JoinResponse(error: error, memberId: m.memberId))) }
            if let t = m.syncToken { outbox.append(.sync(t, SyncResponse(error: error))) }
        }
    }

    /// Removes a member without moving the group along (the caller does), answering any
    /// request it has parked.
    private mutating func removeParked(_ g: inout ClassicGroup, _ id: String, error: KafkaErrorCode) {
        guard let m = g.remove(id) else { return }
        if let t = m.joinToken { outbox.append(.join(t, JoinResponse(error: error, memberId: id))) }
        if let t = m.syncToken { outbox.append(.sync(t, SyncResponse(error: error))) }
    }

    /// The earliest instant at which `tick` has something to do.
    var nextDeadline: Instant? {
        var d: Instant?
        for id in groupIds {
            let g = groups[id]!
            for deadline in g.pendingMembers.values { d = earliest(d, deadline) }
            d = earliest(d, g.earliestSessionDeadline)
            if g.state == .preparingRebalance {
                d = earliest(d, g.initialDelay?.deadline ?? g.rebalanceDeadline)
            }
            if g.state == .completingRebalance || g.state == .stable { d = earliest(d, g.syncDeadline) }
        }
        d = earliest(d, nextConsumerDeadline)
        if !groups.isEmpty || !consumerGroups.isEmpty { d = earliest(d, nextOffsetsCleanup) }
        return d
    }
}
