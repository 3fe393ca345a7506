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
}
