import FakeCluster
import KafkaStateMachines

/// A consumer group in simulation: several member engines (each a ClientEngine running a
/// group member) against one FakeCluster over a simulated network with seeded latency.
/// Records are written into the log before the run; members join, leave and crash on the
/// plan's schedule; a member's revocations are answered after a seeded "user" delay.
/// Invariants are checked as events happen and at the end (`GroupSimulation.Result`).
///
/// This is the group's own harness while the scenario format learns about groups: the
/// single-engine `Simulation` drives one client, this one drives many.
package struct GroupSimulation {
    package enum MemberEvent: Sendable, Equatable {
        case join(Int), leave(Int), crash(Int)
    }

    package struct Plan: Sendable {
        package var seed: UInt64
        package var brokers = 3
        package var topic = "g"
        package var partitions: Int32 = 6
        package var recordsPerPartition = 40
        /// Members 0 ..< initialMembers join at time 0.
        package var initialMembers = 3
        package var balancers: [any GroupBalancer]
        package var staticMembers = false
        package var sessionTimeoutMs: UInt64 = 6_000
        package var rebalanceTimeoutMs: UInt64 = 10_000
        package var heartbeatMs: UInt64 = 500
        package var autocommitMs: UInt64? = 1_000
        package var commitOnRevoke = true
        /// Scheduled membership changes, at virtual milliseconds.
        package var events: [(at: UInt64, event: MemberEvent)] = []
        /// Virtual time the run lasts; the group must have settled by then.
        package var durationMs: UInt64 = 60_000
        /// Network latency per delivery, drawn uniformly (milliseconds).
        package var latencyMs: ClosedRange<UInt64> = 1 ... 5
        /// The "user's" time to handle a revocation, drawn uniformly (milliseconds).
        package var revocationMs: ClosedRange<UInt64> = 0 ... 50

        package init(seed: UInt64, balancers: [any GroupBalancer]) {
            self.seed = seed
            self.balancers = balancers
        }
    }

    package struct Result: Sendable {
        package var violations: [String]
        package var hash: UInt64
        package var rebalances: Int
        package var delivered: Int
        package var duplicates: Int
        package var ok: Bool { violations.isEmpty }
    }

    enum Event {
        case plan(Int)
        case dialed(member: Int, life: Int, UInt64)
        case toBroker(member: Int, life: Int, UInt64, [UInt8])
        case toClient(member: Int, life: Int, UInt64, [UInt8])
        case brokerClosed(member: Int, life: Int, UInt64)
        case revocationHandled(member: Int, life: Int, UInt64)
    }

    struct Member {
        var engine: ClientEngine?
        /// Incremented at every start: events for an earlier life are dropped.
        var life = 0
        var links: [UInt64: FakeConnectionID] = [:]
        /// When the last delivery on each link is due (each link stays in order).
        var linkClock: [UInt64: UInt64] = [:]
        var owned: Set<TopicPartition> = []
        var consumed: [TopicPartition: Int64] = [:]
        var leaving = false
        var sawLost = false
    }

    let plan: Plan
    var cluster: FakeCluster
    var members: [Member]
    var queue = EventQueue<Event>()
    var now: UInt64 = 0
    var rng: SeededGenerator
    var violations: [String] = []
    var digest = ActionDigest()
    /// Every (partition, offset) delivered, with how many times.
    var deliveries: [TopicPartition: [Int64: Int]] = [:]
    var lastCommitted: [TopicPartition: Int64] = [:]
    var rebalances = 0
    /// The members' warnings, in order (for diagnosis; not violations).
    package var warnings: [String] = []
    var nextPromise: UInt64 = 1
    var crashed = false
    let contexts = CompressionContexts()

    package init(_ plan: Plan) {
        self.plan = plan
        var master = SeededGenerator(seed: plan.seed)
        rng = master.fork()
        let brokers = (0 ..< plan.brokers).map { FakeClusterConfig.Broker(nodeId: Int32($0 + 1), host: "broker\($0 + 1)", port: 9092) }
        var config = FakeClusterConfig(brokers: brokers, seed: master.next(), autoCreateTopics: false,
                                       topics: [.init(name: plan.topic, partitions: plan.partitions, replicationFactor: Int16(min(plan.brokers, 3)))])
        config.minSessionTimeoutMs = 1_000
        cluster = FakeCluster(config)
        let count = max(plan.initialMembers, (plan.events.map { e -> Int in
            switch e.event { case .join(let i), .leave(let i), .crash(let i): return i + 1 }
        }.max() ?? 0))
        members = Array(repeating: Member(), count: count)
    }

    static let ms: UInt64 = 1_000_000

    package mutating func run() -> Result {
        writeRecords()
        for i in 0 ..< plan.initialMembers { start(i) }
        for (i, e) in plan.events.enumerated() { queue.push(at: e.at * Self.ms, .plan(i)) }
        let end = plan.durationMs * Self.ms
        var steps = 0
        while steps < 5_000_000 {
            steps += 1
            var next = queue.nextTime ?? UInt64.max
            for m in members { if let d = m.engine?.nextDeadline() { next = min(next, d.nanoseconds) } }
            if let d = cluster.nextDeadline { next = min(next, d.nanoseconds) }
            guard next <= end else { break }
            now = max(now, next)
            if let t = queue.nextTime, t <= now, let (_, e) = queue.pop() {
                handle(e)
                continue
            }
            for i in members.indices where members[i].engine?.nextDeadline().map({ $0.nanoseconds <= now }) ?? false {
                feed(i, .tick)
            }
            if let d = cluster.nextDeadline, d.nanoseconds <= now {
                deliver(cluster.tick(now: Instant(nanoseconds: now)))
            }
        }
        now = end
        checkSettled()
        var dup = 0, total = 0
        for (_, offs) in deliveries { for (_, n) in offs { total += 1; dup += n - 1 } }
        if plan.commitOnRevoke && !crashed && !members.contains(where: \.sawLost) && dup > 0 {
            violations.append("\(dup) records delivered twice without a crash or a lost partition (commit on revoke should prevent it)")
        }
        return Result(violations: violations, hash: digest.value, rebalances: rebalances, delivered: total, duplicates: dup)
    }

    // MARK: members

    mutating func start(_ i: Int) {
        members[i].life += 1
        members[i].links = [:]
        members[i].linkClock = [:]
        members[i].owned = []
        members[i].consumed = [:]
        members[i].leaving = false
        var ec = EngineConfig(seeds: (1 ... plan.brokers).map { BrokerAddress(host: "broker\($0)", port: 9092) })
        ec.fetcher.maxWait = .milliseconds(100)
        var engine = ClientEngine(config: ec, seed: rng.next())
        var gc = GroupConfig(groupId: "sim-group", instanceId: plan.staticMembers ? "member-\(i)" : nil,
                             subscription: TopicSubscription(topics: [plan.topic]), balancers: plan.balancers)
        gc.sessionTimeout = .milliseconds(plan.sessionTimeoutMs)
        gc.rebalanceTimeout = .milliseconds(plan.rebalanceTimeoutMs)
        gc.heartbeatInterval = .milliseconds(plan.heartbeatMs)
        gc.autocommitInterval = plan.autocommitMs.map { .milliseconds($0) }
        gc.commitOnRevoke = plan.commitOnRevoke
        engine.handle(.joinGroup(gc), now: Instant(nanoseconds: now))
        members[i].engine = engine
        drain(i)
    }

    mutating func crash(_ i: Int) {
        guard members[i].engine != nil else { return }
        crashed = true
        for (_, f) in members[i].links.sorted(by: { $0.key < $1.key }) { cluster.disconnect(f) }
        members[i].engine = nil
        members[i].owned = []
    }

    mutating func handle(_ e: Event) {
        switch e {
        case .plan(let k):
            switch plan.events[k].event {
            case .join(let i): if members[i].engine == nil { start(i) }
            case .crash(let i): crash(i)
            case .leave(let i):
                guard members[i].engine != nil, !members[i].leaving else { return }
                members[i].leaving = true
                nextPromise += 1
                feed(i, .leaveGroup(PromiseID(nextPromise)))
            }
        case .dialed(let i, let life, let c):
            guard members[i].life == life, members[i].engine != nil else { return }
            feed(i, members[i].links[c] != nil ? .connectionOpened(ConnectionID(c)) : .connectionFailed(ConnectionID(c), reason: .refused("down")))
        case .toBroker(let i, let life, let c, let bytes):
            guard members[i].life == life, let f = members[i].links[c] else { return }
            deliver(cluster.receive(f, bytes, now: Instant(nanoseconds: now)))
        case .toClient(let i, let life, let c, let bytes):
            guard members[i].life == life, members[i].links[c] != nil else { return }
            feed(i, .bytesReceived(ConnectionID(c), bytes))
        case .brokerClosed(let i, let life, let c):
            guard members[i].life == life, members[i].links.removeValue(forKey: c) != nil else { return }
            feed(i, .connectionClosed(ConnectionID(c)))
        case .revocationHandled(let i, let life, let id):
            guard members[i].life == life, members[i].engine != nil else { return }
            feed(i, .groupRevocationHandled(id))
        }
    }

    mutating func feed(_ i: Int, _ input: EngineInput) {
        guard members[i].engine != nil else { return }
        members[i].engine!.handle(input, now: Instant(nanoseconds: now))
        drain(i)
    }

    func latency(_ r: inout SeededGenerator) -> UInt64 {
        UInt64.random(in: plan.latencyMs, using: &r) * Self.ms
    }

    /// When a delivery on this link is due: latency drawn, never before the previous one.
    mutating func due(_ i: Int, _ c: UInt64) -> UInt64 {
        let t = max(now + latency(&rng), members[i].linkClock[c] ?? 0)
        members[i].linkClock[c] = t
        return t
    }

    mutating func deliver(_ outputs: [FakeOutput]) {
        for o in outputs {
            let f: FakeConnectionID
            switch o {
            case .send(let x, _), .close(let x, _): f = x
            }
            guard let (i, c) = owner(of: f) else { continue }
            switch o {
            case .send(_, let bytes): queue.push(at: due(i, c), .toClient(member: i, life: members[i].life, c, bytes))
            case .close: queue.push(at: due(i, c), .brokerClosed(member: i, life: members[i].life, c))
            }
        }
    }

    func owner(of f: FakeConnectionID) -> (Int, UInt64)? {
        for i in members.indices {
            for (c, x) in members[i].links where x == f { return (i, c) }
        }
        return nil
    }

    mutating func drain(_ i: Int) {
        // Polled in place: a copy of the engine per action would copy its action list too.
        while members[i].engine != nil, let a = members[i].engine!.pollAction() {
            digest.record(a)
            act(i, a)
        }
    }

    mutating func act(_ i: Int, _ a: Action) {
        let life = members[i].life
        switch a {
        case .open(let c, _, let host, _, _):
            let node = Int32(host.dropFirst("broker".count)) ?? -1
            if cluster.isReachable(broker: node), let f = cluster.connect(broker: node) { members[i].links[c.rawValue] = f }
            queue.push(at: now + latency(&rng), .dialed(member: i, life: life, c.rawValue))
        case .write(let c, let bytes):
            guard members[i].links[c.rawValue] != nil else { return }
            queue.push(at: due(i, c.rawValue), .toBroker(member: i, life: life, c.rawValue, bytes))
        case .close(let c):
            if let f = members[i].links.removeValue(forKey: c.rawValue) { cluster.disconnect(f) }
        case .fetched(let batch):
            fetched(i, batch)
        case .group(let event):
            groupEvent(i, event)
        case .complete, .delivery, .producer:
            break
        }
    }

    mutating func fetched(_ i: Int, _ batch: FetchBatch) {
        var positions: [TopicPartition: CommitPosition] = [:]
        for p in batch.partitions {
            let tp = p.topicPartition
            if !members[i].owned.contains(tp) {
                violations.append("member \(i) was given records of \(tp.topic)/\(tp.partition), which it does not own, at \(now / Self.ms) ms")
            }
            let d = p.decode(contexts: contexts)
            for r in d.records {
                deliveries[tp, default: [:]][r.offset, default: 0] += 1
            }
            if p.nextOffset > (members[i].consumed[tp] ?? -1) {
                members[i].consumed[tp] = p.nextOffset
                positions[tp] = CommitPosition(offset: p.nextOffset)
            }
        }
        if batch.bytes > 0 { feed(i, .fetchConsumed(batch.bytes)) }
        if !positions.isEmpty { feed(i, .groupConsumed(positions)) }
    }

    mutating func groupEvent(_ i: Int, _ event: GroupEvent) {
        switch event {
        case .joined:
            rebalances += 1
        case .assigned(let parts, _):
            for tp in parts {
                for j in members.indices where j != i && members[j].engine != nil && members[j].owned.contains(tp) {
                    violations.append("\(tp.topic)/\(tp.partition) assigned to member \(i) while member \(j) owns it, at \(now / Self.ms) ms")
                }
                members[i].owned.insert(tp)
            }
        case .revoking(let id, let parts):
            members[i].owned.subtract(parts)
            let delay = UInt64.random(in: plan.revocationMs, using: &rng) * Self.ms
            queue.push(at: now + delay, .revocationHandled(member: i, life: members[i].life, id))
        case .lost(let parts):
            members[i].owned.subtract(parts)
            members[i].sawLost = true
        case .committed(let report):
            for (tp, pos) in report.offsets.sorted(by: { $0.key < $1.key }) where report.failed[tp] == nil {
                if let last = lastCommitted[tp], pos.offset < last {
                    violations.append("committed offset of \(tp.topic)/\(tp.partition) went back from \(last) to \(pos.offset) (member \(i))")
                }
                lastCommitted[tp] = max(lastCommitted[tp] ?? 0, pos.offset)
            }
        case .left:
            for (_, f) in members[i].links.sorted(by: { $0.key < $1.key }) { cluster.disconnect(f) }
            members[i].engine = nil
            members[i].owned = []
        case .failed(let e):
            violations.append("member \(i) failed: \(e)")
        case .warning(let w):
            warnings.append("member \(i) at \(now / Self.ms) ms: \(w)")
        }
    }

    // MARK: records and checks

    mutating func writeRecords() {
        var seq: Int64 = 0
        for p in 0 ..< plan.partitions {
            let tp = TopicPartition(plan.topic, p)
            guard let leader = cluster.partitionInfo(tp)?.leader, var conn = DirectConnection(broker: leader, cluster: &cluster) else {
                violations.append("cannot write records to \(tp.topic)/\(p)")
                continue
            }
            var records: [EncodableRecord] = []
            for _ in 0 ..< plan.recordsPerPartition {
                seq += 1
                records.append(EncodableRecord(value: Array("r\(seq)".utf8), timestamp: 0))
            }
            guard let batch = try? RecordBatchEncoder.encode(records, options: RecordBatchOptions(), contexts: contexts) else { continue }
            var pd = ProduceRequest.PartitionProduceData()
            pd.index = p
            pd.records = batch
            var td = ProduceRequest.TopicProduceData()
            td.name = plan.topic
            td.partitionData = [pd]
            var r = ProduceRequest()
            r.acks = 1
            r.timeoutMs = 5_000
            r.topicData = [td]
            let resp = conn.call(r, version: 8, cluster: &cluster, now: 0)
            if resp?.responses.first?.partitionResponses.first?.errorCode != 0 {
                violations.append("writing records to \(tp.topic)/\(p) failed")
            }
            conn.close(&cluster)
        }
    }

    mutating func checkSettled() {
        let live = members.indices.filter { members[$0].engine != nil }
        for p in 0 ..< plan.partitions {
            let tp = TopicPartition(plan.topic, p)
            let owners = live.filter { members[$0].owned.contains(tp) }
            if !live.isEmpty && owners.count != 1 {
                violations.append("after settling, \(tp.topic)/\(p) is owned by \(owners.count) live members \(owners)")
            }
            let got = deliveries[tp] ?? [:]
            let missing = (0 ..< Int64(plan.recordsPerPartition)).filter { got[$0] == nil }
            if !live.isEmpty && !missing.isEmpty {
                violations.append("\(tp.topic)/\(p): \(missing.count) records never delivered (first \(missing[0]))")
            }
        }
    }
}
