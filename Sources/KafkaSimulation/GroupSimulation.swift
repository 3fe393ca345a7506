import FakeCluster
import KafkaProtocol
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
        /// Starts the member (nothing if it runs).
        case join(Int)
        /// The member leaves the group (LeaveGroup; a static member's leave only stops it).
        case leave(Int)
        /// The member stops without a word: its session ends later.
        case crash(Int)
        /// A crash then a start at once (for a static member: the same instance id again).
        case restart(Int)

        var member: Int {
            switch self { case .join(let i), .leave(let i), .crash(let i), .restart(let i): return i }
        }

        var name: String {
            switch self { case .join: "join"; case .leave: "leave"; case .crash: "crash"; case .restart: "restart" }
        }
    }

    package struct Plan: Sendable {
        package var seed: UInt64
        package var group = "sim-group"
        package var brokers = 3
        package var topic = "g"
        package var partitions: Int32 = 6
        package var recordsPerPartition = 40
        /// Members 0 ..< initialMembers join at time 0.
        package var initialMembers = 3
        package var balancers: [any GroupBalancer]
        /// Each run draws one built-in balancer from the seed for every member instead.
        package var balancersRandom = false
        /// Members with balancers of their own (the rest use `balancers`).
        package var memberBalancers: [Int: [any GroupBalancer]] = [:]
        /// Every member static (group.instance.id "member-I"), or only these.
        package var staticMembers = false
        package var staticSome: Set<Int> = []
        package var sessionTimeoutMs: UInt64 = 6_000
        package var rebalanceTimeoutMs: UInt64 = 10_000
        package var heartbeatMs: UInt64 = 500
        package var autocommitMs: UInt64? = 1_000
        package var commitOnRevoke = true
        /// Scheduled membership changes, at virtual milliseconds.
        package var events: [(at: UInt64, event: MemberEvent)] = []
        /// Random membership changes drawn from the seed (count, until in milliseconds).
        package var randomMembers: (count: Int, untilMs: UInt64)? = nil
        /// Members whose "user" holds each revocation longer than the rebalance timeout.
        package var slowMembers: Set<Int> = []
        /// Scripted faults (times in nanoseconds, as in `Scenario`).
        package var faults: [Scenario.ScriptedFault] = []
        /// Random faults drawn from the seed; `kinds` empty: every kind.
        package var randomFaults: (count: Int, untilMs: UInt64, kinds: [String])? = nil
        /// The last stretch of the run without faults or membership changes: when it starts
        /// every fault heals (stopped brokers restart, cut-off ones reconnect) and, if no
        /// member runs, member 0 starts; the group must settle before the end.
        package var settleMs: UInt64 = 0
        /// Virtual time the run lasts; the group must have settled by then.
        package var durationMs: UInt64 = 60_000
        /// `transaction-version N`: as in `Scenario` (at 2, a 4.0 cluster with KIP-890 part 2).
        package var transactionVersion: Int16 = 0
        /// The members' periodic metadata refresh.
        package var metadataMaxAgeMs: UInt64 = 5_000
        /// Network latency per delivery, drawn uniformly (milliseconds).
        package var latencyMs: ClosedRange<UInt64> = 1 ... 5
        /// The "user's" time to handle a revocation, drawn uniformly (milliseconds).
        package var revocationMs: ClosedRange<UInt64> = 0 ... 50
        /// Invariant names to check (the rest are not reported); empty: all.
        package var invariants: [String] = []
        /// The group is an exactly-once copy pipeline into another topic (GroupCopy.swift).
        package var copy: CopyPlan? = nil
        /// The membership protocol the members start with (`protocol consumer`: KIP-848,
        /// the cluster then emulates Kafka 4.0).
        package var groupProtocol: GroupProtocol = .classic
        /// Consumer protocol: the coordinator's assignor every member asks for (nil: the
        /// group's default); `assignorRandom`: one drawn per member slot from the seed.
        package var serverAssignor: String? = nil
        package var assignorRandom = false
        /// Whole-group protocol switches (GroupSimulation+Switch.swift): scripted, at
        /// virtual milliseconds, and drawn from the seed (count, until in milliseconds).
        package var switches: [UInt64] = []
        package var randomSwitches: (count: Int, untilMs: UInt64)? = nil

        package init(seed: UInt64, balancers: [any GroupBalancer]) {
            self.seed = seed
            self.balancers = balancers
        }

        func isStatic(_ i: Int) -> Bool { staticMembers || staticSome.contains(i) }
        var usesSwitches: Bool { !switches.isEmpty || randomSwitches != nil }
        /// A member may speak KIP-848's protocol in this run: the cluster emulates 4.0.
        var usesConsumerProtocol: Bool { groupProtocol == .consumer || usesSwitches }
        func balancers(of i: Int) -> [any GroupBalancer] { memberBalancers[i] ?? balancers }
        var quietAtMs: UInt64 { durationMs - min(settleMs, durationMs) }
    }

    package static let invariantNames = ["exclusive-owner", "generation-fetch", "commits-forward", "settled-owners",
                                         "delivered", "exactly-once", "member-failed", "determinism",
                                         "copied-once", "aborted-invisible", "copy-offsets", "txn-closed", "txn-timeout",
                                         "coordinator-owned"]

    package struct Result: Sendable {
        package var violations: [String]
        package var hash: UInt64
        package var actions: Int
        package var rebalances: Int
        package var delivered: Int
        package var duplicates: Int
        package var faults: Int
        package var memberEvents: Int
        package var virtualMs: UInt64
        /// Copy mode: transactions committed and aborted (on purpose or forced).
        package var copyCommits = 0
        package var copyAborts = 0
        package var ok: Bool { violations.isEmpty }
    }

    enum Event {
        case plan(Int)
        case fault(Int)
        case quiet
        case dialed(member: Int, life: Int, UInt64)
        case toBroker(member: Int, life: Int, UInt64, [UInt8])
        case toClient(member: Int, life: Int, UInt64, [UInt8])
        case brokerClosed(member: Int, life: Int, UInt64)
        case revocationHandled(member: Int, life: Int, UInt64)
        case copyBegin(member: Int, life: Int, UInt64)
        /// The k-th protocol switch begins (`switchTimes[k]`).
        case switchProtocol(Int)
        /// A switch in progress looks again whether the group is empty.
        case switchCheck
        /// The member starts once the coordinator no longer holds its static instance id.
        case startWhenReleased(member: Int)
    }

    struct Member {
        var engine: ClientEngine?
        /// Incremented at every start: events for an earlier life are dropped.
        var life = 0
        var links: [UInt64: FakeConnectionID] = [:]
        var linkBroker: [UInt64: Int32] = [:]
        /// When the last delivery on each link is due (each link stays in order).
        var linkClock: [UInt64: UInt64] = [:]
        var owned: Set<TopicPartition> = []
        var consumed: [TopicPartition: Int64] = [:]
        var generation: Int32 = -1
        var memberId = ""
        var cooperative = false
        /// The protocol this member's life speaks.
        var groupProtocol: GroupProtocol = .classic
        var leaving = false
        /// A consumer-protocol static member's restart: it leaves (epoch -2), then starts.
        var restartAfterLeave = false
        var sawLost = false
        /// Copy mode: the transaction loop's state (GroupCopy.swift).
        var copy = CopyState()
    }

    let plan: Plan
    var cluster: FakeCluster
    var members: [Member]
    var queue = EventQueue<Event>()
    var now: UInt64 = 0
    var rng: SeededGenerator
    var checker = GroupChecker()
    var digest = ActionDigest()
    var rebalances = 0
    /// The members' warnings, in order (for diagnosis; not violations).
    package var warnings: [String] = []
    /// What happened to the membership and the cluster, in order (for diagnosis).
    package var log: [String] = []
    /// Every group event of every member goes into `log` too (kgo sim run with KGO_SIM_LOG=2).
    package var traceEvents = false
    /// When set (`kgo sim run --timeline`), the run drawn on its time axis (SimTimeline).
    package var timeline: SimTimeline? = nil
    var nextPromise: UInt64 = 1
    var copyCommits = 0
    var copyAborts = 0
    var crashed = false
    var commitFailed = false
    var quiet = false
    /// The membership changes and faults of this run (scripted and drawn), in time order.
    package private(set) var events: [(at: UInt64, event: MemberEvent)] = []
    package private(set) var faults: [Scenario.ScriptedFault] = []
    var stopped: [Int32] = []
    var overdueReported = false
    var isolated: [Int32] = []
    /// Records written per partition (partitions added during the run get theirs then).
    var written: [TopicPartition: Int64] = [:]
    var partitionCount: Int32
    let contexts = CompressionContexts()
    /// The protocol members start with now (flipped by each switch).
    var groupProtocol: GroupProtocol
    /// Consumer protocol: each member slot's assignor (nil: the group's default).
    var assignors: [String?] = []
    /// The switches of this run (scripted and drawn), in time order (milliseconds).
    package private(set) var switchTimes: [UInt64] = []
    /// A switch in progress: the members to start again once the group is empty, and when
    /// it began (milliseconds).
    var switching: (members: [Int], sinceMs: UInt64)? = nil
    var switchesDone = 0

    package init(_ given: Plan) {
        var plan = given
        var master = SeededGenerator(seed: plan.seed)
        rng = master.fork()
        if plan.balancersRandom {
            let names = ["range", "roundrobin", "sticky", "cooperative-sticky"]
            plan.balancers = [BuiltInBalancers.named(names[Int.random(in: 0 ..< names.count, using: &master)])!]
        }
        self.plan = plan
        let brokers = (0 ..< plan.brokers).map { FakeClusterConfig.Broker(nodeId: Int32($0 + 1), host: "broker\($0 + 1)", port: 9092) }
        var topics: [FakeClusterConfig.Topic] = [.init(name: plan.topic, partitions: plan.partitions, replicationFactor: Int16(min(plan.brokers, 3)))]
        if let c = plan.copy {
            topics.append(.init(name: c.topic, partitions: c.partitions, replicationFactor: Int16(min(plan.brokers, 3))))
        }
        var config = FakeClusterConfig(brokers: brokers, seed: master.next(), autoCreateTopics: false, topics: topics)
        config.minSessionTimeoutMs = 1_000
        config.transactionCoordinatorLoadMs = Simulation.transactionCoordinatorLoadMs
        config.transactionVersion = plan.transactionVersion
        if plan.transactionVersion >= 2 { config.release = .v4_0 }
        if plan.usesConsumerProtocol {
            // KIP-848: ConsumerGroupHeartbeat from 4.0; the session and the heartbeat
            // interval are the coordinator's settings in this protocol.
            config.release = .v4_0
            config.consumerGroupSessionTimeoutMs = Int32(clamping: plan.sessionTimeoutMs)
            config.consumerGroupHeartbeatIntervalMs = Int32(clamping: plan.heartbeatMs)
        }
        cluster = FakeCluster(config)
        partitionCount = plan.partitions
        var draw = master.fork()
        var evs = plan.events
        var pool = max(plan.initialMembers, (plan.events.map { $0.event.member + 1 }.max() ?? 0))
        if let r = plan.randomMembers {
            pool = max(pool, plan.initialMembers + 2)
            for _ in 0 ..< r.count {
                let at = r.untilMs == 0 ? 0 : UInt64.random(in: 0 ..< r.untilMs, using: &draw)
                let m = Int.random(in: 0 ..< pool, using: &draw)
                let e: MemberEvent
                switch Int.random(in: 0 ..< 4, using: &draw) {
                case 0: e = .join(m)
                case 1: e = .leave(m)
                case 2: e = .crash(m)
                default: e = .restart(m)
                }
                evs.append((at: at, event: e))
            }
        }
        events = evs.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        var fs = plan.faults
        if let r = plan.randomFaults {
            fs += GroupFaultSchedule.random(count: r.count, untilMs: r.untilMs, kinds: r.kinds, plan: plan, rng: &draw)
        }
        faults = fs.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        // Drawn after the faults, so adding these directives changed no older seed's draws.
        var sw = plan.switches
        if let r = plan.randomSwitches {
            for _ in 0 ..< r.count { sw.append(r.untilMs == 0 ? 0 : UInt64.random(in: 0 ..< r.untilMs, using: &draw)) }
        }
        switchTimes = sw.sorted()
        groupProtocol = plan.groupProtocol
        assignors = (0 ..< pool).map { _ in
            plan.assignorRandom ? (Bool.random(using: &draw) ? "uniform" : "range") : plan.serverAssignor
        }
        members = Array(repeating: Member(), count: pool)
    }

    static let ms: UInt64 = 1_000_000

    package mutating func run() -> Result {
        for p in 0 ..< plan.partitions { writeRecords(TopicPartition(plan.topic, p)) }
        for i in 0 ..< plan.initialMembers { start(i) }
        for (i, e) in events.enumerated() { queue.push(at: e.at * Self.ms, .plan(i)) }
        for (i, f) in faults.enumerated() { queue.push(at: f.at, .fault(i)) }
        for (k, t) in switchTimes.enumerated() { queue.push(at: t * Self.ms, .switchProtocol(k)) }
        if plan.settleMs > 0 { queue.push(at: plan.quietAtMs * Self.ms, .quiet) }
        let end = plan.durationMs * Self.ms
        timeline?.leadership(of: cluster, at: now)
        var steps = 0
        while steps < 5_000_000 {
            steps += 1
            var next = queue.nextTime ?? UInt64.max
            for i in members.indices { if let d = engineDeadline(i) { next = min(next, d) } }
            if let d = cluster.nextDeadline { next = min(next, d.nanoseconds) }
            guard next <= end else { break }
            now = max(now, next)
            if plan.copy != nil, !overdueReported { checkOverdue() }
            if let t = queue.nextTime, t <= now, let (_, e) = queue.pop() {
                handle(e)
                continue
            }
            for i in members.indices where engineDeadline(i).map({ $0 <= now }) ?? false {
                feed(i, .tick)
            }
            if let d = cluster.nextDeadline, d.nanoseconds <= now {
                deliver(cluster.tick(now: Instant(nanoseconds: now)))
            }
            if let timeline {
                timeline.leadership(of: cluster, at: now)
                if let first = checker.violations.first { timeline.violated(at: now, first) }
            }
        }
        now = end
        readCoordinatorOffsets()
        checkSettled()
        checker.exactlyOnce(applies: plan.commitOnRevoke && !crashed && !commitFailed && !members.contains(where: \.sawLost))
        if plan.copy != nil { checkCopy() }
        var violations = checker.violations
        if !plan.invariants.isEmpty {
            violations = violations.filter { v in plan.invariants.contains { v.hasPrefix($0 + ":") } }
        }
        if let timeline {
            if let first = violations.first { timeline.violated(at: now, first) }
            timeline.close(at: now)
        }
        return Result(violations: violations, hash: digest.value, actions: Int(digest.actions), rebalances: rebalances,
                      delivered: checker.deliveredCount, duplicates: checker.duplicates, faults: faults.count,
                      memberEvents: events.count, virtualMs: plan.durationMs, copyCommits: copyCommits, copyAborts: copyAborts)
    }

    var ownedEverywhere: Set<TopicPartition> { members.reduce(into: []) { $0.formUnion($1.owned) } }

    // MARK: members

    mutating func start(_ i: Int) {
        members[i].life += 1
        members[i].links = [:]
        members[i].linkBroker = [:]
        members[i].linkClock = [:]
        members[i].owned = []
        members[i].consumed = [:]
        members[i].leaving = false
        members[i].restartAfterLeave = false
        members[i].generation = -1
        members[i].memberId = ""
        members[i].copy = CopyState()
        members[i].groupProtocol = groupProtocol
        var ec = EngineConfig(seeds: (1 ... plan.brokers).map { BrokerAddress(host: "broker\($0)", port: 9092) })
        ec.fetcher.maxWait = .milliseconds(100)
        // Partitions added to the topic are noticed at the next periodic refresh (Kafka's
        // metadata.max.age.ms), short here so a run sees them.
        ec.metadataMaxAge = .milliseconds(plan.metadataMaxAgeMs)
        if let c = plan.copy {
            // One transactional id per member slot: a member started again in the slot
            // fences its predecessor's producer (a zombie's transaction is aborted).
            ec.producer.transactionalId = "copy-\(plan.group)-\(i)"
            ec.producer.transactionTimeout = .milliseconds(c.transactionTimeoutMs)
            ec.fetcher.isolation = .readCommitted
        }
        var engine = ClientEngine(config: ec, seed: rng.next())
        var gc = GroupConfig(groupId: plan.group, instanceId: plan.isStatic(i) ? "member-\(i)" : nil,
                             subscription: TopicSubscription(topics: [plan.topic]), balancers: plan.balancers(of: i))
        gc.sessionTimeout = .milliseconds(plan.sessionTimeoutMs)
        gc.rebalanceTimeout = .milliseconds(plan.rebalanceTimeoutMs)
        gc.heartbeatInterval = .milliseconds(plan.heartbeatMs)
        gc.autocommitInterval = plan.autocommitMs.map { .milliseconds($0) }
        gc.commitOnRevoke = plan.commitOnRevoke
        gc.groupProtocol = groupProtocol
        if groupProtocol == .consumer { gc.serverAssignor = assignors[i] }
        if plan.copy != nil {
            gc.transactional = true
            gc.autocommitInterval = nil
            gc.commitOnRevoke = false
        }
        engine.handle(.joinGroup(gc), now: Instant(nanoseconds: now))
        members[i].engine = engine
        timeline?.begin("member|\(i)", lane: timeline!.lane(.group, "member \(i)"), at: now, label: "member \(i), life \(members[i].life)", kind: .member)
        log.append("\(now / Self.ms) ms: member \(i) starts (life \(members[i].life)\(plan.usesConsumerProtocol ? ", \(groupProtocol.rawValue) protocol" : ""))")
        drain(i)
    }

    mutating func crash(_ i: Int) {
        guard members[i].engine != nil else { return }
        crashed = true
        abandonTransaction(i)
        log.append("\(now / Self.ms) ms: member \(i) crashes")
        if let timeline {
            timeline.finish("member|\(i)", at: now)
            timeline.mark(timeline.lane(.group, "member \(i)"), at: now, "member \(i) crashes", kind: .lost)
            for c in members[i].links.keys.sorted() { timeline.disconnected(link: Self.timelineLink(i, c), at: now) }
        }
        for (_, f) in members[i].links.sorted(by: { $0.key < $1.key }) { cluster.disconnect(f) }
        members[i].engine = nil
        members[i].owned = []
    }

    mutating func handle(_ e: Event) {
        switch e {
        case .plan(let k):
            guard !quiet else { return }
            let ev = events[k].event
            if switching != nil, ev == .join(ev.member) || ev == .restart(ev.member) {
                // A start now would speak the old protocol into a group being emptied.
                log.append("\(now / Self.ms) ms: member \(ev.member) \(ev.name) skipped: the group is switching protocol")
                return
            }
            switch ev {
            case .join(let i): startWhenReleased(i)
            case .crash(let i): crash(i)
            case .restart(let i):
                guard members[i].engine != nil else { return }
                if members[i].groupProtocol == .consumer && plan.isStatic(i) {
                    // KIP-848: a static member restarts by leaving with epoch -2 (the
                    // coordinator keeps its assignment) and joining again; an instance id
                    // still held is refused (UNRELEASED_INSTANCE_ID).
                    guard !members[i].leaving else { return }
                    members[i].restartAfterLeave = true
                    leave(i)
                    return
                }
                crash(i)
                start(i)
            case .leave(let i): leave(i)
            }
        case .fault(let k):
            guard !quiet else { return }
            timeline?.fault(at: now, "\(faults[k].fault)")
            apply(faults[k].fault)
            timeline?.brokers((1 ... Int32(plan.brokers)).map { $0 }, stopped: stopped, isolated: isolated, at: now)
        case .quiet:
            quiet = true
            log.append("\(now / Self.ms) ms: quiet: every fault heals")
            let n = Instant(nanoseconds: now)
            for b in stopped { deliver(cluster.restartBroker(b, now: n)) }
            for b in isolated { deliver(cluster.setIsolated(b, false, now: n)) }
            stopped = []
            isolated = []
            cluster.clearArmedFaults()
            timeline?.fault(at: now, "quiet: every fault heals")
            timeline?.brokers((1 ... Int32(plan.brokers)).map { $0 }, stopped: stopped, isolated: isolated, at: now)
            if switching == nil, !members.contains(where: { $0.engine != nil && !$0.leaving }) { startWhenReleased(0) }
        case .switchProtocol(let k):
            beginSwitch(k)
        case .switchCheck:
            checkSwitch()
        case .startWhenReleased(let i):
            startWhenReleased(i)
        case .dialed(let i, let life, let c):
            guard members[i].life == life, members[i].engine != nil else { return }
            if let timeline, let b = members[i].linkBroker[c] {
                timeline.connected(link: Self.timelineLink(i, c), client: "member \(i)", broker: "broker \(b)", at: now)
            }
            feed(i, members[i].links[c] != nil ? .connectionOpened(ConnectionID(c)) : .connectionFailed(ConnectionID(c), reason: .refused("down")))
        case .toBroker(let i, let life, let c, let bytes):
            guard members[i].life == life, let f = members[i].links[c] else { return }
            deliver(cluster.receive(f, bytes, now: Instant(nanoseconds: now)))
        case .toClient(let i, let life, let c, let bytes):
            guard members[i].life == life, members[i].links[c] != nil else { return }
            timeline?.read(bytes, link: Self.timelineLink(i, c), at: now)
            feed(i, .bytesReceived(ConnectionID(c), bytes))
        case .brokerClosed(let i, let life, let c):
            guard members[i].life == life, members[i].links.removeValue(forKey: c) != nil else { return }
            members[i].linkBroker[c] = nil
            timeline?.disconnected(link: Self.timelineLink(i, c), at: now)
            feed(i, .connectionClosed(ConnectionID(c)))
        case .revocationHandled(let i, let life, let id):
            guard members[i].life == life, members[i].engine != nil else { return }
            feed(i, .groupRevocationHandled(id))
        case .copyBegin(let i, let life, let p):
            copyBegin(i, life: life, p)
        }
    }

    /// `txn-timeout` (copy mode), before the events of each instant: no member slot's
    /// transaction stays Ongoing past its timeout. Reported once per run.
    mutating func checkOverdue() {
        for i in members.indices {
            guard let m = TxnChecker.overdue(cluster.describeTransaction("copy-\(plan.group)-\(i)"), now: now) else { continue }
            checker.violations.append("txn-timeout: \(m), at \(now / Self.ms) ms")
            overdueReported = true
            return
        }
    }

    mutating func apply(_ fault: Fault) {
        var f = fault
        switch fault {
        case .stopCoordinator(let g):
            guard let b = cluster.coordinator(g, .group) else { return }
            f = .stopBroker(b)
        case .stopTxnCoordinator(let id):
            guard let b = cluster.coordinator(id, .transaction) else { return }
            f = .stopBroker(b)
        case .stallHeartbeats(let g, .leader, let w, let drop) where cluster.describeConsumerGroup(g) != nil:
            // A consumer group has no leader: `leader` picks its oldest member.
            guard let m = cluster.describeConsumerGroup(g)?.members.first else { return }
            f = .stallHeartbeats(group: g, who: .memberId(m.memberId), window: w, drop: drop)
        case .disconnectMember(let g, .leader) where cluster.describeConsumerGroup(g) != nil:
            guard let m = cluster.describeConsumerGroup(g)?.members.first else { return }
            f = .disconnectMember(group: g, who: .memberId(m.memberId))
        case .restartBrokers:
            for b in stopped { apply(.restartBroker(b)) }
            return
        default: break
        }
        log.append("\(now / Self.ms) ms: \(f)")
        switch f {
        case .stopBroker(let b): if !stopped.contains(b) { stopped.append(b) }
        case .restartBroker(let b): stopped.removeAll { $0 == b }
        case .isolateBroker(let b): if !isolated.contains(b) { isolated.append(b) }
        case .healBroker(let b): isolated.removeAll { $0 == b }
        case .resetConnections(let b):
            // RST: in-flight bytes are lost both ways; the member learns after a latency.
            for i in members.indices {
                for (c, f) in members[i].links.sorted(by: { $0.key < $1.key }) where members[i].linkBroker[c] == b {
                    cluster.disconnect(f)
                    queue.push(at: due(i, c), .brokerClosed(member: i, life: members[i].life, c))
                }
            }
        default: break
        }
        deliver(f.apply(to: &cluster, now: Instant(nanoseconds: now)))
        if case .addPartitions(let t, _) = f, t == plan.topic, let n = cluster.partitionCount(t) {
            while partitionCount < n {
                writeRecords(TopicPartition(t, partitionCount))
                partitionCount += 1
            }
        }
    }

    /// Member `i`'s engine's next deadline (nanoseconds), asked at every step. Read through
    /// `inout`, in place: a `for m in members` or a plain `members[i].engine?` read copies
    /// the whole member or engine (retaining and releasing everything in it).
    mutating func engineDeadline(_ i: Int) -> UInt64? {
        Self.deadline(of: &members[i])
    }

    private static func deadline(of m: inout Member) -> UInt64? { m.engine?.nextDeadline()?.nanoseconds }

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
            digest.mix(now)
            digest.record(a)
            act(i, a)
        }
    }

    mutating func act(_ i: Int, _ a: Action) {
        let life = members[i].life
        switch a {
        case .open(let c, _, let host, _, _):
            let node = Int32(host.dropFirst("broker".count)) ?? -1
            if cluster.isReachable(broker: node), let f = cluster.connect(broker: node) {
                members[i].links[c.rawValue] = f
                members[i].linkBroker[c.rawValue] = node
            }
            queue.push(at: now + latency(&rng), .dialed(member: i, life: life, c.rawValue))
        case .write(let c, let frame):
            let bytes = frame.bytes
            guard members[i].links[c.rawValue] != nil else { return }
            if let timeline, let b = members[i].linkBroker[c.rawValue] {
                timeline.wrote(bytes, link: Self.timelineLink(i, c.rawValue), client: "member \(i)", broker: "broker \(b)", cluster: cluster, at: now)
            }
            queue.push(at: due(i, c.rawValue), .toBroker(member: i, life: life, c.rawValue, bytes))
        case .close(let c):
            if let f = members[i].links.removeValue(forKey: c.rawValue) { cluster.disconnect(f) }
            members[i].linkBroker[c.rawValue] = nil
            timeline?.disconnected(link: Self.timelineLink(i, c.rawValue), at: now)
        case .fetched(let batch):
            fetched(i, batch)
        case .group(let event):
            groupEvent(i, event)
        case .producer(.transactionDone(let p, let e)):
            transactionDone(i, p.rawValue, e)
        case .complete, .delivery, .producer:
            break
        case .fetchOAuthToken:
            break   // the simulation configures no SASL
        }
    }

    mutating func fetched(_ i: Int, _ batch: FetchBatch) {
        var positions: [TopicPartition: CommitPosition] = [:]
        for p in batch.partitions {
            let tp = p.topicPartition
            let d = p.decode(contexts: contexts)
            checker.fetched(member: i, generation: ownershipGeneration(i), era: switchesDone, tp, owns: members[i].owned.contains(tp),
                            offsets: d.records.map(\.offset), atMs: now / Self.ms)
            if members[i].groupProtocol == .consumer {
                checker.consumerFetched(member: i, tp, coordinatorGives: coordinatorGives(i), atMs: now / Self.ms)
            }
            if plan.copy != nil {
                if traceEvents, let f = d.records.first, let l = d.records.last {
                    log.append("\(now / Self.ms) ms:   member \(i): fetched \(tp.topic)/\(tp.partition):\(f.offset)..\(l.offset) next \(members[i].copy.next[tp].map(String.init) ?? "-")")
                }
                hold(i, tp, d.records.map(\.offset))
                continue
            }
            if p.nextOffset > (members[i].consumed[tp] ?? -1) {
                members[i].consumed[tp] = p.nextOffset
                positions[tp] = CommitPosition(offset: p.nextOffset)
            }
        }
        if batch.bytes > 0 { feed(i, .fetchConsumed(batch.bytes)) }
        if !positions.isEmpty { feed(i, .groupConsumed(positions)) }
        if plan.copy != nil { pump(i) }
    }

    /// The generation a fetch is counted under: a classic member's engine moves to the new
    /// generation at the JoinGroup answer, but until the SyncGroup answer makes it stable it
    /// fetches what it owned in the previous one, so its fetches count under the generation of
    /// its last `joined`/`assigned` event. A KIP-848 member's epoch moves with its assignment.
    func ownershipGeneration(_ i: Int) -> Int32 {
        members[i].groupProtocol == .consumer ? engineGeneration(i) : members[i].generation
    }

    /// The generation the member's engine is in right now (it moves at the JoinGroup
    /// answer, before the assignment arrives): -1 when none.
    func engineGeneration(_ i: Int) -> Int32 {
        members[i].engine?.groupState?.generation ?? -1
    }

    /// The member ids the coordinator counts in the group right now.
    func coordinatorMembers() -> Set<String> {
        if let cg = cluster.describeConsumerGroup(plan.group) { return Set(cg.members.map(\.memberId)) }
        return Set(cluster.describeGroup(plan.group)?.members.map(\.memberId) ?? [])
    }

    /// The group's committed offsets, whichever protocol's group the coordinator holds; nil:
    /// no group.
    func coordinatorOffsets() -> [FakeGroupSnapshot.Offset]? {
        cluster.describeConsumerGroup(plan.group)?.offsets ?? cluster.describeGroup(plan.group)?.offsets
    }

    mutating func readCoordinatorOffsets() {
        guard let offsets = coordinatorOffsets() else { return }
        var offs: [TopicPartition: Int64] = [:]
        for o in offsets { offs[o.topicPartition] = o.offset }
        checker.committed(offs, by: "read from the coordinator", atMs: now / Self.ms)
    }

    mutating func groupEvent(_ i: Int, _ event: GroupEvent) {
        if traceEvents { log.append("\(now / Self.ms) ms:   member \(i): \(event)") }
        if let timeline { timelineEvent(timeline, i, event) }
        switch event {
        case .joined(let id, let gen, _, let proto):
            rebalances += 1
            members[i].memberId = id
            members[i].generation = gen
            // KIP-848 moves partitions one by one, as a cooperative balancer does.
            members[i].cooperative = proto == GroupProtocol.consumer.rawValue || (BuiltInBalancers.named(proto)?.isCooperative ?? false)
        case .assigned(let parts, let gen):
            members[i].generation = gen
            let inGroup = coordinatorMembers()
            let others = members.indices.filter { $0 != i && members[$0].engine != nil && !members[$0].owned.isEmpty }.map {
                GroupChecker.Other(member: $0, owned: members[$0].owned, generation: engineGeneration($0),
                                   inGroup: inGroup.contains(members[$0].memberId))
            }
            checker.assigned(member: i, parts, generation: gen, cooperative: members[i].cooperative, others: others, atMs: now / Self.ms)
            members[i].owned.formUnion(parts)
        case .revoking(let id, let parts):
            members[i].owned.subtract(parts)
            drop(i, parts)
            var delay = UInt64.random(in: plan.revocationMs, using: &rng) * Self.ms
            if plan.slowMembers.contains(i) {
                delay = (plan.rebalanceTimeoutMs + UInt64.random(in: 500 ... 2_000, using: &rng)) * Self.ms
            }
            queue.push(at: now + delay, .revocationHandled(member: i, life: members[i].life, id))
        case .lost(let parts):
            members[i].owned.subtract(parts)
            drop(i, parts)
            members[i].sawLost = true
            members[i].generation = -1
        case .committed(let report):
            if !report.ok { commitFailed = true }
            var offs: [TopicPartition: Int64] = [:]
            for (tp, pos) in report.offsets where report.failed[tp] == nil && report.error == nil { offs[tp] = pos.offset }
            checker.committed(offs, by: "member \(i)", atMs: now / Self.ms)
            readCoordinatorOffsets()
        case .left:
            abandonTransaction(i)
            for (_, f) in members[i].links.sorted(by: { $0.key < $1.key }) { cluster.disconnect(f) }
            members[i].engine = nil
            members[i].owned = []
            if members[i].restartAfterLeave {
                members[i].restartAfterLeave = false
                queue.push(at: now, .startWhenReleased(member: i))
            }
        case .failed(let e):
            checker.memberFailed(i, "\(e)", atMs: now / Self.ms)
        case .warning(let w):
            warnings.append("member \(i) at \(now / Self.ms) ms: \(w)")
        case .rewound(let parts):
            // After an abort: the partitions restart from their committed offsets, so what
            // the member held of them is fetched again.
            drop(i, parts)
        }
    }

    // MARK: records and checks

    /// Writes the partition's records straight into its leader (outside the simulated
    /// network); answers the write causes for members (a parked fetch) go out as usual.
    mutating func writeRecords(_ tp: TopicPartition) {
        guard let leader = cluster.partitionInfo(tp)?.leader, cluster.isReachable(broker: leader),
              let conn = cluster.connect(broker: leader) else {
            checker.violations.append("setup: cannot write records to \(tp.topic)/\(tp.partition)")
            return
        }
        defer { cluster.disconnect(conn) }
        var records: [EncodableRecord] = []
        for k in 0 ..< plan.recordsPerPartition {
            records.append(EncodableRecord(value: Array("p\(tp.partition)-r\(k)".utf8), timestamp: 0))
        }
        guard let batch = try? RecordBatchEncoder.encode(records, options: RecordBatchOptions(), contexts: contexts) else { return }
        var pd = ProduceRequest.PartitionProduceData()
        pd.index = tp.partition
        pd.records = batch
        var td = ProduceRequest.TopicProduceData()
        td.name = tp.topic
        td.partitionData = [pd]
        var r = ProduceRequest()
        r.acks = 1
        r.timeoutMs = 5_000
        r.topicData = [td]
        guard let frame = try? encodeRequestFrame(r, version: 8, correlationId: 1, clientId: "sim-direct") else { return }
        var ok = false
        for o in cluster.receive(conn, frame, now: Instant(nanoseconds: now)) {
            if case .send(let c, let bytes) = o, c == conn {
                let parsed = try? parseResponse(for: ProduceResponse.self, version: 8, frame: Array(bytes.dropFirst(4)))
                ok = parsed?.response.responses.first?.partitionResponses.first?.errorCode == 0
            } else {
                deliver([o])
            }
        }
        if ok { written[tp] = Int64(plan.recordsPerPartition) } else {
            checker.violations.append("setup: writing records to \(tp.topic)/\(tp.partition) failed")
        }
    }

    mutating func checkSettled() {
        let live = members.indices.filter { members[$0].engine != nil }.map {
            GroupChecker.Live(member: $0, owned: members[$0].owned, fetching: Set(members[$0].engine!.fetchPositions.keys))
        }
        let parts = (0 ..< partitionCount).map { TopicPartition(plan.topic, $0) }
        checker.settled(partitions: parts, live: live)
        for i in members.indices where members[i].engine != nil && members[i].groupProtocol == .consumer {
            checker.consumerSettled(member: i, owned: members[i].owned, coordinator: coordinatorMember(i).map { ($0.assigned, $0.pendingRevocation) })
        }
        if !live.isEmpty {
            checker.delivered(records: written.keys.sorted().map { ($0, written[$0]!) })
        }
    }
}

extension GroupSimulation {
    /// A member's link as one timeline key (a member's connection ids are its own).
    static func timelineLink(_ member: Int, _ c: UInt64) -> UInt64 { UInt64(member) << 40 | c }

    func timelineEvent(_ timeline: SimTimeline, _ i: Int, _ event: GroupEvent) {
        let lane = timeline.lane(.group, "member \(i)")
        func list(_ p: [TopicPartition]) -> String { p.map { "\($0.topic)/\($0.partition)" }.joined(separator: ",") }
        switch event {
        case .joined(_, let gen, let leader, let proto):
            timeline.mark(lane, at: now, "joined generation \(gen)\(leader ? " as leader" : "") (\(proto))", kind: .generation)
        case .assigned(let p, let gen):
            timeline.mark(lane, at: now, "generation \(gen): assigned \(list(p))", kind: .generation)
        case .revoking(_, let p):
            timeline.mark(lane, at: now, "revoking \(list(p))", kind: .revoke)
        case .lost(let p):
            timeline.mark(lane, at: now, "lost \(list(p))", kind: .revoke)
        case .left:
            timeline.finish("member|\(i)", at: now)
            timeline.mark(lane, at: now, "left the group", kind: .revoke)
        case .failed(let e):
            timeline.mark(lane, at: now, "membership failed: \(e)", kind: .lost)
        case .committed, .rewound, .warning:
            break
        }
    }
}
