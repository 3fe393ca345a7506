import FakeCluster

/// A simulation run described as data: cluster shape, workload, faults, phases, seed.
/// Parsed from the line format documented in scenarios/README.md; `render()` writes it back
/// (the shrinker saves reduced scenarios that way).
package struct Scenario: Sendable, Equatable {
    package struct Topic: Sendable, Equatable {
        package var name: String
        package var partitions: Int32
        package var replicationFactor: Int16
    }

    package enum WorkloadSpec: Sendable, Equatable {
        /// Produce batches of `records` records (acks=all) round-robin over the partitions.
        case produce(topic: String, every: UInt64, records: Int)
        /// ListOffsets (latest) for every partition, split across leaders by the engine.
        case listOffsets(topic: String, every: UInt64)
        /// OffsetCommit then OffsetFetch of one group, one at a time.
        case commit(group: String, topic: String, every: UInt64)
        /// Admin requests over several groups: a commit to one group in turn, then the
        /// groups' offsets in one batched OffsetFetch, DescribeGroups and ListGroups.
        case adminGroups(groups: [String], topic: String, every: UInt64)
        case metadata(every: UInt64)
        /// A direct consumer of every partition from the start, through the engine's fetcher.
        case consume(topic: String, readCommitted: Bool, sessions: Bool)
        /// Transactional producers writing straight into the cluster, committing and aborting.
        case txnWrite(topic: String, every: UInt64, producers: Int)
        /// The engine's producer: `records` records, `batch` per wake every `every`, then a flush.
        case producer(topic: String, records: Int, every: UInt64, batch: Int)
        /// The engine's transactional producer: `transactions` transactions one after
        /// another (TxnProducerWorkload), optionally a second instance of the same id.
        case txnProducer(TxnProducerSpec)
    }

    /// `workload txn-producer topic T transactions N records R every D [abort-ratio X |
    /// abort-every K] [timeout D] [zombie at TIME]`.
    package struct TxnProducerSpec: Sendable, Equatable {
        package var topic: String
        package var transactions: Int
        /// Records per transaction, one produced every `every`.
        package var records: Int
        package var every: UInt64
        /// Each transaction is aborted with this probability (drawn from the seed)...
        package var abortRatio: Double = 0.25
        /// ...or, when set, every K-th one is (the K-th, 2K-th, …).
        package var abortEvery: Int? = nil
        /// The producer's transaction timeout (ProducerConfig.transactionTimeout).
        package var timeout: UInt64 = 60_000_000_000
        /// A second producer instance with the same transactional id (its own engine)
        /// starts then and fences the first.
        package var zombieAt: UInt64? = nil

        package init(topic: String, transactions: Int, records: Int, every: UInt64) {
            self.topic = topic
            self.transactions = transactions
            self.records = records
            self.every = every
        }

        /// The transactional id both instances use.
        package var transactionalId: String { "txn-producer-\(topic)" }
    }

    package struct Sasl: Sendable, Equatable {
        package var sha512: Bool
        package var user: String
        package var password: String
        /// connections.max.reauth.ms; 0: sessions never expire.
        package var sessionMs: Int64
    }

    package struct ScriptedFault: Sendable, Equatable {
        package var at: UInt64
        package var fault: Fault
    }

    package struct RandomFaults: Sendable, Equatable {
        package var count: Int
        package var until: UInt64
        /// The kinds to draw from (`FaultSchedule.kinds`); empty: the classic mix, whose
        /// draws stay as they were before kinds existed (saved seeds replay unchanged).
        package var kinds: [String] = []
    }

    package var name = "scenario"
    package var seed: UInt64 = 1
    package var brokers = 3
    package var racks: [String] = []
    package var topics: [Topic] = []
    package var sasl: Sasl? = nil
    /// One-way network latency, uniform in this range (nanoseconds), with rare 10x spikes.
    package var latencyMin: UInt64 = 1_000_000
    package var latencyMax: UInt64 = 5_000_000
    package var workloads: [WorkloadSpec] = []
    package var faults: [ScriptedFault] = []
    package var randomFaults: RandomFaults? = nil
    /// The safety phase (faults allowed) lasts this long; then every fault heals.
    package var safety: UInt64 = 10_000_000_000
    /// The liveness phase: no faults, and the system must settle.
    package var liveness: UInt64 = 20_000_000_000
    /// Every request issued in the liveness phase must succeed within this.
    package var livenessBound: UInt64 = 15_000_000_000
    /// Invariant names to check; empty means all.
    package var invariants: [String] = []

    /// `transaction-version N`: the cluster's finalized transaction.version (KIP-890 part 2);
    /// at 2 the brokers emulate Kafka 4.0 (Produce v12, TxnOffsetCommit v5) with the feature.
    package var transactionVersion: Int16 = 0

    /// `release R`: the Kafka release every broker runs at the start (FakeClusterConfig's
    /// emulated release); nil: the default (3.9, or 4.0 with `transaction-version 2`). With
    /// it, the engine's producer leaves idempotence at its default as KafkaIO's default
    /// configuration does (`idempotenceFallback`): on a cluster before 0.11 it produces
    /// without, and takes idempotence up again once the cluster can (`upgrade-broker`).
    package var release: KafkaRelease? = nil

    /// Test hook: the consumer skips KIP-320 validation (to show the checkers catch that).
    package var disableEpochValidation = false

    package init() {}

    package var end: UInt64 { safety + liveness }
}

/// What can go wrong, scripted at a virtual time or drawn from the seed.
package enum Fault: Sendable, Equatable, CustomStringConvertible {
    case moveLeader(topic: String, partition: Int32, to: Int32?)
    case stopBroker(Int32)
    case restartBroker(Int32)
    case isolateBroker(Int32)
    case healBroker(Int32)
    /// Resets every client connection to the broker (a network fault, not a broker one).
    case resetConnections(Int32)
    /// For `window`, each client connection to the broker is reset once it has carried N
    /// bytes (both directions together), N drawn per connection from `min ... max`. A
    /// degraded network rather than an outage: progress stays possible, so the heal at the
    /// liveness phase does not end it; its window does.
    case cutAfterBytes(broker: Int32, min: Int, max: Int, window: UInt64)
    case moveCoordinator(group: String, to: Int32)
    /// The transaction coordinator of `transactionalId` moves (its coordinator epoch bumps).
    case moveTxnCoordinator(transactionalId: String, to: Int32)
    case injectError(api: String, error: String, count: Int, broker: Int32?)
    case delay(api: String, ms: Int64, count: Int, broker: Int32?)
    case dropConnection(api: String, afterHandling: Bool, count: Int, broker: Int32?)
    /// KIP-219: responses of `api` (nil: every API) carry throttle_time_ms = `ms` and mute
    /// their connection that long, for the next `count` responses or for `window`.
    case throttle(api: String?, ms: Int32, count: Int?, window: UInt64?, broker: Int32?)
    /// A client quota (KIP-546 entity: user and/or client-id, nil names the default) of
    /// `rate` for `key`, which FakeCluster enforces as KIP-219 throttles.
    case quota(key: String, rate: Double, user: String??, clientId: String??)
    /// KIP-320: `replica` loses the partition's log from `offset` and becomes leader.
    case truncateAndLead(topic: String, partition: Int32, replica: Int32, offset: Int64)
    /// Heartbeats of `who` in `group` are held for `window`: then answered late, or (`drop`)
    /// never answered and their connection closed.
    case stallHeartbeats(group: String, who: FakeGroupMember, window: UInt64, drop: Bool)
    /// The connections `who` in `group` last used are closed (the coordinator is not told).
    case disconnectMember(group: String, who: FakeGroupMember)
    /// The next N requests of API for `group` answer ERROR, on whichever broker.
    case injectGroupError(group: String, api: String, error: String, count: Int)
    /// The topic grows by `count` partitions (CreatePartitions).
    case addPartitions(topic: String, count: Int32)
    /// The broker coordinating `group` when the fault fires stops.
    case stopCoordinator(group: String)
    /// The broker coordinating transactional id `transactionalId` when the fault fires
    /// stops: another takes the transaction log over (and loads it).
    case stopTxnCoordinator(transactionalId: String)
    /// Every stopped broker restarts.
    case restartBrokers
    /// A rolling upgrade's step: the broker stops (as `stopBroker`) and runs `release` when
    /// it restarts, advertising that release's ApiVersions on new connections.
    case upgradeBroker(Int32, to: KafkaRelease)

    package var description: String {
        func on(_ b: Int32?) -> String { b.map { " broker \($0)" } ?? "" }
        switch self {
        case .moveLeader(let t, let p, let to): return "move-leader \(t)/\(p)" + (to.map { " to \($0)" } ?? "")
        case .stopBroker(let b): return "stop-broker \(b)"
        case .restartBroker(let b): return "restart-broker \(b)"
        case .isolateBroker(let b): return "isolate-broker \(b)"
        case .healBroker(let b): return "heal-broker \(b)"
        case .resetConnections(let b): return "reset-connections \(b)"
        case .cutAfterBytes(let b, let lo, let hi, let w):
            return "cut-after-bytes \(b) \(ByteText.format(lo))..\(ByteText.format(hi)) for \(DurationText.format(w))"
        case .moveCoordinator(let g, let to): return "move-coordinator \(g) to \(to)"
        case .moveTxnCoordinator(let id, let to): return "move-txn-coordinator \(id) to \(to)"
        case .injectError(let a, let e, let n, let b): return "inject-error \(a) \(e) count \(n)" + on(b)
        case .delay(let a, let ms, let n, let b): return "delay \(a) \(ms)ms count \(n)" + on(b)
        case .dropConnection(let a, let after, let n, let b):
            return "drop-connection \(a) \(after ? "after" : "before") count \(n)" + on(b)
        case .throttle(let a, let ms, let n, let w, let b):
            let span = n.map { "count \($0)" } ?? "for \(DurationText.format(w ?? 0))"
            return "throttle \(a ?? "all") \(ms)ms \(span)" + on(b)
        case .quota(let k, let rate, let u, let c):
            func part(_ type: String, _ n: String??) -> String { n.map { " \(type) \($0 ?? "default")" } ?? "" }
            return "quota \(k) \(rate == rate.rounded() && abs(rate) < 1e15 ? String(Int64(rate)) : String(rate))"
                + part("user", u) + part("client-id", c)
        case .truncateAndLead(let t, let p, let r, let o): return "truncate-and-lead \(t)/\(p) replica \(r) to \(o)"
        case .stallHeartbeats(let g, let who, let w, let drop):
            return "stall-heartbeats \(g) \(who) for \(DurationText.format(w))" + (drop ? " drop" : "")
        case .disconnectMember(let g, let who): return "disconnect-member \(g) \(who)"
        case .injectGroupError(let g, let a, let e, let n): return "inject-group-error \(g) \(a) \(e) count \(n)"
        case .addPartitions(let t, let n): return "add-partitions \(t) count \(n)"
        case .stopCoordinator(let g): return "stop-coordinator \(g)"
        case .stopTxnCoordinator(let id): return "stop-txn-coordinator \(id)"
        case .restartBrokers: return "restart-brokers"
        case .upgradeBroker(let b, let r): return "upgrade-broker \(b) to \(r.name)"
        }
    }
}

/// Virtual durations as the scenario format writes them: "250ms", "2.5s", "1m", "0", "7ns".
/// Parsing is exact to the nanosecond: a value with a fraction of a nanosecond, or past
/// UInt64, is not a duration (nil, which the parser reports as an error naming the line).
enum DurationText {
    static func parse(_ s: String) -> UInt64? {
        // (unit, power of ten, factor): 1m is 6 × 10^10 ns.
        let units: [(String, Int, UInt64)] = [("ms", 6, 1), ("us", 3, 1), ("ns", 0, 1), ("s", 9, 1), ("m", 10, 6)]
        for (u, exponent, factor) in units where s.hasSuffix(u) {
            return ExactDecimal.parse(s.dropLast(u.count), exponent: exponent, factor: factor)
        }
        return s == "0" ? 0 : nil
    }

    static func format(_ ns: UInt64) -> String {
        if ns % 1_000_000_000 == 0 { return "\(ns / 1_000_000_000)s" }
        if ns % 1_000_000 == 0 { return "\(ns / 1_000_000)ms" }
        if ns % 1_000 == 0 { return "\(ns / 1000)us" }
        return "\(ns)ns"
    }
}

/// Byte counts as the scenario format writes them: "512", "30KB", "1.5MB" (KB = 1,000
/// bytes, MB = 1,000,000: the figures proxies and issues quote). Exact, like durations.
enum ByteText {
    static func parse(_ s: String) -> Int? {
        let units: [(String, Int)] = [("KB", 3), ("MB", 6), ("B", 0)]
        let (digits, exponent) = units.first { s.hasSuffix($0.0) }.map { (s.dropLast($0.0.count), $0.1) } ?? (Substring(s), 0)
        guard let v = ExactDecimal.parse(digits, exponent: exponent), v < 1_000_000_000_000_000 else { return nil }
        return Int(v)
    }

    static func format(_ n: Int) -> String {
        if n > 0 && n % 1_000_000 == 0 { return "\(n / 1_000_000)MB" }
        if n > 0 && n % 1_000 == 0 { return "\(n / 1_000)KB" }
        return "\(n)"
    }
}
