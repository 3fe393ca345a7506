import Foundation
import Testing
@testable import KafkaSimulation
import KafkaStateMachines

/// The scenario files under scenarios/, found from this file's location.
enum ScenarioFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scenarios")

    /// The single-client scenarios (group scenarios, starting with `group G`, are apart).
    static var names: [String] {
        allNames.filter { !isGroup($0) }
    }

    /// The group scenarios replayed by `swift test`: fixed seeds only (the `-random` families
    /// are CI's sweeps).
    static var groupNames: [String] {
        allNames.filter { isGroup($0) && !$0.contains("-random") }
    }

    static var allNames: [String] {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return all.filter { $0.hasSuffix(".scenario") }.sorted()
    }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    static func isGroup(_ name: String) -> Bool {
        (try? text(name)).map(GroupScenario.isGroupScenario) ?? false
    }

    static func loadGroup(_ name: String) throws -> GroupSimulation.Plan {
        try GroupScenario.parse(try text(name))
    }

    static func load(_ name: String) throws -> Scenario {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        return try Scenario.parse(text, name: name)
    }
}

/// Every scenario file replays green, twice, with equal action hashes (issue 7).
@Suite struct ScenarioReplayTests {
    @Test func scenariosExist() {
        #expect(ScenarioFiles.names.count >= 6)
    }

    @Test(arguments: ScenarioFiles.names)
    func replay(_ name: String) throws {
        let s = try ScenarioFiles.load(name)
        let outcome = SeedCheck.run(s)
        #expect(outcome.ok, "\(name): \(outcome.violations.prefix(5).joined(separator: "\n"))\nreplay: \(SeedCheck.replayCommand(file: "scenarios/\(name)", seed: s.seed))")
        #expect(outcome.secondHash == outcome.result.hash)
        #expect(outcome.result.requests > 0 && outcome.result.succeeded > 0)
    }
}
