import Testing
@testable import KafkaSimulation
import KafkaStateMachines

/// The producer workload's checks, each shown to fire on a broken run, and the engine's
/// producer shown to pass them under faults.
@Suite struct ProducerWorkloadTests {
    func context() -> WorkloadContext {
        WorkloadContext(now: 0, metadata: MetadataCache(), inLiveness: true, acked: [], violations: Violations(enabled: []), nextPromise: 1)
    }

    func report(_ p: Int32, _ offset: Int64, _ tokens: [UInt64], _ error: ProduceError? = nil) -> DeliveryReport {
        DeliveryReport(topic: "t", partition: p, baseOffset: offset, logAppendTime: -1, tokens: tokens, error: error)
    }

    func produced(_ n: Int) -> (ProducerWorkload, WorkloadContext) {
        var w = ProducerWorkload(topic: "t", records: n, every: 1, batch: n)
        var ctx = context()
        _ = w.wake(&ctx)
        let flush = ctx.flushes.first!
        w.producerNotice(.flushed(flush), &ctx)
        return (w, ctx)
    }

    @Test func cleanRunPasses() {
        var (w, ctx) = produced(4)
        w.delivered(report(0, 10, [1, 2]), &ctx)
        w.delivered(report(1, 0, [3, 4]), &ctx)
        w.finish(&ctx)
        #expect(ctx.violations.list.isEmpty)
        #expect(ctx.acked.count == 4)
    }

    @Test func catchesLostDuplicateAndReordered() {
        var (w, ctx) = produced(4)
        w.delivered(report(0, 10, [2, 1]), &ctx)   // token 2 before token 1 in the log
        w.delivered(report(0, 12, [1]), &ctx)      // reported twice, now after token 2
        w.finish(&ctx)                            // 3 and 4 never reported
        let text = ctx.violations.list.joined(separator: "\n")
        #expect(text.contains("more than once"))
        #expect(text.contains("never reported"))
        #expect(text.contains("after token"))
    }

    @Test func catchesDuplicateInLogAndMissingFlush() {
        var w = ProducerWorkload(topic: "t", records: 2, every: 1, batch: 2)
        var ctx = context()
        _ = w.wake(&ctx)
        w.delivered(report(0, 0, [1, 2]), &ctx)
        w.finish(&ctx)
        w.checkLogs({ _, _ in [0: ProducerWorkload.value(1), 1: ProducerWorkload.value(2), 2: ProducerWorkload.value(1)] }, &ctx)
        let text = ctx.violations.list.joined(separator: "\n")
        #expect(text.contains("flush never completed"))
        #expect(text.contains("duplicate"))
    }

    @Test func failedRecordsAreViolationsWhenRetriesAreUnbounded() {
        var (w, ctx) = produced(1)
        w.delivered(report(-1, -1, [1], .deliveryTimeout), &ctx)
        w.finish(&ctx)
        #expect(ctx.violations.list.joined().contains("1 records failed"))
    }

    @Test func valuesAndTokensRoundTrip() {
        for t: UInt64 in [0, 1, 9, 10, 99, 100, 12345, 100_000, UInt64.max] {
            #expect(ProducerWorkload.value(t) == Array("v\(t)".utf8))
            #expect(t == 0 || ProducerWorkload.token(of: ProducerWorkload.value(t)) == t)
        }
        for other in ["v", "v0", "v01", "x1", "v1a", "v99999999999999999999999"] {
            #expect(ProducerWorkload.token(of: Array(other.utf8)) == nil, "\(other)")
        }
    }

    @Test func duplicateFoundAmongForeignValues() {
        var (w, ctx) = produced(2)
        w.delivered(report(0, 0, [1, 2]), &ctx)
        w.checkLogs({ _, _ in [0: ProducerWorkload.value(1), 1: Array("other".utf8), 2: ProducerWorkload.value(2),
                               3: Array("other".utf8)] }, &ctx)
        #expect(ctx.violations.list.joined().contains("other at offsets 1 and 3 (duplicate)"))
    }

    @Test func partitionRecordsLookups() {
        var r = PartitionRecords()
        r.append(5, [5])
        r.append(6, [6])
        r.append(9, [9])      // a gap (a control batch, say): direct index misses, search finds it
        r.append(7, [7])      // out of order: inserted
        r.append(6, [60])     // again: replaced
        #expect(r.offsets == [5, 6, 7, 9])
        #expect(r[5] == [5] && r[6] == [60] && r[7] == [7] && r[9] == [9])
        #expect(r[4] == nil && r[8] == nil && r[10] == nil)
        let literal: PartitionRecords = [2: [2], 1: [1]]
        #expect(literal.offsets == [1, 2] && literal[1] == [1])
    }
}
