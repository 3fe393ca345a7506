import FakeCluster

/// Faults drawn from the seed: each one a fault plus, for stop and isolate, its heal a
/// little later. Drawn up front into a plain list so the shrinker can drop them one by one.
enum FaultSchedule {
    /// The kinds `faults random … kinds K,K` may name.
    static let kinds = ["leader", "broker", "isolate", "reset", "coordinator", "error", "delay", "drop", "cuts", "abortable",
                        "txn-coordinator", "txn-coordinator-restart", "txn-error"]
    /// What `txn-error` injects on the transaction APIs: the retriable answers a
    /// transaction coordinator gives (the request was not acted on).
    static let txnApis = ["init-producer-id", "add-partitions-to-txn", "add-offsets-to-txn", "end-txn", "txn-offset-commit"]
    static let txnErrors = ["COORDINATOR_LOAD_IN_PROGRESS", "NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE", "CONCURRENT_TRANSACTIONS"]
    /// The mix drawn without `kinds`, one entry per draw slot (resets twice as likely); its
    /// order is the draw order of every saved seed, so it must not change.
    static let classic = ["leader", "broker", "isolate", "reset", "reset", "coordinator", "error", "delay", "drop"]

    static func random(_ spec: Scenario.RandomFaults, scenario s: Scenario, rng: inout SeededGenerator) -> [Scenario.ScriptedFault] {
        var out: [Scenario.ScriptedFault] = []
        let brokers = Int32(max(s.brokers, 1))
        func broker(_ rng: inout SeededGenerator) -> Int32 { Int32.random(in: 1 ... brokers, using: &rng) }
        let groups = s.workloads.flatMap { w -> [String] in
            switch w {
            case .commit(let g, _, _): return [g]
            case .adminGroups(let gs, _, _): return gs
            default: return []
            }
        }
        var apis = ["produce", "metadata", "list-offsets", "offset-commit", "offset-fetch", "find-coordinator"]
        var retriable = ["NOT_LEADER_OR_FOLLOWER", "LEADER_NOT_AVAILABLE", "REQUEST_TIMED_OUT", "NOT_ENOUGH_REPLICAS",
                         "COORDINATOR_LOAD_IN_PROGRESS", "NOT_COORDINATOR", "COORDINATOR_NOT_AVAILABLE"]
        // With a transactional producer, its coordinator moves and its requests fail too
        // (scenarios without one keep their draws unchanged).
        let txnIds = s.workloads.compactMap { if case .txnProducer(let t) = $0 { return t.transactionalId } else { return nil } }
        if !txnIds.isEmpty {
            apis += ["init-producer-id", "add-partitions-to-txn", "end-txn"]
            retriable += ["CONCURRENT_TRANSACTIONS"]
        }
        // With a consumer, fetches fail too and sessions get evicted (scenarios without
        // one keep their fault draws unchanged).
        if s.workloads.contains(where: { if case .consume = $0 { return true } else { return false } }) {
            apis += ["fetch", "offset-for-leader-epoch"]
            retriable += ["FETCH_SESSION_ID_NOT_FOUND", "INVALID_FETCH_SESSION_EPOCH", "FENCED_LEADER_EPOCH"]
        }
        for _ in 0 ..< spec.count {
            let at = spec.until == 0 ? 0 : UInt64.random(in: 0 ..< spec.until, using: &rng)
            let heal = at + UInt64.random(in: 100_000_000 ... 3_000_000_000, using: &rng)
            let kind = spec.kinds.isEmpty ? Self.classic[Int.random(in: 0 ..< Self.classic.count, using: &rng)]
                                          : spec.kinds[Int.random(in: 0 ..< spec.kinds.count, using: &rng)]
            switch kind {
            case "leader" where !s.topics.isEmpty:
                let t = s.topics[Int.random(in: 0 ..< s.topics.count, using: &rng)]
                out.append(.init(at: at, fault: .moveLeader(topic: t.name, partition: Int32.random(in: 0 ..< t.partitions, using: &rng), to: nil)))
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
            case "coordinator" where !groups.isEmpty && txnIds.isEmpty:
                out.append(.init(at: at, fault: .moveCoordinator(group: groups[Int.random(in: 0 ..< groups.count, using: &rng)], to: broker(&rng))))
            case "coordinator" where !txnIds.isEmpty:
                // Groups and transactional ids together; group-only scenarios draw as before.
                let keys = groups.map { (key: $0, txn: false) } + txnIds.map { (key: $0, txn: true) }
                let k = keys[Int.random(in: 0 ..< keys.count, using: &rng)]
                let to = broker(&rng)
                out.append(.init(at: at, fault: k.txn ? .moveTxnCoordinator(transactionalId: k.key, to: to) : .moveCoordinator(group: k.key, to: to)))
            case "error":
                let api = apis[Int.random(in: 0 ..< apis.count, using: &rng)]
                let e = retriable[Int.random(in: 0 ..< retriable.count, using: &rng)]
                out.append(.init(at: at, fault: .injectError(api: api, error: e, count: Int.random(in: 1 ... 3, using: &rng), broker: nil)))
            case "delay":
                let api = apis[Int.random(in: 0 ..< apis.count, using: &rng)]
                out.append(.init(at: at, fault: .delay(api: api, ms: Int64.random(in: 10 ... 2_000, using: &rng), count: Int.random(in: 1 ... 3, using: &rng), broker: nil)))
            case "cuts":
                // Loose enough that a handshake and a small request fit (progress stays
                // possible), tight enough that a pipeline of requests often does not.
                let b = broker(&rng)
                let lo = Int.random(in: 16_000 ... 64_000, using: &rng)
                let hi = lo * Int.random(in: 2 ... 24, using: &rng)
                let window = UInt64.random(in: 1_000_000_000 ... 6_000_000_000, using: &rng)
                out.append(.init(at: at, fault: .cutAfterBytes(broker: b, min: lo, max: hi, window: window)))
            case "txn-coordinator" where !txnIds.isEmpty:
                out.append(.init(at: at, fault: .moveTxnCoordinator(transactionalId: txnIds[Int.random(in: 0 ..< txnIds.count, using: &rng)], to: broker(&rng))))
            case "txn-coordinator-restart" where !txnIds.isEmpty:
                // Stop whichever broker coordinates the id when the fault fires; it comes back at the heal.
                out.append(.init(at: at, fault: .stopTxnCoordinator(transactionalId: txnIds[Int.random(in: 0 ..< txnIds.count, using: &rng)])))
                out.append(.init(at: heal, fault: .restartBrokers))
            case "txn-error" where !txnIds.isEmpty:
                let api = Self.txnApis[Int.random(in: 0 ..< Self.txnApis.count, using: &rng)]
                let e = Self.txnErrors[Int.random(in: 0 ..< Self.txnErrors.count, using: &rng)]
                out.append(.init(at: at, fault: .injectError(api: api, error: e, count: Int.random(in: 1 ... 3, using: &rng), broker: nil)))
            case "abortable":
                // A record refused for good (INVALID_RECORD): a transaction must abort.
                out.append(.init(at: at, fault: .injectError(api: "produce", error: "INVALID_RECORD", count: 1, broker: nil)))
            default:
                // "drop", and kinds that do not apply to the scenario (no topic, no group).
                let api = apis[Int.random(in: 0 ..< apis.count, using: &rng)]
                out.append(.init(at: at, fault: .dropConnection(api: api, afterHandling: Bool.random(using: &rng), count: 1, broker: nil)))
            }
        }
        return out
    }
}

extension Fault {
    /// Applies the fault to the cluster; returns what the cluster wants sent or closed.
    func apply(to c: inout FakeCluster, now: Instant) -> [FakeOutput] {
        switch self {
        case .moveLeader(let t, let p, let to): return c.moveLeader(.init(t, p), to: to, now: now)
        case .stopBroker(let b): return c.stopBroker(b, now: now)
        case .restartBroker(let b): return c.restartBroker(b, now: now)
        case .isolateBroker(let b): return c.setIsolated(b, true, now: now)
        case .healBroker(let b): return c.setIsolated(b, false, now: now)
        case .resetConnections, .cutAfterBytes: return []  // network faults: the simulation acts on the links
        case .moveCoordinator(let g, let to): return c.moveCoordinator(g, .group, to: to, now: now)
        case .moveTxnCoordinator(let id, let to): return c.moveCoordinator(id, .transaction, to: to, now: now)
        case .injectError(let api, let e, let n, let b):
            c.pushError(ApiNames.key(api)!, ApiNames.error(e)!, count: n, broker: b)
            return []
        case .delay(let api, let ms, let n, let b):
            c.delayResponses(ApiNames.key(api)!, milliseconds: ms, count: n, broker: b)
            return []
        case .dropConnection(let api, let after, let n, let b):
            c.dropConnection(on: ApiNames.key(api)!, afterHandling: after, count: n, broker: b)
            return []
        case .throttle(let api, let ms, let n, let window, let b):
            let key = api.flatMap { ApiNames.key($0) }
            if let n { c.throttle(broker: b, apiKey: key, milliseconds: ms, count: n) }
            else { c.throttle(broker: b, apiKey: key, milliseconds: ms, until: now.adding(milliseconds: Int64((window ?? 0) / 1_000_000))) }
            return []
        case .quota(let key, let rate, let u, let cl):
            let parts = [u.map { (type: "user", name: $0) }, cl.map { (type: "client-id", name: $0) }].compactMap { $0 }
            _ = c.setClientQuota(key, rate, entity: parts)  // checked when parsed
            return []
        case .truncateAndLead(let t, let p, let r, let o):
            return c.truncateAndLead(.init(t, p), replica: r, truncateTo: o, now: now)
        case .stallHeartbeats(let g, let who, let w, let drop):
            c.stallHeartbeats(g, who, until: now.adding(milliseconds: Int64(w / 1_000_000)), drop: drop)
            return []
        case .disconnectMember(let g, let who): return c.disconnectGroupMembers(g, who, now: now)
        case .injectGroupError(let g, let api, let e, let n):
            c.pushGroupError(g, ApiNames.key(api)!, ApiNames.error(e)!, count: n)
            return []
        case .addPartitions(let t, let n): return c.addPartitions(t, count: n, now: now)
        case .stopCoordinator(let g):
            guard let b = c.coordinator(g, .group) else { return [] }
            return c.stopBroker(b, now: now)
        case .stopTxnCoordinator(let id):
            guard let b = c.coordinator(id, .transaction) else { return [] }
            return c.stopBroker(b, now: now)
        case .upgradeBroker(let b, let r): return c.upgradeBroker(b, to: r, now: now)
        case .restartBrokers:
            var out: [FakeOutput] = []
            for b in c.config.brokers.map(\.nodeId) where !c.isReachable(broker: b) { out += c.restartBroker(b, now: now) }
            return out
        }
    }
}
