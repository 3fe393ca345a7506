import Testing
@testable import KafkaSimulation
import KafkaStateMachines
import FakeCluster

/// Each checker is shown to catch a deliberately broken run: a checker that never fires
/// proves nothing.
@Suite struct InvariantCheckerTests {
    let s = 1_000_000_000 as UInt64

    @Test func ledgerCatchesDoubleUnknownAndLostCompletions() {
        var v = Violations(enabled: [])
        var l = RequestLedger(livenessBound: 5 * s)
        l.issued(PromiseID(1), .metadata, at: 0, liveness: false)
        l.issued(PromiseID(2), .metadata, at: 0, liveness: false)
        l.delivered(.metadata, at: s)
        l.completed(PromiseID(1), success: true, error: "", at: 2 * s, into: &v)
        #expect(v.list.isEmpty)
        l.completed(PromiseID(1), success: true, error: "", at: 3 * s, into: &v)
        l.completed(PromiseID(9), success: false, error: "x", at: 3 * s, into: &v)
        l.finish(at: 4 * s, into: &v)
        #expect(v.list.count == 3)
        #expect(v.list[0].contains("completed twice"))
        #expect(v.list[1].contains("never issued"))
        #expect(v.list[2].contains("promise2") && v.list[2].contains("never completed"))
    }

    @Test func ledgerCatchesSuccessBeforeSend() {
        var v = Violations(enabled: [])
        var l = RequestLedger(livenessBound: 5 * s)
        l.delivered(.produce, at: s)        // an earlier request's delivery does not count
        l.issued(PromiseID(1), .produce, at: 2 * s, liveness: false)
        l.completed(PromiseID(1), success: true, error: "", at: 3 * s, into: &v)
        #expect(v.list.count == 1 && v.list[0].hasPrefix("sent-before-complete"))
    }

    @Test func ledgerCatchesLivenessFailuresAndSlowness() {
        var v = Violations(enabled: [])
        var l = RequestLedger(livenessBound: 5 * s)
        l.delivered(.metadata, at: 10 * s)
        l.issued(PromiseID(1), .metadata, at: 10 * s, liveness: true)
        l.issued(PromiseID(2), .metadata, at: 10 * s, liveness: true)
        l.issued(PromiseID(3), .metadata, at: 10 * s, liveness: false)
        l.completed(PromiseID(1), success: false, error: "boom", at: 11 * s, into: &v)
        l.delivered(.metadata, at: 12 * s)
        l.completed(PromiseID(2), success: true, error: "", at: 16 * s, into: &v)
        l.completed(PromiseID(3), success: false, error: "boom", at: 16 * s, into: &v)  // safety phase: allowed
        #expect(v.list.count == 2)
        #expect(v.list.allSatisfy { $0.hasPrefix("liveness") })
    }

    @Test func disabledInvariantsAreNotReported() {
        var v = Violations(enabled: ["liveness"])
        v.add("completion", "x", at: 0)
        v.add("liveness", "y", at: 0)
        #expect(v.list.count == 1)
    }

    /// A real run, then its acknowledged records tampered with: a wrong offset and a wrong
    /// value must both be reported, and the untouched list must pass.
    @Test func logCheckerCatchesMissingAndWrongRecords() throws {
        var sc = try Scenario.parse("""
        brokers 3
        topic t partitions 2 rf 3
        workload produce topic t every 20ms records 2
        at 300ms move-leader t/0
        safety 1s
        liveness 1s bound 1s
        """)
        sc.seed = 4
        var sim = Simulation(sc)
        let r = sim.run()
        #expect(r.ok, "\(r.violations)")
        let acked = sim.acked
        #expect(acked.count > 20)

        var ok = Violations(enabled: [])
        LogChecker.check(acked, cluster: &sim.cluster, sasl: false, now: sim.now, into: &ok)
        #expect(ok.list.isEmpty, "\(ok.list)")

        var missing = acked
        missing[3].offset += 10_000
        var v1 = Violations(enabled: [])
        LogChecker.check(missing, cluster: &sim.cluster, sasl: false, now: sim.now, into: &v1)
        #expect(v1.list.count == 1 && v1.list[0].contains("missing"))

        var wrong = acked
        wrong[5].value = Array("not-what-was-sent".utf8)
        var v2 = Violations(enabled: [])
        LogChecker.check(wrong, cluster: &sim.cluster, sasl: false, now: sim.now, into: &v2)
        #expect(v2.list.count == 1 && v2.list[0].contains("holds"))
    }

    func context(acked: [AckedRecord] = [], liveness: Bool = false) -> WorkloadContext {
        WorkloadContext(now: 0, metadata: MetadataCache(), inLiveness: liveness, acked: acked,
                        violations: Violations(enabled: []), nextPromise: 1)
    }

    @Test func listOffsetsCatchesAnOffsetBelowAckedRecords() {
        var w = ListOffsetsWorkload(topic: "t", partitions: 1, every: s)
        var ctx = context(acked: [AckedRecord(topic: "t", partition: 0, offset: 9, value: [])])
        _ = w.wake(&ctx)
        let p = ctx.requests[0].promise
        var resp = ListOffsetsResponse()
        var t = ListOffsetsResponse.ListOffsetsTopicResponse()
        t.name = "t"
        var part = ListOffsetsResponse.ListOffsetsPartitionResponse()
        part.partitionIndex = 0
        part.offset = 5   // below 10, the offset after the acked record
        t.partitions = [part]
        resp.topics = [t]
        w.completed(p, .success(resp), &ctx)
        #expect(ctx.violations.list.count == 1 && ctx.violations.list[0].hasPrefix("offsets-visible"))
    }

    @Test func commitCatchesAStaleReadBack() {
        var w = CommitWorkload(group: "g", topic: "t", every: s)
        var ctx = context()
        _ = w.wake(&ctx)   // commit 0
        w.completed(ctx.requests[0].promise, .success(OffsetCommitResponse()), &ctx)
        w.counter = 2      // pretend commit 1 went through too
        _ = w.wake(&ctx)
        w.completed(ctx.requests[1].promise, .success(OffsetCommitResponse()), &ctx)
        _ = w.wake(&ctx)   // fetch
        var resp = OffsetFetchResponse()
        var t = OffsetFetchResponse.OffsetFetchResponseTopic()
        t.name = "t"
        var part = OffsetFetchResponse.OffsetFetchResponsePartition()
        part.committedOffset = 0   // the first commit, already superseded by the acked second
        t.partitions = [part]
        resp.topics = [t]
        w.completed(ctx.requests[2].promise, .success(resp), &ctx)
        #expect(ctx.violations.list.count == 1 && ctx.violations.list[0].hasPrefix("commit-readback"))
    }

    @Test func settledCatchesAFailingLastRequest() {
        var w = ProduceWorkload(topic: "t", partitions: 1, every: s, records: 1)
        var ctx = context(liveness: true)
        var md = MetadataResponse()
        var b = MetadataResponse.MetadataResponseBroker()
        b.nodeId = 1; b.host = "h"; b.port = 1
        md.brokers = [b]
        var mt = MetadataResponse.MetadataResponseTopic()
        mt.name = "t"
        var mp = MetadataResponse.MetadataResponsePartition()
        mp.leaderId = 1
        mt.partitions = [mp]
        md.topics = [mt]
        var cache = MetadataCache()
        cache.apply(md, now: .zero)
        ctx = WorkloadContext(now: 0, metadata: cache, inLiveness: true, acked: [], violations: Violations(enabled: []), nextPromise: 1)
        _ = w.wake(&ctx)
        #expect(ctx.requests.count == 1 && ctx.requests[0].request is ProduceRequest)
        w.completed(ctx.requests[0].promise, .failure(.clientClosed), &ctx)
        w.finish(&ctx)
        #expect(ctx.violations.list.count == 1 && ctx.violations.list[0].hasPrefix("settled"))
    }

    @Test func determinismCheckCatchesDifferentRuns() throws {
        let sc = try Scenario.parse("""
        brokers 2
        topic t partitions 1 rf 2
        workload produce topic t every 50ms
        safety 500ms
        liveness 500ms bound 500ms
        """)
        var a = Simulation(sc, seed: 1), b = Simulation(sc, seed: 1), c = Simulation(sc, seed: 2)
        let ha = a.run().hash, hb = b.run().hash, hc = c.run().hash
        #expect(SeedCheck.compare(ha, hb) == nil)
        // Another seed stands in for a run that drifted (hash order, a clock, a stray generator).
        #expect(SeedCheck.compare(ha, hc)?.hasPrefix("determinism") == true)
    }

    /// The KIP-219 check: a request written to a broker inside a throttle the client was
    /// told about is reported; handshakes and writes after the throttle are not.
    @Test func throttleCheckCatchesAWriteDuringTheThrottle() throws {
        var sim = Simulation(try Scenario.parse("brokers 1\nworkload metadata every 1s\nsafety 1s\nliveness 1s"))
        let link = SimNetwork.Link(broker: 1)
        sim.throttledUntil[1] = 5 * s
        sim.now = 2 * s
        sim.checkThrottle(link, [0, 0, 0, 20, 0, 18])   // ApiVersions: a handshake, exempt
        #expect(sim.violations.list.isEmpty)
        sim.checkThrottle(link, [0, 0, 0, 20, 0, 3])    // Metadata
        #expect(sim.violations.list.count == 1 && sim.violations.list[0].hasPrefix("throttle"))
        sim.now = 5 * s
        sim.checkThrottle(link, [0, 0, 0, 20, 0, 3])
        sim.checkThrottle(SimNetwork.Link(broker: 2), [0, 0, 0, 20, 0, 3])
        #expect(sim.violations.list.count == 1)
    }

    /// A throttle fault that throttled nothing (an API the workload never calls) makes the
    /// check vacuous: the run says so instead of passing.
    @Test func throttleFaultThatThrottledNothingIsReported() throws {
        var sim = Simulation(try Scenario.parse("""
            brokers 1
            workload metadata every 100ms
            at 100ms throttle heartbeat 100ms count 1
            safety 1s
            liveness 1s
            """))
        let result = sim.run()
        #expect(result.violations.contains { $0.hasPrefix("throttle") && $0.contains("no throttled response") }, "\(result.violations)")
    }
}

