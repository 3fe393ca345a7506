import Testing
@testable import KafkaSimulation
import KafkaStateMachines

/// What the consumer scenarios prove beyond "no invariant broke": the consumer read data,
/// the truncation was reported with the right range, and the checkers catch a consumer
/// that misbehaves.
@Suite struct ConsumerScenarioTests {
    @Test func truncatedLeaderIsReportedAndConsumptionResumesAtTheDivergencePoint() throws {
        let s = try ScenarioFiles.load("consume-truncation.scenario")
        let r = SeedCheck.run(s).result
        #expect(r.ok, "\(r.violations.prefix(3))")
        #expect(r.consumed > 10)
        let loss = try #require(r.dataLossReports.first)
        #expect(loss.topicPartition == TopicPartition("t", 0))
        #expect(loss.fromOffset == 5, "resume at the truncation point")
        #expect(loss.toOffset > 5)
    }

    @Test func readCommittedScenarioSeesCommittedRecords() throws {
        let s = try ScenarioFiles.load("consume-read-committed.scenario")
        let r = SeedCheck.run(s).result
        #expect(r.ok, "\(r.violations.prefix(3))")
        #expect(r.consumed > 20)
    }

    @Test func withoutValidationTheTruncationIsCaught() throws {
        // The same run with KIP-320 validation switched off must fail an invariant: the
        // checkers are not vacuous.
        var s = try ScenarioFiles.load("consume-truncation.scenario")
        s.disableEpochValidation = true
        var sim = Simulation(s)
        let r = sim.run()
        #expect(!r.ok)
        #expect(r.dataLossReports.isEmpty)
    }
}
