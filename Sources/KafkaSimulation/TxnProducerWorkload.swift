import KafkaStateMachines

/// How one transaction of the engine's transactional producer ended, as its producer saw it.
package enum TxnOutcome: Sendable, Equatable {
    /// Begun, never asked to end (the producer died, was fenced, or the run ended): nothing
    /// may be visible.
    case open
    /// Abort asked (answered or not), or commit answered `.mustAbort`: nothing may be visible.
    case aborted
    /// Commit answered success: every record visible, once.
    case committed
    /// Commit asked, answer fatal or never came: all visible or none.
    case uncertain
}

/// One producer instance's transactions, for TxnChecker.
package struct TxnHistory: Sendable, Equatable {
    package struct Transaction: Sendable, Equatable {
        package var outcome: TxnOutcome
        /// Records handed to the engine (record indexes 0 ..< produced).
        package var produced: Int
        package init(outcome: TxnOutcome, produced: Int) {
            self.outcome = outcome
            self.produced = produced
        }
    }

    /// 0: the first instance; 1: the one started later with the same transactional id.
    package var instance: Int
    package var transactions: [Transaction]
    /// The instance ended fenced by the other (whichever initialised last wins).
    package var fenced: Bool
    package init(instance: Int, transactions: [Transaction], fenced: Bool = false) {
        self.instance = instance
        self.transactions = transactions
        self.fenced = fenced
    }
}

/// The engine's transactional producer (`workload txn-producer`): `transactions`
/// transactions one after another, each begun, given `records` records (one every
/// `every`, keyed so the partitioner spreads them), then committed or aborted as the seed
/// decides, the answer awaited before the next begin. A commit answered `.mustAbort` is
/// aborted and the run carries on; a fatal answer ends the instance. With `zombie at T` a
/// second instance (its own engine, same transactional id) starts at T and fences the
/// first — or is fenced by it, when the first one's InitProducerId lands later (faults
/// can hold it that long). Values are "x<instance>.<transaction>.<index>". Checks here
/// (txn-progress): the instance finished all its transactions unless the other fenced it; no
/// answer was unexpected; no record was reported twice; calls made in the liveness phase
/// were answered within the bound. The log checks are TxnChecker's.
struct TxnProducerWorkload: SimWorkload {
    let spec: Scenario.TxnProducerSpec
    let instance: Int
    let startAt: UInt64
    let livenessBound: UInt64
    var rng: SeededGenerator

    enum Phase: Equatable {
        case idle
        case beginning(PromiseID)
        case open(commit: Bool)
        case ending(commit: Bool, PromiseID)
        case done
        case dead
    }
    var phase = Phase.idle
    var history: TxnHistory
    var fatal: TransactionError? = nil
    var mustAborts = 0
    /// Commits answered `.commitUncertain` (KIP-588 recovery): ended, outcome unknown.
    var settledUncertain = 0
    /// Must-aborts caused by a fence (KIP-588: the abort then recovers the epoch, or is fatal).
    var fencedMustAborts = 0
    var problems: [String] = []
    /// The call awaited: when it was made and whether in the liveness phase.
    var callAt: (at: UInt64, liveness: Bool, what: String)? = nil
    /// Delivery reports per transaction and record index.
    var reports: [[UInt8]] = []

    init(spec: Scenario.TxnProducerSpec, instance: Int, livenessBound: UInt64, seed: UInt64) {
        self.spec = spec
        self.instance = instance
        self.startAt = instance == 0 ? 0 : (spec.zombieAt ?? 0)
        self.livenessBound = livenessBound
        self.rng = SeededGenerator(seed: seed)
        self.history = TxnHistory(instance: instance, transactions: [])
    }

    var name: String { "txn-producer \(spec.topic)#\(instance)" }
    var engineIndex: Int { instance }
    var wakesWhileDraining: Bool { true }

    /// Nothing outstanding: no call awaited and no transaction open.
    var settled: Bool {
        switch phase {
        case .idle, .done, .dead: return true
        default: return false
        }
    }

    static func value(instance: Int, transaction: Int, index: Int) -> [UInt8] {
        Array("x\(instance).\(transaction).\(index)".utf8)
    }

    /// (instance, transaction, index) of a value `value` made; nil for anything else.
    static func parse(_ value: [UInt8]) -> (instance: Int, transaction: Int, index: Int)? {
        guard value.first == UInt8(ascii: "x") else { return nil }
        let parts = value.dropFirst().split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var n: [Int] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 9, p.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            n.append(p.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) })
        }
        return (n[0], n[1], n[2])
    }

    func token(_ transaction: Int, _ index: Int) -> UInt64 {
        UInt64(instance + 1) << 48 | UInt64(transaction) << 24 | UInt64(index)
    }

    mutating func wake(_ ctx: inout WorkloadContext) -> UInt64? {
        if ctx.now < startAt { return startAt }
        switch phase {
        case .idle:
            if ctx.draining || history.transactions.count >= spec.transactions {
                phase = .done
                return nil
            }
            let p = ctx.promise()
            ctx.input(.beginTransaction(p))
            call("begin", ctx)
            phase = .beginning(p)
            return nil
        case .open(let commit):
            let t = history.transactions.count - 1
            let i = history.transactions[t].produced
            if !ctx.draining && i < spec.records {
                history.transactions[t].produced += 1
                reports[t].append(0)
                ctx.produce(ProducerRecord(topic: spec.topic, key: Array("k\(t).\(i)".utf8),
                                           value: Self.value(instance: instance, transaction: t, index: i),
                                           timestamp: Int64(ctx.now / 1_000_000), token: token(t, i)))
                return ctx.now + spec.every
            }
            end(commit: commit, &ctx)
            return nil
        case .beginning, .ending, .done, .dead:
            return nil
        }
    }

    private mutating func end(commit: Bool, _ ctx: inout WorkloadContext) {
        let p = ctx.promise()
        ctx.input(.endTransaction(commit: commit, p))
        call(commit ? "commit" : "abort", ctx)
        // An abort asked can never become a commit; a commit is uncertain until answered.
        history.transactions[history.transactions.count - 1].outcome = commit ? .uncertain : .aborted
        phase = .ending(commit: commit, p)
    }

    private mutating func call(_ what: String, _ ctx: WorkloadContext) {
        callAt = (ctx.now, ctx.inLiveness, "\(what) of transaction \(history.transactions.count - (what == "begin" ? 0 : 1))")
    }

    /// Whether the transaction about to begin aborts (drawn once per transaction).
    private mutating func decideCommit(_ t: Int) -> Bool {
        if let k = spec.abortEvery { return (t + 1) % k != 0 }
        return Double.random(in: 0 ..< 1, using: &rng) >= spec.abortRatio
    }

    mutating func completed(_ p: PromiseID, _ result: Result<any KafkaResponse, KafkaClientError>, _ ctx: inout WorkloadContext) {}

    mutating func producerNotice(_ notice: ProducerNotice, _ ctx: inout WorkloadContext) {
        guard case .transactionDone(let p, let error) = notice else { return }
        switch phase {
        case .beginning(let q) where q == p:
            answered(ctx)
            switch error {
            case nil:
                let t = history.transactions.count
                history.transactions.append(.init(outcome: .open, produced: 0))
                reports.append([])
                phase = .open(commit: decideCommit(t))
                ctx.wake(at: ctx.now + spec.every)
            case .fatal?: die(error!)
            case let e?:
                problems.append("begin answered \(e)")
                phase = .dead
            }
        case .ending(let commit, let q) where q == p:
            answered(ctx)
            let t = history.transactions.count - 1
            switch error {
            case nil:
                history.transactions[t].outcome = commit ? .committed : .aborted
                phase = .idle
                ctx.wake(at: ctx.now + spec.every)
            case .mustAbort(let cause)? where commit:
                mustAborts += 1
                if cause.isFenced { fencedMustAborts += 1 }
                history.transactions[t].outcome = .aborted
                end(commit: false, &ctx)
            case .commitUncertain? where commit:
                // KIP-588 settled a commit whose EndTxn was fenced: over, not confirmed.
                // Judged as aborted, which is stricter than the answer claims: FakeCluster
                // grants the recovery only for the epoch its timeout abort fenced, and a
                // transaction that EndTxn had reached could not time out, so nothing of it
                // may be visible (txn-visible checks that).
                settledUncertain += 1
                history.transactions[t].outcome = .aborted
                phase = .idle
                ctx.wake(at: ctx.now + spec.every)
            case .fatal?: die(error!)
            case let e?:
                problems.append("\(commit ? "commit" : "abort") of transaction \(t) answered \(e)")
                phase = .dead
            }
        default:
            return
        }
    }

    private mutating func answered(_ ctx: WorkloadContext) {
        if let c = callAt, c.liveness, ctx.now - c.at > livenessBound {
            problems.append("\(c.what) took \(DurationText.format((ctx.now - c.at) / 1_000_000 * 1_000_000)) after faults healed")
        }
        callAt = nil
    }

    private mutating func die(_ e: TransactionError) {
        fatal = e
        history.fenced = e.isFenced
        phase = .dead
    }

    mutating func delivered(_ report: DeliveryReport, _ ctx: inout WorkloadContext) {
        guard report.topic == spec.topic else { return }
        for token in report.tokens where token >> 48 == UInt64(instance + 1) {
            let t = Int(token >> 24 & 0xFF_FFFF), i = Int(token & 0xFF_FFFF)
            guard t < reports.count, i < reports[t].count else { continue }
            reports[t][i] &+= 1
        }
    }

    /// How the instance's transactions ended, for `kgo sim run`.
    var summary: String {
        func count(_ o: TxnOutcome) -> Int { history.transactions.filter { $0.outcome == o }.count }
        return "\(name): \(history.transactions.count) begun, \(count(.committed)) committed, \(count(.aborted)) aborted "
            + "(\(mustAborts) after must-abort, \(fencedMustAborts) of them fenced; \(settledUncertain) commits settled by recovery), "
            + "\(count(.uncertain)) uncertain, \(count(.open)) left open"
            + (fatal.map { ", fatal: \($0)" } ?? "")
    }

    /// Whether this instance may end fenced: there are two instances of the id.
    var mayBeFenced: Bool { spec.zombieAt != nil }

    func finish(_ ctx: inout WorkloadContext) {
        let v = "txn-progress"
        for p in problems { ctx.violations.add(v, "\(name): \(p)", at: ctx.now) }
        if let fatal, !(mayBeFenced && fatal.isFenced) {
            ctx.violations.add(v, "\(name): producer failed fatally: \(fatal)", at: ctx.now)
        }
        if let c = callAt { ctx.violations.add(v, "\(name): \(c.what) never answered", at: ctx.now) }
        let ended = history.transactions.filter { $0.outcome == .committed || $0.outcome == .aborted }.count
        if fatal == nil && problems.isEmpty && callAt == nil && ended < spec.transactions {
            ctx.violations.add(v, "\(name): \(ended) of \(spec.transactions) transactions ended", at: ctx.now)
        }
        for (t, rs) in reports.enumerated() {
            if let i = rs.firstIndex(where: { $0 > 1 }) {
                ctx.violations.add(v, "\(name): record \(t).\(i) reported \(rs[i]) times", at: ctx.now)
                break
            }
            // A live producer reports every record it took (delivered, or failed with the abort).
            if fatal == nil, let i = rs.firstIndex(of: 0) {
                ctx.violations.add(v, "\(name): record \(t).\(i) never reported", at: ctx.now)
                break
            }
        }
    }
}
