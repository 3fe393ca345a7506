import Testing
@testable import KafkaSimulation
import KafkaStateMachines

/// The engine's transactional producer against FakeCluster on transaction version 2
/// (KIP-890 part 2), end to end through the simulated network: scenarios/txn-producer-v2
/// replays green (ScenarioReplayTests) and here its coordinator shows an epoch bumped by
/// every EndTxn, which the old path (the same run at transaction-version 0) never does.
@Suite struct TransactionVersion2ScenarioTests {
    @Test func theDirectiveParses() throws {
        #expect(try Scenario.parse("transaction-version 2\n", name: "x").transactionVersion == 2)
        #expect(try Scenario.parse("seed 3\n", name: "x").transactionVersion == 0)
        #expect(throws: ScenarioError.self) { try Scenario.parse("transaction-version 3\n", name: "x") }
        // A failing seed saved by the sweep keeps the cluster it ran against.
        let s = try ScenarioFiles.load("txn-producer-v2.scenario")
        #expect(try Scenario.parse(s.render(), name: s.name) == s)
        #expect(s.render().contains("transaction-version 2"))
        #expect(try GroupScenario.parse("group g\ntransaction-version 2\n").transactionVersion == 2)
    }

    @Test func everyTransactionBumpsTheEpochOnVersion2() throws {
        let s = try ScenarioFiles.load("txn-producer-v2.scenario")
        #expect(s.transactionVersion == 2)
        var v2 = Simulation(s)
        let r2 = v2.run()
        #expect(r2.ok, "\(r2.violations.prefix(5).joined(separator: "\n"))")
        let t2 = try #require(v2.cluster.describeTransaction("txn-producer-t"))
        #expect(t2.producerEpoch >= 14, "one bump per EndTxn: \(t2) \(r2.transactions)")

        var old = s
        old.transactionVersion = 0
        var v0 = Simulation(old)
        let r0 = v0.run()
        #expect(r0.ok, "\(r0.violations.prefix(5).joined(separator: "\n"))")
        let t0 = try #require(v0.cluster.describeTransaction("txn-producer-t"))
        #expect(t0.producerEpoch < 14, "the old path bumps only to recover: \(t0)")
    }

    /// The exactly-once group copy (scenarios/group-eos-v2): the members' epochs summed over
    /// their transactional ids reach one bump per transaction ended at the coordinator on
    /// version 2, and stay far below on the old path.
    @Test func theGroupCopyBumpsEpochsOnVersion2() throws {
        var plan = try ScenarioFiles.loadGroup("group-eos-v2.scenario")
        #expect(plan.transactionVersion == 2)
        func epochs(_ plan: GroupSimulation.Plan) -> (GroupSimulation.Result, Int) {
            var sim = GroupSimulation(plan)
            let r = sim.run()
            let ids = (0 ..< 8).map { "copy-\(plan.group)-\($0)" }
            return (r, ids.compactMap { sim.cluster.describeTransaction($0) }.reduce(0) { $0 + Int($1.producerEpoch) })
        }
        let (r2, e2) = epochs(plan)
        #expect(r2.violations.isEmpty, "\(r2.violations.prefix(5))")
        #expect(r2.copyCommits > 0 && e2 >= r2.copyCommits, "epochs \(e2), commits \(r2.copyCommits), aborts \(r2.copyAborts)")
        plan.transactionVersion = 0
        let (r0, e0) = epochs(plan)
        #expect(r0.violations.isEmpty, "\(r0.violations.prefix(5))")
        #expect(e0 < r0.copyCommits, "epochs \(e0), commits \(r0.copyCommits)")
    }
}
