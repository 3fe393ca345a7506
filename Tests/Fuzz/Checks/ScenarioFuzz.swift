import KafkaSimulation

/// The scenario parsers: any text parses or throws a `ScenarioError`; what parses renders
/// to text that parses to the same scenario (the direct scenario has a renderer; the
/// group scenario is only parsed).
enum ScenarioFuzz {
    static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        if let s = try? Scenario.parse(text, name: "fuzz") {
            let rendered = s.render()
            let again: Scenario
            do { again = try Scenario.parse(rendered, name: "fuzz") } catch {
                fatalError("a parsed scenario renders to text that does not parse: \(error)\n\(rendered)")
            }
            precondition(again.render() == rendered, "scenario rendering is not stable:\n\(rendered)\n---\n\(again.render())")
        }
        _ = try? GroupScenario.parse(text)
    }
}
