import FakeCluster
import KafkaProtocol
import KafkaStateMachines

/// The transactional producer's part of a run (`workload txn-producer`): the run ends only
/// once every instance has nothing outstanding and the coordinator holds no open
/// transaction for the id (markers written, or a dead producer's transaction timed out,
/// within the drain); then TxnChecker reads the logs.
extension Simulation {
    var txnProducers: [TxnProducerWorkload] { workloads.compactMap { $0 as? TxnProducerWorkload } }

    /// Nothing left to wait for on the transactional side.
    func txnProducersSettled() -> Bool {
        let txns = txnProducers
        guard !txns.isEmpty else { return true }
        guard txns.allSatisfy(\.settled) else { return false }
        guard others.allSatisfy({ ($0?.producerBufferedRecords ?? 0) == 0 }) else { return false }
        return cluster.describeTransaction(txns[0].spec.transactionalId)?.isOpen != true
    }

    mutating func checkTxnProducers() {
        let txns = txnProducers
        guard let spec = txns.first?.spec else { return }
        var visible: [(partition: Int32, records: [TxnChecker.Visible])] = []
        if violations.checks("txn-visible") {
            let parts = scenario.topics.first { $0.name == spec.topic }?.partitions ?? 1
            for p in 0 ..< parts {
                switch LogChecker.readBatches(spec.topic, p, cluster: &cluster, sasl: scenario.sasl != nil, now: now) {
                case .success(let batches):
                    visible.append((p, TxnChecker.readCommitted(batches)))
                    if trace != nil {
                        // KGO_SIM_LOG: each partition's batches as the checker read them.
                        for b in batches {
                            let h = b.header
                            let what = b.isControl ? (b.records.first.flatMap { try? ControlRecord(parsing: $0) }.map { "\($0.type)" } ?? "control")
                                                   : b.records.map { String(decoding: $0.valueBytes ?? [], as: UTF8.self) }.joined(separator: ",")
                            note("log \(spec.topic)[\(p)] @\(h.baseOffset) pid=\(h.producerId) epoch=\(h.producerEpoch) seq=\(h.baseSequence)\(b.isTransactional ? " txn" : "") \(what)")
                        }
                    }
                case .failure(let e): violations.add("txn-visible", "cannot read \(spec.topic)[\(p)] back: \(e.message)", at: now)
                }
            }
        }
        TxnChecker.check(topic: spec.topic, histories: txns.map(\.history), visible: visible, now: now, into: &violations)
        // A read_committed consumer of the topic (the engine's fetcher) must have read
        // exactly that view, record for record.
        for case let c as ConsumerWorkload in workloads where c.topic == spec.topic && c.isolation == .readCommitted {
            for (p, records) in visible {
                let got = (c.order[p] ?? []).map(\.value)
                let want = records.map(\.value)
                guard got != want else { continue }
                let at = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, want.count)
                violations.add("txn-visible", "\(spec.topic)[\(p)]: the read_committed consumer read \(got.count) records, the committed view has \(want.count); first difference at record \(at)", at: now)
            }
        }
        // Each InitProducerId fences the other instance; only a second one from the fenced
        // instance (it has none to send) could fence both.
        if txns.count > 1, txns.allSatisfy(\.history.fenced) {
            violations.add("txn-progress", "both instances of \(spec.transactionalId) ended fenced", at: now)
        }
        TxnChecker.checkClosed(cluster.describeTransaction(spec.transactionalId), now: now, into: &violations)
    }
}
