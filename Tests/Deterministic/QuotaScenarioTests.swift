import Foundation
import Testing
@testable import KafkaSimulation

/// The quota scenario on the simulation's virtual clock: the brokers throttle the engine's
/// producer for going over its client quota, and the engine holds back (the `throttle`
/// invariant checks every write against the throttles it was told about).
@Suite struct QuotaScenarioTests {
    @Test func theEngineHoldsBackWhileAQuotaThrottlesIt() throws {
        var sim = Simulation(try ScenarioFiles.load("quota.scenario"))
        let result = sim.run()
        #expect(result.ok, "\(result.violations.prefix(5))")
        #expect(result.checked.contains("throttle"))
        #expect(sim.throttledDelivered > 5, "\(sim.throttledDelivered) throttled answers")
    }

    /// The same load under a quota it never reaches is not throttled (and the run says the
    /// quota was vacuous): the throttles above come from the quota.
    @Test func aQuotaAboveTheLoadThrottlesNothing() throws {
        let text = try ScenarioFiles.text("quota.scenario").replacingOccurrences(of: "producer_byte_rate 3000", with: "producer_byte_rate 3000000")
        var sim = Simulation(try Scenario.parse(text, name: "quota-high"))
        let result = sim.run()
        #expect(sim.throttledDelivered == 0)
        #expect(result.violations.count == 1 && result.violations[0].contains("no throttled response"), "\(result.violations)")
    }
}
