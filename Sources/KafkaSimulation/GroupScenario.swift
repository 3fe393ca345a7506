import FakeCluster
import KafkaStateMachines

/// Group scenarios (scenarios/README.md, "Group scenarios"): files whose first directive is
/// `group G`, parsed into a `GroupSimulation.Plan`. The fault vocabulary is the single-client
/// scenarios' one (plus `add-partitions`).
package enum GroupScenario {
    /// True when the text's first directive is `group`.
    package static func isGroupScenario(_ text: String) -> Bool {
        for raw in text.split(separator: "\n") {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let w = line.split(separator: " ")
            guard let first = w.first else { continue }
            return first == "group"
        }
        return false
    }

    static func balancers(_ p: inout Words) throws(ScenarioError) -> [any GroupBalancer] {
        let names = try p.word("balancers").split(separator: ",").map(String.init)
        var out: [any GroupBalancer] = []
        for n in names {
            guard let b = BuiltInBalancers.named(n) else {
                throw p.error("unknown balancer \(n) (known: cooperative-sticky, sticky, range, roundrobin)")
            }
            out.append(b)
        }
        return out
    }

    static func milliseconds(_ p: inout Words, _ what: String) throws(ScenarioError) -> UInt64 {
        try p.duration(what) / 1_000_000
    }

    package static func parse(_ text: String) throws(ScenarioError) -> GroupSimulation.Plan {
        var plan = GroupSimulation.Plan(seed: 1, balancers: [CooperativeStickyBalancer()])
        plan.settleMs = 30_000
        var lineNo = 0
        var sawGroup = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let w = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard !w.isEmpty else { continue }
            var p = Words(words: w, line: lineNo)
            let verb = try p.word("directive")
            if !sawGroup && verb != "group" { throw p.error("a group scenario starts with `group G`") }
            switch verb {
            case "group": plan.group = try p.word("group id"); sawGroup = true
            case "seed": plan.seed = try p.uint("seed")
            case "brokers": plan.brokers = max(1, (try p.int("broker count") as Int))
            case "topic":
                plan.topic = try p.word("topic"); try p.expect("partitions")
                plan.partitions = max(1, try p.int("partitions") as Int32)
            case "records": plan.recordsPerPartition = (try p.int("records per partition") as Int)
            case "members": 
                if p.accept("random") {
                    try p.expect("count"); let n = (try p.int("count") as Int)
                    try p.expect("until")
                    plan.randomMembers = (n, try milliseconds(&p, "until"))
                } else {
                    plan.initialMembers = (try p.int("members") as Int)
                }
            case "balancers":
                if p.accept("random") {
                    plan.balancersRandom = true
                } else if p.accept("member") {
                    let m = (try p.int("member") as Int)
                    plan.memberBalancers[m] = try balancers(&p)
                } else {
                    plan.balancers = try balancers(&p)
                }
            case "static":
                if p.accept("all") { plan.staticMembers = true } else {
                    for m in try p.word("members").split(separator: ",") {
                        guard let i = Int(m) else { throw p.error("static wants all or member numbers M,M") }
                        plan.staticSome.insert(i)
                    }
                }
            case "session": plan.sessionTimeoutMs = try milliseconds(&p, "session timeout")
            case "rebalance": plan.rebalanceTimeoutMs = try milliseconds(&p, "rebalance timeout")
            case "heartbeat": plan.heartbeatMs = try milliseconds(&p, "heartbeat interval")
            case "autocommit":
                if p.accept("off") { plan.autocommitMs = nil } else { plan.autocommitMs = try milliseconds(&p, "autocommit interval") }
            case "commit-on-revoke":
                let v = try p.word("on|off")
                guard v == "on" || v == "off" else { throw p.error("commit-on-revoke wants on or off") }
                plan.commitOnRevoke = v == "on"
            case "copy":
                try p.expect("to")
                var copy = GroupSimulation.CopyPlan(topic: try p.word("output topic"))
                while true {
                    if p.accept("partitions") { copy.partitions = max(1, try p.int("output partitions") as Int32) }
                    else if p.accept("abort-ratio") {
                        guard let r = Double(try p.word("abort ratio")), r >= 0, r <= 1 else { throw p.error("abort-ratio wants a number in 0...1") }
                        copy.abortRatio = r
                    } else if p.accept("records-per-txn") { copy.recordsPerTxn = max(1, try p.int("records per transaction") as Int) }
                    else if p.accept("txn-timeout") { copy.transactionTimeoutMs = try milliseconds(&p, "transaction timeout") }
                    else if p.accept("think") {
                        let range = try p.word("think range").split(separator: "..").map(String.init)
                        guard range.count == 2, let lo = DurationText.parse(range[0]), let hi = DurationText.parse(range[1]), lo <= hi else {
                            throw p.error("think wants MIN..MAX, e.g. 0ms..20ms")
                        }
                        copy.thinkMs = lo / 1_000_000 ... hi / 1_000_000
                    }
                    else { break }
                }
                plan.copy = copy
                plan.autocommitMs = nil
                plan.commitOnRevoke = false
            case "protocol":
                let v = try p.word("classic|consumer")
                guard let proto = GroupProtocol(rawValue: v) else { throw p.error("protocol wants classic or consumer") }
                plan.groupProtocol = proto
            case "assignor":
                let v = try p.word("uniform|range|random")
                switch v {
                case "random": plan.assignorRandom = true; plan.serverAssignor = nil
                case "uniform", "range": plan.serverAssignor = v; plan.assignorRandom = false
                default: throw p.error("assignor wants uniform, range or random")
                }
            case "switch-protocol":
                try p.expect("count"); let n = (try p.int("count") as Int)
                try p.expect("until")
                plan.randomSwitches = (n, try milliseconds(&p, "until"))
            case "slow-member": plan.slowMembers.insert((try p.int("member") as Int))
            case "revocation":
                let range = try p.word("revocation range").split(separator: "..").map(String.init)
                guard range.count == 2, let lo = DurationText.parse(range[0]), let hi = DurationText.parse(range[1]), lo <= hi else {
                    throw p.error("revocation wants MIN..MAX, e.g. 0ms..50ms")
                }
                plan.revocationMs = lo / 1_000_000 ... hi / 1_000_000
            case "latency":
                let range = try p.word("latency range").split(separator: "..").map(String.init)
                guard range.count == 2, let lo = DurationText.parse(range[0]), let hi = DurationText.parse(range[1]), lo <= hi, lo >= 1_000_000 else {
                    throw p.error("latency wants MIN..MAX, e.g. 1ms..5ms, MIN at least 1ms")
                }
                plan.latencyMs = lo / 1_000_000 ... hi / 1_000_000
            case "transaction-version":
                let v = try p.uint("transaction version")
                guard v <= 2 else { throw p.error("transaction-version is 0, 1 or 2") }
                plan.transactionVersion = Int16(v)
            case "duration": plan.durationMs = try milliseconds(&p, "duration")
            case "settle": plan.settleMs = try milliseconds(&p, "settle")
            case "at":
                let t = try p.duration("time")
                let i = p.i
                let kind = try p.word("event or fault")
                if kind == "switch-protocol" {
                    plan.switches.append(t / 1_000_000)
                    try p.end()
                    continue
                }
                let event: GroupSimulation.MemberEvent?
                switch kind {
                case "join": event = .join((try p.int("member") as Int))
                case "leave": event = .leave((try p.int("member") as Int))
                case "crash": event = .crash((try p.int("member") as Int))
                case "restart": event = .restart((try p.int("member") as Int))
                default: event = nil
                }
                if let event {
                    plan.events.append((at: t / 1_000_000, event: event))
                } else {
                    p.i = i
                    let fault = try Scenario.fault(&p)
                    // GroupSimulation's links do not count bytes (yet).
                    if case .cutAfterBytes = fault { throw p.error("cut-after-bytes is not supported in group scenarios") }
                    plan.faults.append(Scenario.ScriptedFault(at: t, fault: fault))
                }
            case "faults":
                try p.expect("random"); try p.expect("count")
                let n = (try p.int("count") as Int)
                try p.expect("until")
                let until = try milliseconds(&p, "until")
                var kinds: [String] = []
                if p.accept("kinds") {
                    kinds = try p.word("kinds").split(separator: ",").map(String.init)
                    for k in kinds where !GroupFaultSchedule.kinds.contains(k) {
                        throw p.error("unknown fault kind \(k) (known: \(GroupFaultSchedule.kinds.joined(separator: ", ")))")
                    }
                }
                plan.randomFaults = (n, until, kinds)
            case "invariant":
                let name = try p.word("invariant")
                guard name == "all" || GroupSimulation.invariantNames.contains(name) else {
                    throw p.error("unknown invariant \(name) (known: \(GroupSimulation.invariantNames.joined(separator: ", ")))")
                }
                if name != "all" { plan.invariants.append(name) }
            default: throw p.error("unknown group directive \(verb)")
            }
            try p.end()
        }
        guard sawGroup else { throw ScenarioError(line: 0, message: "a group scenario starts with `group G`") }
        guard plan.settleMs < plan.durationMs else { throw ScenarioError(line: 0, message: "settle must be shorter than duration") }
        return plan
    }
}

/// Faults drawn from the seed for a group run, each with its heal where it has one.
enum GroupFaultSchedule {
    /// Drawn from when a scenario names no kinds (the order of every saved seed's draws).
    static let defaultKinds = ["leader", "broker", "isolate", "reset", "coordinator", "coordinator-restart", "error", "delay",
                               "heartbeat", "disconnect", "group-error", "partitions"]
    /// Every kind a scenario may name: the default ones, and for copy mode the members'
    /// transaction coordinators moving (`txn-coordinator`), stopping and coming back at
    /// the heal (`txn-coordinator-restart`), and retriable errors on transaction APIs
    /// (`txn-error`); without `copy` those draw a connection reset instead.
    static let kinds = defaultKinds + ["txn-coordinator", "txn-coordinator-restart", "txn-error"]

    static func random(count: Int, untilMs: UInt64, kinds wanted: [String], plan: GroupSimulation.Plan,
                       rng: inout SeededGenerator) -> [Scenario.ScriptedFault] {
        let ms: UInt64 = 1_000_000
        let kinds = wanted.isEmpty ? Self.defaultKinds : wanted
        // A member slot's transactional id (GroupSimulation.start); the initial slots always run.
        func txnId(_ rng: inout SeededGenerator) -> String { "copy-\(g)-\(Int.random(in: 0 ..< max(plan.initialMembers, 1), using: &rng))" }
        var out: [Scenario.ScriptedFault] = []
        let brokers = Int32(max(plan.brokers, 1))
        let g = plan.group
        var partitions = plan.partitions
        func broker(_ rng: inout SeededGenerator) -> Int32 { Int32.random(in: 1 ... brokers, using: &rng) }
        var apis = ["fetch", "metadata", "find-coordinator", "offset-commit", "offset-fetch", "list-offsets", "join-group", "sync-group", "heartbeat"]
        let retriable = ["NOT_LEADER_OR_FOLLOWER", "LEADER_NOT_AVAILABLE", "REQUEST_TIMED_OUT", "COORDINATOR_LOAD_IN_PROGRESS",
                         "NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE"]
        var groupApis = ["join-group", "sync-group", "heartbeat", "offset-commit", "offset-fetch"]
        // KIP-848 members heartbeat with ConsumerGroupHeartbeat only (classic-only plans keep
        // their lists, so their saved seeds draw as before).
        if plan.groupProtocol == .consumer && !plan.usesSwitches {
            apis = Array(apis.dropLast(3)) + ["consumer-group-heartbeat"]
            groupApis = ["consumer-group-heartbeat", "offset-commit", "offset-fetch"]
        } else if plan.usesConsumerProtocol {
            apis.append("consumer-group-heartbeat")
            groupApis.append("consumer-group-heartbeat")
        }
        let groupErrors = ["COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR", "COORDINATOR_LOAD_IN_PROGRESS", "REBALANCE_IN_PROGRESS"]
        for _ in 0 ..< count {
            let at = (untilMs == 0 ? 0 : UInt64.random(in: 0 ..< untilMs, using: &rng)) * ms
            let heal = at + UInt64.random(in: 100 ... 3_000, using: &rng) * ms
            switch kinds[Int.random(in: 0 ..< kinds.count, using: &rng)] {
            case "leader":
                out.append(.init(at: at, fault: .moveLeader(topic: plan.topic, partition: Int32.random(in: 0 ..< partitions, using: &rng), to: nil)))
            case "broker":
                let b = broker(&rng)
                out.append(.init(at: at, fault: .stopBroker(b)))
                out.append(.init(at: heal, fault: .restartBroker(b)))
            case "isolate":
                let b = broker(&rng)
                out.append(.init(at: at, fault: .isolateBroker(b)))
                out.append(.init(at: heal, fault: .healBroker(b)))
            case "reset":
                out.append(.init(at: at, fault: .resetConnections(broker(&rng))))
            case "coordinator":
                out.append(.init(at: at, fault: .moveCoordinator(group: g, to: broker(&rng))))
            case "coordinator-restart":
                // Stop whichever broker coordinates the group when the fault fires.
                out.append(.init(at: at, fault: .stopCoordinator(group: g)))
                out.append(.init(at: heal, fault: .restartBrokers))
            case "error":
                let api = apis[Int.random(in: 0 ..< apis.count, using: &rng)]
                let e = retriable[Int.random(in: 0 ..< retriable.count, using: &rng)]
                out.append(.init(at: at, fault: .injectError(api: api, error: e, count: Int.random(in: 1 ... 3, using: &rng), broker: nil)))
            case "txn-coordinator" where plan.copy != nil:
                out.append(.init(at: at, fault: .moveTxnCoordinator(transactionalId: txnId(&rng), to: broker(&rng))))
            case "txn-coordinator-restart" where plan.copy != nil:
                out.append(.init(at: at, fault: .stopTxnCoordinator(transactionalId: txnId(&rng))))
                out.append(.init(at: heal, fault: .restartBrokers))
            case "txn-error" where plan.copy != nil:
                let api = FaultSchedule.txnApis[Int.random(in: 0 ..< FaultSchedule.txnApis.count, using: &rng)]
                let e = FaultSchedule.txnErrors[Int.random(in: 0 ..< FaultSchedule.txnErrors.count, using: &rng)]
                out.append(.init(at: at, fault: .injectError(api: api, error: e, count: Int.random(in: 1 ... 3, using: &rng), broker: nil)))
            case "txn-coordinator", "txn-coordinator-restart", "txn-error":
                out.append(.init(at: at, fault: .resetConnections(broker(&rng))))
            case "delay":
                let api = apis[Int.random(in: 0 ..< apis.count, using: &rng)]
                out.append(.init(at: at, fault: .delay(api: api, ms: Int64.random(in: 10 ... 2_000, using: &rng), count: Int.random(in: 1 ... 3, using: &rng), broker: nil)))
            case "heartbeat":
                let who: FakeGroupMember = Bool.random(using: &rng) ? .all : .leader
                let w = UInt64.random(in: 500 ... 8_000, using: &rng) * ms
                out.append(.init(at: at, fault: .stallHeartbeats(group: g, who: who, window: w, drop: Bool.random(using: &rng))))
            case "disconnect":
                out.append(.init(at: at, fault: .disconnectMember(group: g, who: Bool.random(using: &rng) ? .all : .leader)))
            case "group-error":
                let api = groupApis[Int.random(in: 0 ..< groupApis.count, using: &rng)]
                // ConsumerGroupHeartbeat never answers REBALANCE_IN_PROGRESS (a classic
                // protocol error; Kafka's clients take it as fatal there).
                let errors = api == "consumer-group-heartbeat" ? groupErrors.filter { $0 != "REBALANCE_IN_PROGRESS" } : groupErrors
                let e = errors[Int.random(in: 0 ..< errors.count, using: &rng)]
                out.append(.init(at: at, fault: .injectGroupError(group: g, api: api, error: e, count: Int.random(in: 1 ... 3, using: &rng))))
            default: // partitions
                let n = Int32.random(in: 1 ... 2, using: &rng)
                partitions += n
                out.append(.init(at: at, fault: .addPartitions(topic: plan.topic, count: n)))
            }
        }
        return out
    }
}

/// One group seed checked the way CI checks it: run twice, hashes compared.
package struct GroupSeedOutcome: Sendable {
    package var seed: UInt64
    package var result: GroupSimulation.Result
    package var secondHash: UInt64
    package var violations: [String]
    package var ok: Bool { violations.isEmpty }

    package var line: String {
        "seed=\(seed) hash=\(String(result.hash, radix: 16)) rebalances=\(result.rebalances) delivered=\(result.delivered) dup=\(result.duplicates) "
            + (ok ? "ok" : "FAIL \(violations[0])")
    }
}

package enum GroupSeedCheck {
    package static func run(_ plan: GroupSimulation.Plan, seed: UInt64? = nil) -> GroupSeedOutcome {
        var p = plan
        if let seed { p.seed = seed }
        var a = GroupSimulation(p)
        let first = a.run()
        var b = GroupSimulation(p)
        let second = b.run()
        var violations = first.violations
        if (p.invariants.isEmpty || p.invariants.contains("determinism")) && first.hash != second.hash {
            violations.insert("determinism: action hash \(String(first.hash, radix: 16)) then \(String(second.hash, radix: 16)) (\(first.actions) vs \(second.actions) actions)", at: 0)
        }
        return GroupSeedOutcome(seed: p.seed, result: first, secondHash: second.hash, violations: violations)
    }

    package static func replayCommand(file: String, seed: UInt64) -> String {
        "SWIFT_DETERMINISTIC_HASHING=1 swift run -c release kgo sim run \(file) --seed \(seed)"
    }
}
