import Testing
@testable import KafkaSimulation
import KafkaStateMachines
import KafkaProtocol
import FakeCluster

/// The transactional producer's checkers fed bad histories: each must fire (a checker that
/// never fires proves nothing), and a good history must pass.
@Suite struct TxnCheckerTests {
    typealias V = TxnChecker.Visible

    static func val(_ i: Int, _ t: Int, _ x: Int) -> [UInt8] { TxnProducerWorkload.value(instance: i, transaction: t, index: x) }

    /// Instance 0: transaction 0 committed (2 records), 1 aborted (2), 2 uncertain (2), 3 open (1).
    static let histories = [TxnHistory(instance: 0, transactions: [
        .init(outcome: .committed, produced: 2), .init(outcome: .aborted, produced: 2),
        .init(outcome: .uncertain, produced: 2), .init(outcome: .open, produced: 1),
    ])]

    static func run(_ visible: [(partition: Int32, records: [V])], histories: [TxnHistory] = histories) -> [String] {
        var v = Violations(enabled: [])
        TxnChecker.check(topic: "t", histories: histories, visible: visible, now: 0, into: &v)
        return v.list
    }

    /// The good view: transaction 0 across two partitions, transaction 2 (uncertain) whole or absent.
    @Test func goodViewsPass() {
        #expect(Self.run([(0, [V(offset: 0, value: Self.val(0, 0, 0))]), (1, [V(offset: 0, value: Self.val(0, 0, 1))])]).isEmpty)
        #expect(Self.run([(0, [V(offset: 0, value: Self.val(0, 0, 0)), V(offset: 5, value: Self.val(0, 2, 0)),
                               V(offset: 6, value: Self.val(0, 2, 1))]),
                          (1, [V(offset: 0, value: Self.val(0, 0, 1))])]).isEmpty)
    }

    @Test func committedRecordMissingIsCaught() {
        let v = Self.run([(0, [V(offset: 0, value: Self.val(0, 0, 0))])])
        #expect(v.count == 1 && v[0].hasPrefix("txn-visible") && v[0].contains("1 of its 2 records are not visible"))
    }

    @Test func abortedOrOpenRecordVisibleIsCaught() {
        let base = [V(offset: 0, value: Self.val(0, 0, 0)), V(offset: 1, value: Self.val(0, 0, 1))]
        let aborted = Self.run([(0, base + [V(offset: 3, value: Self.val(0, 1, 0))])])
        #expect(aborted.count == 1 && aborted[0].contains("was aborted"))
        let open = Self.run([(0, base + [V(offset: 3, value: Self.val(0, 3, 0))])])
        #expect(open.count == 1 && open[0].contains("never asked to commit"))
    }

    @Test func partlyVisibleUncertainTransactionIsCaught() {
        let v = Self.run([(0, [V(offset: 0, value: Self.val(0, 0, 0)), V(offset: 1, value: Self.val(0, 0, 1)),
                               V(offset: 4, value: Self.val(0, 2, 1))])])
        #expect(v.count == 1 && v[0].contains("partly visible"))
    }

    @Test func duplicatesOrderAndForeignRecordsAreCaught() {
        let dup = Self.run([(0, [V(offset: 0, value: Self.val(0, 0, 0)), V(offset: 1, value: Self.val(0, 0, 1)),
                                 V(offset: 2, value: Self.val(0, 0, 1))])])
        #expect(dup.contains { $0.contains("visible twice") })
        let order = Self.run([(0, [V(offset: 0, value: Self.val(0, 0, 1)), V(offset: 1, value: Self.val(0, 0, 0))])])
        #expect(order.count == 1 && order[0].contains("out of produce order"))
        let foreign = Self.run([(0, [V(offset: 0, value: Self.val(0, 0, 0)), V(offset: 1, value: Self.val(0, 0, 1)),
                                     V(offset: 2, value: Array("hello".utf8)), V(offset: 3, value: Self.val(0, 0, 7))])])
        #expect(foreign.count == 2 && foreign.allSatisfy { $0.contains("no record the producer wrote") })
    }

    /// Instance 1 fenced instance 0: an instance-0 record after an instance-1 one means
    /// the fenced producer committed after the new one wrote.
    @Test func fencedInstanceVisibleAfterTheNewOneIsCaught() {
        let h = [TxnHistory(instance: 0, transactions: [.init(outcome: .uncertain, produced: 1)], fenced: true),
                 TxnHistory(instance: 1, transactions: [.init(outcome: .committed, produced: 1)])]
        #expect(Self.run([(0, [V(offset: 0, value: Self.val(0, 0, 0)), V(offset: 2, value: Self.val(1, 0, 0))])], histories: h).isEmpty)
        let v = Self.run([(0, [V(offset: 2, value: Self.val(1, 0, 0)), V(offset: 4, value: Self.val(0, 0, 0))])], histories: h)
        #expect(v.count == 1 && v[0].contains("fenced instance 0"))
        // The other way round: instance 0 initialised last and fenced instance 1.
        var h2 = h
        h2[0].fenced = false
        h2[1].fenced = true
        #expect(Self.run([(0, [V(offset: 2, value: Self.val(1, 0, 0)), V(offset: 4, value: Self.val(0, 0, 0))])], histories: h2).isEmpty)
        let w = Self.run([(0, [V(offset: 0, value: Self.val(0, 0, 0)), V(offset: 2, value: Self.val(1, 0, 0))])], histories: h2)
        #expect(w.count == 1 && w[0].contains("fenced instance 1"))
    }

    /// The read_committed view is built from real batches: committed ones appear at their
    /// marker, aborted ones and ones no marker closes never do; plain batches at once.
    @Test func readCommittedViewFollowsMarkers() throws {
        let ctx = CompressionContexts()
        func data(_ offset: Int64, _ pid: Int64, _ value: String, txn: Bool = true) throws -> [UInt8] {
            try RecordBatchEncoder.encode([EncodableRecord(value: Array(value.utf8), timestamp: 0)],
                                          options: RecordBatchOptions(baseOffset: offset, isTransactional: txn, producerId: pid,
                                                                      producerEpoch: 0, baseSequence: 0), contexts: ctx)
        }
        func marker(_ offset: Int64, _ pid: Int64, commit: Bool) throws -> [UInt8] {
            try ControlRecord.endTransactionMarkerBatch(commit: commit, producerId: pid, producerEpoch: 0, coordinatorEpoch: 0,
                                                        timestamp: 0, baseOffset: offset, contexts: ctx)
        }
        var bytes: [UInt8] = []
        bytes += try data(0, 1, "a")
        bytes += try data(1, 2, "b")
        bytes += try data(2, 7, "plain", txn: false)
        bytes += try marker(3, 2, commit: false)
        bytes += try data(4, 1, "c")
        bytes += try marker(5, 1, commit: true)
        bytes += try data(6, 2, "open")
        let batches = try RecordsReader.decodeAll(bytes, contexts: ctx).batches
        let view = TxnChecker.readCommitted(batches)
        #expect(view.map(\.offset) == [0, 2, 4])
        #expect(view.map { String(decoding: $0.value, as: UTF8.self) } == ["a", "plain", "c"])
    }

    @Test func openTransactionAtTheCoordinatorIsCaught() {
        var v = Violations(enabled: [])
        var snap = FakeTransactionSnapshot(transactionalId: "id", state: "CompleteCommit", producerId: 1, producerEpoch: 0,
                                           timeoutMs: 60_000, partitions: [], startedAt: nil)
        TxnChecker.checkClosed(snap, now: 0, into: &v)
        TxnChecker.checkClosed(nil, now: 0, into: &v)
        #expect(v.list.isEmpty)
        snap.state = "Ongoing"
        snap.partitions = [TopicPartition("t", 1)]
        snap.startedAt = Instant(nanoseconds: 1_000_000_000)
        TxnChecker.checkClosed(snap, now: 0, into: &v)
        #expect(v.list.count == 1 && v.list[0].hasPrefix("txn-closed") && v.list[0].contains("Ongoing"))
    }

    @Test func transactionOngoingPastItsTimeoutIsCaught() {
        var snap = FakeTransactionSnapshot(transactionalId: "id", state: "Ongoing", producerId: 1, producerEpoch: 0,
                                           timeoutMs: 100, partitions: [TopicPartition("t", 0)], startedAt: .milliseconds(1_000))
        let ms: UInt64 = 1_000_000
        #expect(TxnChecker.overdue(snap, now: 1_101 * ms) == nil)          // 1 ms of grace
        #expect(TxnChecker.overdue(snap, now: 1_101 * ms + 1)?.contains("still Ongoing") == true)
        snap.loadingUntil = .milliseconds(1_150)                            // a coordinator took it over and loads
        #expect(TxnChecker.overdue(snap, now: 1_151 * ms) == nil)
        #expect(TxnChecker.overdue(snap, now: 1_152 * ms) != nil)
        snap.state = "PrepareAbort"                                         // being aborted: fine
        #expect(TxnChecker.overdue(snap, now: 5_000 * ms) == nil)
        #expect(TxnChecker.overdue(nil, now: 5_000 * ms) == nil)
    }

    @Test func txnCoordinatorFaultsReadAndRenderBack() throws {
        let s = try Scenario.parse("""
            topic t partitions 1
            workload txn-producer topic t transactions 2 records 1 every 10ms
            at 1s stop-txn-coordinator txn-producer-t
            at 2s restart-brokers
            faults random count 3 until 2s kinds txn-coordinator,txn-coordinator-restart,txn-error
            """)
        #expect(s.faults.map(\.fault) == [.stopTxnCoordinator(transactionalId: "txn-producer-t"), .restartBrokers])
        #expect(try Scenario.parse(s.render()) == s)
        let plan = try GroupScenario.parse("group g\ncopy to out\nat 1s stop-txn-coordinator copy-g-0\nfaults random count 2 until 1s kinds txn-error\n")
        #expect(plan.faults.map(\.fault) == [.stopTxnCoordinator(transactionalId: "copy-g-0")])
    }

    /// The random txn kinds draw their faults only where a transactional id exists.
    @Test func randomTxnKindsDrawTransactionFaults() throws {
        let s = try Scenario.parse("""
            topic t partitions 1
            workload txn-producer topic t transactions 2 records 1 every 10ms
            faults random count 30 until 2s kinds txn-coordinator,txn-coordinator-restart,txn-error
            """)
        var rng = SeededGenerator(seed: 3)
        let drawn = FaultSchedule.random(s.randomFaults!, scenario: s, rng: &rng).map(\.fault)
        #expect(drawn.contains { if case .moveTxnCoordinator(transactionalId: "txn-producer-t", _) = $0 { return true } else { return false } })
        #expect(drawn.contains(.stopTxnCoordinator(transactionalId: "txn-producer-t")))
        #expect(drawn.contains(.restartBrokers))
        #expect(drawn.contains { if case .injectError(let api, _, _, _) = $0 { return FaultSchedule.txnApis.contains(api) } else { return false } })
        #expect(!drawn.contains { if case .dropConnection = $0 { return true } else { return false } })
    }

    /// The workload's own checks: a fatal answer without a second instance, a call never
    /// answered, and transactions left undone are reported.
    @Test func workloadProgressChecksFire() {
        var spec = Scenario.TxnProducerSpec(topic: "t", transactions: 3, records: 1, every: 1_000_000)
        spec.abortRatio = 0
        var w = TxnProducerWorkload(spec: spec, instance: 0, livenessBound: 1_000_000_000, seed: 1)
        var ctx = WorkloadContext(now: 0, metadata: MetadataCache(), inLiveness: false, acked: [], violations: Violations(enabled: []), nextPromise: 1)
        _ = w.wake(&ctx)
        guard case .beginTransaction(let p)? = ctx.engineInputs.first else { Issue.record("no begin"); return }
        var f = ctx
        w.finish(&f)
        #expect(f.violations.list.contains { $0.contains("never answered") })
        w.producerNotice(.transactionDone(p, nil), &ctx)
        #expect(ctx.wakeAt != nil)
        var g = ctx
        w.finish(&g)
        #expect(g.violations.list.contains { $0.contains("0 of 3 transactions ended") })
        _ = w.wake(&ctx)   // one record
        _ = w.wake(&ctx)   // commit
        guard case .endTransaction(true, let q)? = ctx.engineInputs.last else { Issue.record("no commit"); return }
        w.producerNotice(.transactionDone(q, .fatal(.broker(.invalidTxnState, message: nil))), &ctx)
        var h = ctx
        w.finish(&h)
        #expect(h.violations.list.contains { $0.hasPrefix("txn-progress") && $0.contains("failed fatally") })
        #expect(w.history.transactions == [.init(outcome: .uncertain, produced: 1)])
    }
}
