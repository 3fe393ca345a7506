import ArgumentParser
import Foundation
import KafkaSimulation
import KafkaStateMachines

/// `kgo sim`: replay scenarios of the deterministic simulation and sweep seeds.
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Deterministic simulation: the engine against FakeCluster over a simulated network.",
        subcommands: [SimRun.self, SimSweep.self, SimReplay.self])
}

func loadScenario(_ file: String) throws -> Scenario {
    let text = try String(contentsOfFile: file, encoding: .utf8)
    let name = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
    do { return try Scenario.parse(text, name: name) } catch {
        throw ValidationError("\(file): \(error)")
    }
}

/// Wall time of `body` in seconds: the tool measures speed, the simulation never sees it.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    let start = clock.now
    let v = try body()
    let d = clock.now - start
    return (v, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
}

struct SimRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Replay one scenario (twice, comparing action hashes).")
    @Argument(help: "Scenario file.") var file: String
    @Option(help: "Override the scenario's seed.") var seed: UInt64?
    @Flag(help: "On failure, shrink the faults and print the reduced scenario.") var shrink = false
    @Option(help: "Also write the run's engine inputs as a flight recording to PATH-000001.kgorec (replay: kgo sim replay).")
    var record: String?

    func run() throws {
        let s = try loadScenario(file)
        if let record {
            var sim = Simulation(s, seed: seed)
            let (_, bytes) = sim.record()
            let name = RecordingFormat.segmentName(base: record, index: 1)
            guard FileManager.default.createFile(atPath: name, contents: Data(bytes)) else { throw ValidationError("cannot write \(name)") }
            print("recorded \(bytes.count) bytes to \(name)")
        }
        let (outcome, wall) = timed { SeedCheck.run(s, seed: seed) }
        let r = outcome.result
        print("scenario \(s.name) seed=\(r.seed)")
        print("invariants checked: \(r.checked.joined(separator: ", ")), determinism")
        print("requests=\(r.requests) succeeded=\(r.succeeded) acked-records=\(r.acked) faults=\(r.faults) events=\(r.events) virtual=\(Double(r.virtualNanoseconds) / 1e9)s wall=\(String(format: "%.3f", wall))s (2 runs)")
        print("hash=\(r.hash.hex)")
        if outcome.ok {
            print("ok")
            return
        }
        for v in outcome.violations.prefix(10) { print("FAIL \(v)") }
        print("replay: \(SeedCheck.replayCommand(file: file, seed: r.seed))")
        if shrink, let (reduced, runs) = Shrinker.shrink(s, seed: r.seed) {
            print("# shrunk in \(runs) runs to \(reduced.faults.count) faults:")
            print(reduced.render(), terminator: "")
        }
        throw ExitCode.failure
    }
}

struct SimSweep: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sweep", abstract: "Run many seeds of a scenario, each twice.")
    @Argument(help: "Scenario file.") var file: String
    @Option(help: "How many seeds.") var seeds: Int = 100
    @Option(help: "First seed.") var from: UInt64 = 1
    @Option(help: "Shrink the first failure and save it here (a new scenario file).") var save: String?

    func run() throws {
        let s = try loadScenario(file)
        var failures: [UInt64] = []
        var virtual: UInt64 = 0
        let clock = ContinuousClock()
        let start = clock.now
        for i in 0 ..< seeds {
            let seed = from + UInt64(i)
            let outcome = SeedCheck.run(s, seed: seed)
            virtual += outcome.result.virtualNanoseconds * 2
            print(outcome.line)
            if !outcome.ok {
                failures.append(seed)
                print("  replay: \(SeedCheck.replayCommand(file: file, seed: seed))")
            }
            if (i + 1) % 25 == 0 && i + 1 < seeds {
                FileHandle.standardError.write("sweep: \(i + 1)/\(seeds) seeds, \(failures.count) failed\n".data(using: .utf8)!)
            }
        }
        let d = clock.now - start
        let wall = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        print(String(format: "sweep: %d seeds, %d failed, %.1fs wall, %.1f seeds/min, %.0f virtual s per wall s",
                     seeds, failures.count, wall, Double(seeds) / wall * 60, Double(virtual) / 1e9 / wall))
        guard let first = failures.first else { return }
        if let save, let (reduced, runs) = Shrinker.shrink(s, seed: first) {
            try ("# Found by `kgo sim sweep \(file)` (seed \(first)), shrunk in \(runs) runs.\n" + reduced.render())
                .write(toFile: save, atomically: true, encoding: .utf8)
            print("saved the shrunk failure to \(save)")
        }
        throw ExitCode.failure
    }
}
