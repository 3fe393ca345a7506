import Testing
@testable import KafkaSimulation

@Suite struct ShrinkerTests {
    /// A liveness bound no run can meet fails with or without faults, so the shrinker must
    /// drop every fault and keep the seed; the reduced scenario still fails the same way.
    @Test func dropsFaultsThatDoNotMatter() throws {
        let sc = try Scenario.parse("""
        seed 3
        brokers 3
        topic t partitions 2 rf 3
        workload produce topic t every 40ms
        at 200ms move-leader t/0
        at 300ms reset-connections 1
        at 400ms delay produce 100ms count 1
        safety 600ms
        liveness 1s bound 1ms
        """)
        let failing = SeedCheck.run(sc, twice: false)
        #expect(!failing.ok)
        let shrunk = try #require(Shrinker.shrink(sc, seed: 3))
        #expect(shrunk.scenario.faults.isEmpty)
        #expect(shrunk.scenario.seed == 3)
        let again = SeedCheck.run(try Scenario.parse(shrunk.scenario.render()), twice: false)
        #expect(again.violations.first?.hasPrefix("liveness") == true)
    }

    /// The same impossible bound with a producer of 400 records: the reduced scenario keeps
    /// failing the same way with far fewer records.
    @Test func halvesRecordsWhileTheFailurePersists() throws {
        let sc = try Scenario.parse("""
        seed 5
        brokers 3
        topic t partitions 3 rf 3
        workload producer topic t records 400 every 20ms batch 40
        workload metadata every 100ms
        at 200ms move-leader t/0
        safety 600ms
        liveness 1s bound 1ms
        """)
        #expect(!SeedCheck.run(sc, twice: false).ok)
        let shrunk = try #require(Shrinker.shrink(sc, seed: 5))
        guard case .producer(_, let records, _, _)? = shrunk.scenario.workloads.first else {
            Issue.record("the producer workload is gone")
            return
        }
        #expect(records < 400)
        let again = SeedCheck.run(try Scenario.parse(shrunk.scenario.render()), twice: false)
        #expect(again.violations.first?.hasPrefix("liveness") == true)
    }
}
