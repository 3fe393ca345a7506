import KafkaProtocol

/// KIP-848's membership state: what a member speaking ConsumerGroupHeartbeat holds beside
/// what GroupMember keeps for both protocols (`memberId`, `generation` = the member epoch
/// once joined, `owned`, the revocation, commits).
struct ConsumerMembership {
    /// The fields the coordinator holds for this member. A heartbeat sends a field only when
    /// it differs from what was last acknowledged (null on the wire means unchanged).
    struct Fields: Equatable {
        var rack: String?
        var rebalanceTimeoutMs: Int32
        var topics: [String]?
        var regex: String?
        var assignor: String?
        /// Partitions reported as owned: owned, being revoked, or assigned and not taken yet.
        var owned: [TopicPartition]
    }

    /// What a heartbeat carried, to read its answer against.
    struct Sent {
        /// The state the heartbeat stands for (every field, sent or unchanged).
        var fields: Fields
        var memberId: String
        var epoch: Int32
        /// Bumped at every fence: an answer from before one is stale.
        var incarnation: UInt64
    }

    /// The epoch the next heartbeat carries: 0 to join, then the coordinator's.
    var epoch: Int32 = 0
    /// KIP-1082 (ConsumerGroupHeartbeat v1+): the id this member generated for itself.
    var generatedId = ""
    /// The coordinator's HeartbeatIntervalMs (the configured interval until it says).
    var interval: Interval
    var nextHeartbeat: Instant?
    /// Heartbeats failed in a row (backoff; no heartbeat ahead of the interval meanwhile).
    var failures = 0
    /// nil: the coordinator's view is not known (joining, or after a failure): send all.
    var acked: Fields?
    /// The latest target assignment, by topic id (nil: none received yet).
    var target: [KafkaUUID: [Int32]]?
    /// Topic names learned for ids (kept while the partitions are owned, whatever metadata
    /// says later, so the owned list can always be reported).
    var names: [KafkaUUID: String] = [:]
    var ids: [String: KafkaUUID] = [:]
    /// Newly assigned partitions reported to the coordinator as owned; taken (offsets fetched,
    /// fetching started) once a heartbeat reporting them is answered.
    var pendingAdd: [TopicPartition] = []
    /// The subscription as names (client-side resolution), recomputed on metadata changes.
    var topics: [String] = []
    /// The coordinator's version is below 1: patterns are resolved here, sent as names.
    var regexUnsupported = false
    /// A heartbeat pinned to v1 was refused for its version once (a v0 coordinator).
    var versionRefused = false
    /// A metadata refresh was asked for unresolved topic ids since the last update.
    var askedForIds = false
    var incarnation: UInt64 = 0

    init(heartbeatInterval: Interval) {
        interval = heartbeatInterval
    }

    /// A Kafka-style UUID string (URL-safe base64, 22 characters), never starting with '-'
    /// (as Kafka's own generator avoids), drawn from the engine's seeded generator.
    static func memberId(using rng: inout SeededGenerator) -> String {
        while true {
            let id = KafkaUUID(high: rng.next(), low: rng.next()).description
            if !id.hasPrefix("-") { return id }
        }
    }

    /// Fenced out (FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID, or no heartbeat answered for a
    /// session): everything the coordinator knew of this member is gone; join at epoch 0.
    mutating func fenced() {
        epoch = 0
        acked = nil
        target = nil
        pendingAdd = []
        failures = 0
        nextHeartbeat = nil
        incarnation += 1
    }
}

/// The consumer group protocol (KIP-848): the member heartbeats its subscription and owned
/// partitions; the coordinator answers with the member epoch and the target assignment,
/// which the member reconciles: partitions no longer assigned are revoked first (commit on
/// revoke, the revoke event, the fetcher stopped), the owned list then sent (acknowledging
/// the revocation), and newly assigned partitions taken only once a heartbeat reporting
/// them is answered (offsets fetched, the assign event, fetching started).
extension GroupMember {
    typealias Heartbeat = ConsumerGroupHeartbeatRequest
    static let consumerHeartbeatKey = Heartbeat.apiKey

    var consumerLeaveEpoch: Int32 { config.instanceId != nil ? -2 : -1 }

    /// The pattern subscription as one regular expression, when the coordinator can take it
    /// (patterns only: names beside patterns, or exclusions, are resolved here).
    var subscriptionRegex: String? {
        let s = config.subscription
        guard !s.patterns.isEmpty, s.topics.isEmpty, s.exclusions.isEmpty else { return nil }
        return s.patterns.count == 1 ? s.patterns[0] : s.patterns.map { "(?:\($0))" }.joined(separator: "|")
    }

    /// What the member reports as owned: owned, being revoked, assigned and not taken yet.
    var consumerReportedOwned: [TopicPartition] {
        var all = Set(owned).union(consumer.pendingAdd)
        if let r = revocation { all.formUnion(r.partitions) }
        return all.sorted()
    }

    /// The coordinator is known not to serve ConsumerGroupHeartbeat.
    func consumerProtocolMissing(_ context: ComponentContext) -> String? {
        guard let node = context.coordinators[coordinatorKey]?.nodeId, let versions = context.brokerVersions[.node(node)],
              versions.range(for: Self.consumerHeartbeatKey) == nil else { return nil }
        return "the group coordinator (broker \(node)) does not serve ConsumerGroupHeartbeat (KIP-848: Kafka 4.0+); use the classic group protocol"
    }

    mutating func consumerMetadataChanged(context: ComponentContext, now: Instant) {
        consumer.askedForIds = false
        consumer.topics = currentTopics(context.metadata)
    }

    /// The consumer protocol's part of a run: join, reconcile, heartbeat.
    mutating func advanceConsumer(context: ComponentContext, now: Instant, patterns: Bool) {
        if step == .needJoin, revocation == nil, joinNotBefore.map({ now >= $0 }) ?? true,
           !patterns || context.metadata.lastRefresh != nil {
            if let missing = consumerProtocolMissing(context) {
                fail(.groupProtocolUnsupported(missing))
                return
            }
            consumer.topics = currentTopics(context.metadata)
            consumer.acked = nil
            consumer.epoch = 0
            let tag = sendConsumerHeartbeat(context: context)
            step = .joining(tag: tag)
            return
        }
        if step == .stable { reconcileConsumer(context: context) }
        let member = step == .stable || (step == .leaving && leaveTag == nil && generation >= 0)
        guard member, heartbeatTag == nil else { return }
        let due = consumer.nextHeartbeat.map { now >= $0 } ?? true
        // A changed owned list (a revocation done, an assignment to acknowledge) or
        // subscription goes at once, not at the next interval.
        let changed = step == .stable && consumer.failures == 0 && consumerFields(context: context) != consumer.acked
        if due || changed { _ = sendConsumerHeartbeat(context: context) }
    }

    /// Every field as it stands now.
    func consumerFields(context: ComponentContext) -> ConsumerMembership.Fields {
        let version = context.coordinatorVersion(ConsumerGroupHeartbeatRequest.self, coordinatorKey)
        let regex = consumer.regexUnsupported || version == 0 ? nil : subscriptionRegex
        return ConsumerMembership.Fields(
            rack: config.rack, rebalanceTimeoutMs: Int32(clamping: config.rebalanceTimeout.nanoseconds / 1_000_000),
            topics: regex == nil ? consumer.topics : nil, regex: regex, assignor: config.serverAssignor,
            owned: consumerReportedOwned)
    }

    /// A ConsumerGroupHeartbeat: every field when joining or after a failure, else only what
    /// changed since the coordinator last acknowledged (the instance id always, as it names
    /// a static member).
    mutating func sendConsumerHeartbeat(context: ComponentContext) -> UInt64 {
        let version = context.coordinatorVersion(ConsumerGroupHeartbeatRequest.self, coordinatorKey)
        let full = consumerFields(context: context)
        let a = consumer.acked
        var r = ConsumerGroupHeartbeatRequest()
        r.groupId = config.groupId
        // v0: the coordinator names the member in its first answer; v1+: the member's own id.
        // With the coordinator's version not known yet, an id of our own goes pinned to v1: a
        // v0 coordinator has it refused before it leaves, and the next attempt is v0's.
        r.memberId = !memberId.isEmpty ? memberId : (version == 0 ? "" : consumer.generatedId)
        let ownIdUnchecked = memberId.isEmpty && version == nil
        r.memberEpoch = consumer.epoch
        r.instanceId = config.instanceId
        if a?.rack != full.rack { r.rackId = full.rack }
        r.rebalanceTimeoutMs = a?.rebalanceTimeoutMs == full.rebalanceTimeoutMs ? -1 : full.rebalanceTimeoutMs
        if a == nil || a!.topics != full.topics || a!.regex != full.regex {
            r.subscribedTopicNames = full.topics
            r.subscribedTopicRegex = full.regex
        }
        if a?.assignor != full.assignor { r.serverAssignor = full.assignor }
        if a?.owned != full.owned { r.topicPartitions = consumerTopicPartitions(full.owned, context: context) }
        let sent = ConsumerMembership.Sent(fields: full, memberId: r.memberId, epoch: r.memberEpoch, incarnation: consumer.incarnation)
        // The regex rides v1+ only.
        let v1 = r.subscribedTopicRegex != nil || ownIdUnchecked
        let tag = send(.consumerHeartbeat(sent), r, pin: v1 ? 1 ... Heartbeat.validVersions.upperBound : nil, maxRetries: 0)
        heartbeatTag = tag
        consumer.nextHeartbeat = nil
        return tag
    }

    func consumerTopicPartitions(_ parts: [TopicPartition], context: ComponentContext) -> [ConsumerGroupHeartbeatRequest.TopicPartitions] {
        var out: [ConsumerGroupHeartbeatRequest.TopicPartitions] = []
        var last: String?
        for tp in parts {
            guard let id = consumer.ids[tp.topic] ?? context.metadata.topicIds[tp.topic] else { continue }
            if last != tp.topic {
                var t = ConsumerGroupHeartbeatRequest.TopicPartitions()
                t.topicId = id
                out.append(t)
                last = tp.topic
            }
            out[out.count - 1].partitions.append(tp.partition)
        }
        return out
    }

    mutating func consumerHeartbeatAnswered(_ result: Result<any KafkaResponse, KafkaClientError>, sent: ConsumerMembership.Sent,
                                            context: ComponentContext, now: Instant) {
        guard sent.incarnation == consumer.incarnation else { return }
        heartbeatTag = nil
        let joining: Bool
        switch step {
        case .joining: joining = true
        case .stable, .leaving: joining = false
        default: return
        }
        let r: ConsumerGroupHeartbeatResponse
        switch result {
        case .failure(let e):
            var cause = e
            if case .retriesExhausted(_, let last) = e { cause = last }
            if case .unsupportedVersion(let key, let range) = cause, key == Self.consumerHeartbeatKey {
                if let range, range.overlaps(Heartbeat.validVersions), !consumer.versionRefused {
                    // Refused for a v1 pin: a v0 coordinator. The pattern is resolved here
                    // and sent as names, and the coordinator names the member.
                    consumer.versionRefused = true
                    if sent.fields.regex != nil { consumer.regexUnsupported = true }
                    consumerHeartbeatFailed(joining: joining, now: now, warning: nil, backoff: false)
                } else {
                    fail(.groupProtocolUnsupported("the group coordinator does not serve ConsumerGroupHeartbeat (\(cause)); use the classic group protocol"))
                }
                return
            }
            if case .encodingFailed = cause { fail(.request(e)); return }
            if let code = Self.refusedForGood(e) { fail(.broker(code, "ConsumerGroupHeartbeat refused: \(e)")); return }
            consumerHeartbeatFailed(joining: joining, now: now, warning: "ConsumerGroupHeartbeat failed: \(e)")
            return
        case .success(let any):
            guard let c = any as? ConsumerGroupHeartbeatResponse else { return }
            r = c
        }
        let code = KafkaErrorCode(r.errorCode)
        let said = r.errorMessage.map { ": \($0)" } ?? ""
        switch code {
        case .noError:
            break
        case .unknownMemberId, .fencedMemberEpoch:
            // Fenced: every partition is lost (no commit), then join again at epoch 0.
            emit(.warning("fenced by the group coordinator (\(code))\(said); partitions lost, joining again"))
            droppedOut(code, rejoin: step != .leaving)
            if joining {
                // Refused while joining: not at once again.
                joinNotBefore = now + backoff(joinAttempts)
                joinAttempts += 1
            }
            return
        case .notCoordinator, .coordinatorNotAvailable:
            outputs.append(.coordinatorMoved(coordinatorKey))
            consumerHeartbeatFailed(joining: joining, now: now, warning: nil)
            return
        case .coordinatorLoadInProgress:
            consumerHeartbeatFailed(joining: joining, now: now, warning: nil)
            return
        case .unsupportedVersion:
            fail(.groupProtocolUnsupported("the group coordinator answered ConsumerGroupHeartbeat with UNSUPPORTED_VERSION\(said); use the classic group protocol"))
            return
        default:
            // UNSUPPORTED_ASSIGNOR, UNRELEASED_INSTANCE_ID, GROUP_MAX_SIZE_REACHED,
            // INVALID_REQUEST, INVALID_REGULAR_EXPRESSION, FENCED_INSTANCE_ID, authorization:
            // the member cannot go on as configured. Retriable codes are retried.
            if code.isRetriable {
                consumerHeartbeatFailed(joining: joining, now: now, warning: "ConsumerGroupHeartbeat: \(code)\(said)")
            } else {
                fail(.broker(code, "ConsumerGroupHeartbeat refused\(said)"))
            }
            return
        }
        if let id = r.memberId, !id.isEmpty { memberId = id } else if memberId.isEmpty { memberId = sent.memberId }
        consumer.failures = 0
        consumer.acked = sent.fields
        lastHeartbeatOK = now
        if r.heartbeatIntervalMs > 0 { consumer.interval = .milliseconds(UInt64(r.heartbeatIntervalMs)) }
        consumer.nextHeartbeat = now + consumer.interval
        guard step != .leaving || r.memberEpoch >= 0 else { return }
        consumer.epoch = r.memberEpoch
        generation = r.memberEpoch
        ownedGeneration = r.memberEpoch
        if joining {
            step = .stable
            joinAttempts = 0
            if config.autocommitInterval != nil && nextAutocommit == nil { nextAutocommit = now + config.autocommitInterval! }
            emit(.joined(memberId: memberId, generation: generation, leader: false, protocolName: GroupProtocol.consumer.rawValue))
        }
        if let a = r.assignment {
            var t: [KafkaUUID: [Int32]] = [:]
            for x in a.topicPartitions { t[x.topicId, default: []].append(contentsOf: x.partitions) }
            consumer.target = t
        }
        guard step == .stable else { return }
        // Partitions this heartbeat reported (and the coordinator still assigns) are this
        // member's now: their committed offsets are fetched, then fetching starts.
        let reported = Set(sent.fields.owned)
        learnTopicNames(context)
        let target = resolvedTarget().partitions
        let take = consumer.pendingAdd.filter { reported.contains($0) && target.contains($0) }
        consumer.pendingAdd.removeAll { reported.contains($0) }
        if !take.isEmpty {
            owned = (owned + take).sorted()
            awaitingOffsets.formUnion(take)
            offsetFetchAttempts = 0
            offsetFetchRetryAt = nil
        }
        reconcileConsumer(context: context)
    }

    /// The heartbeat got no usable answer: the coordinator's view of this member is unknown,
    /// so the next one (after a backoff) sends every field.
    mutating func consumerHeartbeatFailed(joining: Bool, now: Instant, warning: String?, backoff: Bool = true) {
        if let warning { emit(.warning(warning)) }
        consumer.acked = nil
        let delay = backoff ? self.backoff(consumer.failures) : .zero
        consumer.failures += backoff ? 1 : 0
        if joining {
            step = .needJoin
            joinNotBefore = now + delay
        } else {
            consumer.nextHeartbeat = now + delay
        }
    }

    /// Names the target's topic ids from metadata, once each (kept while owned, whatever
    /// metadata says later, so the owned list can always be reported).
    mutating func learnTopicNames(_ context: ComponentContext) {
        guard let target = consumer.target, target.keys.contains(where: { consumer.names[$0] == nil }) else { return }
        var byId: [KafkaUUID: String] = [:]
        for (name, id) in context.metadata.topicIds { byId[id] = name }
        for id in target.keys where consumer.names[id] == nil {
            guard let name = byId[id] else { continue }
            consumer.names[id] = name
            consumer.ids[name] = id
        }
    }

    /// The target assignment by name; ids no metadata names yet are listed apart.
    func resolvedTarget() -> (partitions: Set<TopicPartition>, unresolved: [KafkaUUID]) {
        guard let target = consumer.target else { return ([], []) }
        var parts = Set<TopicPartition>()
        var unresolved: [KafkaUUID] = []
        for (id, ps) in target {
            guard let name = consumer.names[id] else { unresolved.append(id); continue }
            for p in ps { parts.insert(TopicPartition(name, p)) }
        }
        return (parts, unresolved)
    }

    /// Moves toward the target: first revoke what is no longer assigned (the owned list
    /// shrinks once that revocation is done, which sends it), then report what is new.
    mutating func reconcileConsumer(context: ComponentContext) {
        guard step == .stable, revocation == nil, consumer.target != nil else { return }
        learnTopicNames(context)
        let (mine, unresolved) = resolvedTarget()
        if !unresolved.isEmpty && !consumer.askedForIds {
            // A topic id metadata does not name yet (a topic just created): refresh now.
            consumer.askedForIds = true
            let want: [String]? = config.subscription.patterns.isEmpty ? config.subscription.topics.sorted() : nil
            outputs.append(.metadata(topics: want, refresh: .urgent))
        }
        consumer.pendingAdd.removeAll { !mine.contains($0) }
        let revoke = owned.filter { !mine.contains($0) }
        if !revoke.isEmpty {
            startRevocation(revoke, then: .nothing)
            return
        }
        let held = Set(owned).union(consumer.pendingAdd)
        let add = mine.filter { !held.contains($0) }
        if !add.isEmpty { consumer.pendingAdd = (consumer.pendingAdd + add).sorted() }
    }

    /// Leaving: epoch -1, or -2 for a static member (the coordinator keeps its assignment
    /// for its return within the session timeout).
    mutating func sendConsumerLeave() {
        guard !memberId.isEmpty || consumer.epoch > 0 else {
            finishLeave()
            return
        }
        var r = ConsumerGroupHeartbeatRequest()
        r.groupId = config.groupId
        r.memberId = memberId.isEmpty ? consumer.generatedId : memberId
        r.memberEpoch = consumerLeaveEpoch
        r.instanceId = config.instanceId
        leaveTag = send(.leave, r, maxRetries: 1)
    }
}
