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
}
