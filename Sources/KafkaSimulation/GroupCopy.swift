import FakeCluster
import KafkaProtocol
import KafkaStateMachines

/// Copy mode of the group simulation (`copy to OUT` in a group scenario): the group is an
/// exactly-once consume-transform-produce pipeline. Every member engine holds a group
/// member and a transactional producer (read_committed, GroupConfig.transactional) and
/// loops: take what it fetched, begin, produce one record per input record into OUT
/// (value "pP-oO", key naming the transaction attempt), report the positions, send them
/// into the transaction, commit — or abort on purpose with the plan's ratio, or abort when
/// the commit must abort / the member is not in the group. At the end OUT is read straight
/// from the cluster's logs and checked (GroupChecker.copied).
extension GroupSimulation {
    package struct CopyPlan: Sendable {
        package var topic: String
        package var partitions: Int32 = 6
        /// The chance that a transaction is aborted on purpose instead of committed.
        package var abortRatio = 0.1
        /// Input records per transaction at most.
        package var recordsPerTxn = 10
        package var transactionTimeoutMs: UInt64 = 10_000
        /// A user's think time: the member takes its records (as a poll would hand them out)
        /// and waits this long before it begins the transaction, so a revocation or a loss
        /// can come between. Records in hand are not taken back by the rebalance. Nil: none.
        package var thinkMs: ClosedRange<UInt64>? = nil

        package init(topic: String) { self.topic = topic }
    }

    enum CopyStep: Equatable {
        case idle
        case beginning(UInt64)
        case sending(UInt64, commit: Bool)
        case ending(UInt64, commit: Bool)
    }

    struct CopyState {
        var step = CopyStep.idle
        /// Fetched offsets not yet in a transaction, per partition, ascending.
        var held: [TopicPartition: [Int64]] = [:]
        /// The next offset after the last one held or taken per partition (dedupes re-reads).
        var next: [TopicPartition: Int64] = [:]
        /// Records taken for the transaction being begun, partitions in order (a poll's
        /// result: a rebalance does not take them back).
        var hand: [(TopicPartition, [Int64])] = []
        /// Transactions begun in this life (names the attempt in the output key).
        var count = 0
        var key = ""
    }

    mutating func hold(_ i: Int, _ tp: TopicPartition, _ offsets: [Int64]) {
        for o in offsets where o >= (members[i].copy.next[tp] ?? 0) {
            members[i].copy.held[tp, default: []].append(o)
            members[i].copy.next[tp] = o + 1
        }
    }

    /// Forgets what the member held of these partitions (revoked, lost, or rewound: they
    /// are fetched again from the committed offsets by whoever owns them).
    mutating func drop(_ i: Int, _ parts: [TopicPartition]) {
        guard plan.copy != nil else { return }
        for tp in parts {
            members[i].copy.held[tp] = nil
            members[i].copy.next[tp] = nil
        }
    }

    mutating func promise() -> UInt64 {
        nextPromise += 1
        return nextPromise
    }

    /// Starts a transaction when the member is idle and holds records: takes up to
    /// recordsPerTxn of them (partitions in order) into its hand, then begins — after the
    /// plan's think time, if any.
    mutating func pump(_ i: Int) {
        guard let copy = plan.copy, members[i].engine != nil, !members[i].leaving, members[i].copy.step == .idle,
              members[i].copy.held.values.contains(where: { !$0.isEmpty }) else { return }
        var left = copy.recordsPerTxn
        var hand: [(TopicPartition, [Int64])] = []
        for tp in members[i].copy.held.keys.sorted() where left > 0 {
            let offs = members[i].copy.held[tp]!
            guard !offs.isEmpty else { continue }
            let take = Array(offs.prefix(left))
            left -= take.count
            members[i].copy.held[tp] = Array(offs.dropFirst(take.count))
            hand.append((tp, take))
        }
        members[i].copy.hand = hand
        let p = promise()
        members[i].copy.step = .beginning(p)
        members[i].copy.count += 1
        members[i].copy.key = "m\(i)-l\(members[i].life)-t\(members[i].copy.count)"
        if let think = copy.thinkMs {
            queue.push(at: now + UInt64.random(in: think, using: &rng) * Self.ms, .copyBegin(member: i, life: members[i].life, p))
        } else {
            feed(i, .beginTransaction(PromiseID(p)))
        }
    }

    /// The think time is over: begin, if the member is still the one that took the hand.
    mutating func copyBegin(_ i: Int, life: Int, _ p: UInt64) {
        guard members[i].life == life, members[i].engine != nil, members[i].copy.step == .beginning(p) else { return }
        feed(i, .beginTransaction(PromiseID(p)))
    }

    mutating func transactionDone(_ i: Int, _ p: UInt64, _ error: TransactionError?) {
        guard let copy = plan.copy else { return }
        if traceEvents { log.append("\(now / Self.ms) ms:   member \(i): transaction \(members[i].copy.key) step \(members[i].copy.step) done \(error.map { "\($0)" } ?? "ok")") }
        switch members[i].copy.step {
        case .beginning(let q) where q == p:
            let hand = members[i].copy.hand
            members[i].copy.hand = []
            guard error == nil else {
                warnings.append("member \(i) at \(now / Self.ms) ms: begin failed: \(error!)")
                members[i].copy.step = .idle
                // Back where they were taken from, unless the partition was since dropped.
                for (tp, take) in hand where members[i].copy.next[tp] != nil {
                    members[i].copy.held[tp] = take + (members[i].copy.held[tp] ?? [])
                }
                return
            }
            var records: [ProducerRecord] = []
            var positions: [TopicPartition: CommitPosition] = [:]
            for (tp, take) in hand {
                for o in take {
                    records.append(ProducerRecord(topic: copy.topic, partition: tp.partition % copy.partitions,
                                                  key: Array(members[i].copy.key.utf8), value: Array("p\(tp.partition)-o\(o)".utf8),
                                                  timestamp: 0, token: UInt64(o)))
                }
                positions[tp] = CommitPosition(offset: take.last! + 1)
            }
            let commit = Double.random(in: 0 ..< 1, using: &rng) >= copy.abortRatio
            if traceEvents {
                let what = hand.map { "\($0.0.topic)/\($0.0.partition):\($0.1.first!)..\($0.1.last!)" }.joined(separator: ",")
                log.append("\(now / Self.ms) ms:   member \(i): transaction \(members[i].copy.key) carries \(what) commit: \(commit)")
            }
            let s = promise()
            members[i].copy.step = .sending(s, commit: commit)
            if !records.isEmpty { feed(i, .produce(records)) }
            if !positions.isEmpty { feed(i, .groupConsumed(positions)) }
            feed(i, .sendOffsetsToTransaction(nil, PromiseID(s)))
        case .sending(let q, let commit) where q == p:
            let c = commit && error == nil
            if let e = error, e != .notInGroup, !isMustAbort(e) {
                warnings.append("member \(i) at \(now / Self.ms) ms: sending offsets failed: \(e)")
            }
            let s = promise()
            members[i].copy.step = .ending(s, commit: c)
            feed(i, .endTransaction(commit: c, PromiseID(s)))
        case .ending(let q, let commit) where q == p:
            if error == nil {
                if commit { copyCommits += 1 } else {
                    copyAborts += 1
                    checker.abortedTransaction(members[i].copy.key)
                }
                members[i].copy.step = .idle
            } else if commit, isMustAbort(error!) {
                let s = promise()
                members[i].copy.step = .ending(s, commit: false)
                feed(i, .endTransaction(commit: false, PromiseID(s)))
                return
            } else {
                // An abort that failed, or a commit with an unknown outcome: not judged.
                warnings.append("member \(i) at \(now / Self.ms) ms: end(commit: \(commit)) failed: \(error!)")
                members[i].copy.step = .idle
            }
        default:
            return
        }
        pump(i)
    }

    func isMustAbort(_ e: TransactionError) -> Bool {
        if case .mustAbort = e { return true }
        return false
    }

    /// The member's engine is gone (crash, or left): a transaction it had open and was not
    /// committing is aborted by the coordinator's timeout (or the next instance's fencing).
    mutating func abandonTransaction(_ i: Int) {
        guard plan.copy != nil else { return }
        switch members[i].copy.step {
        case .beginning, .sending, .ending(_, commit: false): checker.abortedTransaction(members[i].copy.key)
        case .idle, .ending(_, commit: true): break
        }
        members[i].copy.step = .idle
    }

    /// Reads OUT's logs and checks the copy (GroupChecker.copied).
    mutating func checkCopy() {
        guard let copy = plan.copy else { return }
        var outputs: [Int32: CopyLogRead] = [:]
        for p in 0 ..< copy.partitions {
            switch Self.readCommitted(copy.topic, p, cluster: &cluster, now: now) {
            case .success(let r): outputs[p] = r
            case .failure(let e): checker.violations.append("copied-once: reading \(copy.topic)/\(p): \(e.message)")
            }
        }
        var committed: [TopicPartition: Int64] = [:]
        for o in coordinatorOffsets() ?? [] { committed[o.topicPartition] = o.offset }
        checker.copied(input: written.keys.sorted().map { ($0, written[$0]!) }, output: outputs, committed: committed)
    }

    /// A partition's read_committed view computed from its raw log: records of committed
    /// transactions (and non-transactional ones) in offset order, plus the values of
    /// transactional records whose transaction is still open at the end.
    static func readCommitted(_ topic: String, _ partition: Int32, cluster: inout FakeCluster, now: UInt64) -> Swift.Result<CopyLogRead, LogChecker.ReadError> {
        guard let leader = cluster.partitionInfo(.init(topic, partition))?.leader,
              var conn = DirectConnection(broker: leader, cluster: &cluster) else { return .failure(.init(message: "no leader")) }
        defer { conn.close(&cluster) }
        let contexts = CompressionContexts()
        var read = CopyLogRead()
        var open: [Int64: [CopyLogRead.Record]] = [:]
        var offset: Int64 = 0
        while true {
            var fp = FetchRequest.FetchPartition()
            fp.partition = partition
            fp.fetchOffset = offset
            fp.partitionMaxBytes = 1 << 24
            var ft = FetchRequest.FetchTopic()
            ft.topic = topic
            ft.partitions = [fp]
            var f = FetchRequest()
            f.replicaId = -1
            f.topics = [ft]
            guard let resp = conn.call(f, version: 11, cluster: &cluster, now: now), let pd = resp.responses.first?.partitions.first else {
                return .failure(.init(message: "fetch at \(offset) got no answer"))
            }
            guard pd.errorCode == 0 else { return .failure(.init(message: "fetch at \(offset): error \(pd.errorCode)")) }
            guard let bytes = pd.records, !bytes.isEmpty,
                  let batches = try? RecordsReader.decodeAll(bytes, contexts: contexts).batches, !batches.isEmpty else { break }
            for b in batches where b.header.nextOffset > offset {
                let pid = b.header.producerId
                if b.isControl {
                    guard let first = b.records.first, let marker = try? ControlRecord(parsing: first) else { continue }
                    let rs = open.removeValue(forKey: pid) ?? []
                    if marker.type == .commit { read.visible += rs } else { read.aborted += rs }
                    continue
                }
                let rs = b.records.filter { $0.offset >= offset }.map {
                    CopyLogRead.Record(key: String(decoding: $0.keyBytes ?? [], as: UTF8.self),
                                       value: String(decoding: $0.valueBytes ?? [], as: UTF8.self))
                }
                if b.isTransactional { open[pid, default: []] += rs } else { read.visible += rs }
            }
            let last = batches.last!.header.nextOffset
            guard last > offset, last < pd.highWatermark else { break }
            offset = last
        }
        read.open = open.keys.sorted().flatMap { open[$0]! }
        return .success(read)
    }
}

/// An output partition as the copy checker sees it.
package struct CopyLogRead: Sendable, Equatable {
    package struct Record: Sendable, Equatable {
        /// The transaction attempt ("mM-lL-tT").
        package var key: String
        /// The input record copied ("pP-oO").
        package var value: String
        package init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// Committed records in offset order.
    package var visible: [Record] = []
    /// Records of aborted transactions (for diagnosis).
    package var aborted: [Record] = []
    /// Records of transactions still open at the end.
    package var open: [Record] = []

    package init(visible: [Record] = [], aborted: [Record] = [], open: [Record] = []) {
        self.visible = visible
        self.aborted = aborted
        self.open = open
    }
}
