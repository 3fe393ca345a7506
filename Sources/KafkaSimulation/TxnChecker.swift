import FakeCluster
import KafkaProtocol

/// The transactional producer's end-of-run checks over the partitions' logs, read straight
/// from the leaders (LogChecker.readBatches) and turned into what a read_committed reader
/// sees: a transactional batch becomes visible at its producer's COMMIT marker and is gone
/// at an ABORT marker; a batch no marker closes stays invisible. Fed facts only, so tests
/// can feed it bad histories (TxnCheckerTests).
///
/// - `txn-visible`: per partition, the visible records of the workload are exactly those of
///   the transactions whose commit was answered success (each once), none of a transaction
///   aborted or never asked to commit; a transaction whose commit answer never came (or was
///   fatal) is all visible or not at all; within an instance records appear in produce
///   order; nothing of an instance that ended fenced appears after a record of the other
///   (nothing it writes may commit once the instance that fenced it wrote); nothing
///   foreign appears.
/// - `txn-closed`: at the end the coordinator holds no open transaction for the id.
/// - `txn-timeout` (`overdue`, checked as virtual time passes): no transaction stays
///   Ongoing past its timeout (plus the load window of a coordinator that took it over).
package enum TxnChecker {
    /// One visible record.
    package struct Visible: Sendable, Equatable {
        package var offset: Int64
        package var value: [UInt8]
        package init(offset: Int64, value: [UInt8]) {
            self.offset = offset
            self.value = value
        }
    }

    /// What a read_committed reader sees of a partition, in offset order, from its batches.
    package static func readCommitted(_ batches: [RecordBatch]) -> [Visible] {
        var visible: [Visible] = []
        var pending: [Int64: [Visible]] = [:]  // by producer id; looked up only
        for b in batches {
            let pid = b.header.producerId
            if b.isControl {
                guard let r = b.records.first, let marker = try? ControlRecord(parsing: r) else { continue }
                let records = pending.removeValue(forKey: pid) ?? []
                if marker.type == .commit { visible += records }
            } else if b.isTransactional {
                pending[pid, default: []] += b.records.map { Visible(offset: $0.offset, value: $0.valueBytes ?? []) }
            } else {
                visible += b.records.map { Visible(offset: $0.offset, value: $0.valueBytes ?? []) }
            }
        }
        visible.sort { $0.offset < $1.offset }
        return visible
    }

    /// Checks the visible records of every partition (ascending partition order) against
    /// the instances' histories.
    package static func check(topic: String, histories: [TxnHistory], visible: [(partition: Int32, records: [Visible])],
                              now: UInt64, into v: inout Violations) {
        let name = "txn-visible"
        guard v.checks(name) else { return }
        // seen[instance][transaction][index]: visible how many times.
        var seen: [[[Int]]] = []
        for h in histories {
            let i = h.instance
            while seen.count <= i { seen.append([]) }
            seen[i] = h.transactions.map { Array(repeating: 0, count: $0.produced) }
        }
        func fenced(_ i: Int) -> Bool { histories.first { $0.instance == i }?.fenced ?? false }
        func outcome(_ i: Int, _ t: Int) -> TxnOutcome? {
            histories.first { $0.instance == i }.flatMap { t < $0.transactions.count ? $0.transactions[t].outcome : nil }
        }
        var reported = 0
        func add(_ m: String) {
            // The first few say enough; a broken run would otherwise list every record.
            reported += 1
            if reported <= 5 { v.add(name, m, at: now) }
        }
        for (p, records) in visible {
            var last: [Int: (t: Int, i: Int, offset: Int64)] = [:]
            var firstOf: [Int: Int64] = [:]  // each instance's first visible offset here
            for r in records {
                let text = String(decoding: r.value, as: UTF8.self)
                guard let id = TxnProducerWorkload.parse(r.value), id.instance < seen.count,
                      id.transaction < seen[id.instance].count, id.index < seen[id.instance][id.transaction].count,
                      let o = outcome(id.instance, id.transaction) else {
                    add("\(topic)[\(p)] offset \(r.offset): \(text) is no record the producer wrote")
                    continue
                }
                switch o {
                case .open: add("\(topic)[\(p)] offset \(r.offset): \(text) is visible, but its transaction never asked to commit")
                case .aborted: add("\(topic)[\(p)] offset \(r.offset): \(text) is visible, but its transaction was aborted")
                case .committed, .uncertain: break
                }
                seen[id.instance][id.transaction][id.index] += 1
                if seen[id.instance][id.transaction][id.index] == 2 {
                    add("\(topic)[\(p)] offset \(r.offset): \(text) visible twice")
                }
                if let l = last[id.instance], (l.t, l.i) >= (id.transaction, id.index) {
                    add("\(topic)[\(p)] offset \(r.offset): \(text) after x\(id.instance).\(l.t).\(l.i) at \(l.offset) (out of produce order)")
                }
                last[id.instance] = (id.transaction, id.index, r.offset)
                if fenced(id.instance), let other = firstOf.keys.sorted().first(where: { $0 != id.instance }) {
                    add("\(topic)[\(p)] offset \(r.offset): \(text) of fenced instance \(id.instance) is visible after instance \(other)'s record at \(firstOf[other]!)")
                }
                if firstOf[id.instance] == nil { firstOf[id.instance] = r.offset }
            }
        }
        for h in histories {
            for (t, txn) in h.transactions.enumerated() {
                let counts = seen[h.instance][t]
                let shown = counts.filter { $0 > 0 }.count
                switch txn.outcome {
                case .committed where shown < txn.produced:
                    let missing = counts.firstIndex(of: 0)!
                    add("transaction \(h.instance).\(t) committed, but \(txn.produced - shown) of its \(txn.produced) records are not visible (first x\(h.instance).\(t).\(missing))")
                case .uncertain where shown > 0 && shown < txn.produced:
                    add("transaction \(h.instance).\(t) (commit answer unknown) is partly visible: \(shown) of \(txn.produced) records")
                default:
                    break
                }
            }
        }
    }

    /// `txn-closed`: the coordinator holds no open (Ongoing, PrepareCommit, PrepareAbort)
    /// transaction for the id at the end of the run.
    /// `txn-timeout`: at `now` (virtual nanoseconds) the coordinator holds `snapshot`'s
    /// transaction Ongoing more than 1 ms past its timeout, counted from its start — or,
    /// when a broker took the id over, from the end of that broker's load (it cannot abort
    /// before it has loaded). nil when fine; else the violation's message.
    package static func overdue(_ snapshot: FakeTransactionSnapshot?, now: UInt64) -> String? {
        guard let s = snapshot, s.state == "Ongoing", let start = s.startedAt else { return nil }
        let due = max(start.nanoseconds + UInt64(s.timeoutMs) * 1_000_000, s.loadingUntil?.nanoseconds ?? 0)
        guard now > due + 1_000_000 else { return nil }
        return "\(s.transactionalId): transaction open since \(DurationText.format(start.nanoseconds / 1_000_000 * 1_000_000)) with timeout \(s.timeoutMs) ms is still Ongoing \(DurationText.format((now - due) / 1_000_000 * 1_000_000)) past it"
    }

    package static func checkClosed(_ snapshot: FakeTransactionSnapshot?, now: UInt64, into v: inout Violations) {
        guard let s = snapshot, s.isOpen else { return }
        let since = s.startedAt.map { " since \(DurationText.format($0.nanoseconds / 1_000_000 * 1_000_000))" } ?? ""
        v.add("txn-closed", "\(s.transactionalId): transaction still \(s.state) at the coordinator\(since) (timeout \(s.timeoutMs) ms, partitions \(s.partitions.map { "\($0.topic)[\($0.partition)]" }.joined(separator: ",")))", at: now)
    }
}
