import Testing
@testable import KafkaSimulation
import KafkaStateMachines

/// A whole simulated run (faults, resets, SASL re-authentication) recorded in the flight
/// recorder's format replays through a fresh engine with the same actions (issue 7).
@Suite struct FlightRecordingReplayTests {
    static let cases: [(String, UInt64)] = [
        ("random-faults.scenario", 1), ("sasl-reauth.scenario", 1), ("consume-truncation.scenario", 1),
    ]

    @Test(arguments: cases.indices)
    func recordedRunReplays(_ i: Int) throws {
        let (name, seed) = Self.cases[i]
        var sim = Simulation(try ScenarioFiles.load(name), seed: seed)
        let (result, bytes) = sim.record()
        #expect(result.ok, "\(name): \(result.violations.prefix(3))")
        let recording = try FlightRecording(segments: [bytes])
        #expect(recording.endedCleanly && !recording.truncatedTail)
        let report = try RecordingReplay.run(recording)
        #expect(report.ok, "\(name) seed \(seed): \(report.divergence.map { "\($0)" } ?? "")")
        #expect(report.actions == UInt64(result.hash.actions))
        #expect(report.requests == result.requests)
        #expect(report.inputs > report.requests)
    }

    /// Losing one input (here the first broker answer) must show as a divergence, not pass.
    @Test func missingInputIsCaught() throws {
        var sim = Simulation(try ScenarioFiles.load("random-faults.scenario"), seed: 3)
        let (_, bytes) = sim.record()
        var recording = try FlightRecording(segments: [bytes])
        let firstAnswer = try #require(recording.entries.firstIndex {
            if case .input(.bytesReceived) = $0.payload { return true } else { return false }
        })
        recording.entries.remove(at: firstAnswer)
        let report = try RecordingReplay.run(recording)
        let d = try #require(report.divergence)
        #expect(d.entry >= firstAnswer)
    }

    /// The recorded seed matters: SCRAM's client nonce comes from it.
    @Test func wrongSeedIsCaught() throws {
        var sim = Simulation(try ScenarioFiles.load("sasl-reauth.scenario"))
        let (_, bytes) = sim.record()
        var recording = try FlightRecording(segments: [bytes])
        recording.start.seed &+= 1
        #expect(try RecordingReplay.run(recording).divergence != nil)
    }
}
