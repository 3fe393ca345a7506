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
    @Option(help: "Also draw the run as one self-contained HTML page at PATH (brokers, leaders and epochs, faults, connections, requests, group generations, the first violation).")
    var timeline: String?

    func run() throws {
        if let plan = try loadGroupScenario(file) {
            try runGroup(plan, file: file, seed: seed, timeline: timeline)
            return
        }
        let s = try loadScenario(file)
        if let record {
            var sim = Simulation(s, seed: seed)
            let (_, bytes) = sim.record()
            let name = RecordingFormat.segmentName(base: record, index: 1)
            guard FileManager.default.createFile(atPath: name, contents: Data(bytes)) else { throw KgoFailure("cannot write \(name)") }
            print("recorded \(bytes.count) bytes to \(name)")
        }
        let (outcome, wall) = timed { SeedCheck.run(s, seed: seed) }
        let r = outcome.result
        print("scenario \(s.name) seed=\(r.seed)")
        print("invariants checked: \(r.checked.joined(separator: ", ")), determinism")
        print("requests=\(r.requests) succeeded=\(r.succeeded) acked-records=\(r.acked) faults=\(r.faults) events=\(r.events) virtual=\(Double(r.virtualNanoseconds) / 1e9)s wall=\(String(format: "%.3f", wall))s (2 runs)")
        print("hash=\(r.hash.hex)")
        for t in r.transactions { print(t) }
        for n in r.notes { print(n) }
        if let timeline {
            try TimelineOutput.write(timeline, title: "kgo sim run \(file) --seed \(r.seed)") { t in
                var sim = Simulation(s, seed: r.seed)
                sim.timeline = t
                _ = sim.run()
            }
        }
        if outcome.ok {
            print("ok")
            return
        }
        if ProcessInfo.processInfo.environment["KGO_SIM_LOG"] != nil {
            var sim = Simulation(s, seed: r.seed)
            let trace = SimTrace()
            sim.trace = trace
            _ = sim.run()
            for line in trace.lines { print(line) }
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
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run many seeds of a scenario, each twice.",
        discussion: """
            Each seed runs twice and its action hashes are compared (the determinism check), \
            then its invariants are checked. With --jobs N, N seeds run at once on their own \
            threads (each seed's simulation owns all its state); the lines are still printed \
            in seed order, with the same failures, replay commands and summary as with --jobs 1.
            """)
    @Argument(help: "Scenario file.") var file: String
    @Option(help: "How many seeds.") var seeds: Int = 100
    @Option(help: "First seed.") var from: UInt64 = 1
    @Option(help: "Seeds run in parallel, one thread each (default: the number of active processors, here \(ProcessInfo.processInfo.activeProcessorCount)).")
    var jobs: Int?
    @Option(help: "Shrink the first failure and save it here (a new scenario file).") var save: String?
    @Option(help: "Draw each failing seed's run as an HTML page in this directory (SCENARIO-SEED.html), printed after its replay command.")
    var timelines: String?

    func validate() throws {
        guard (jobs ?? 1) >= 1 else { throw ValidationError("--jobs must be at least 1") }
        guard seeds >= 0 else { throw ValidationError("--seeds must not be negative") }
    }

    func run() throws {
        if let plan = try loadGroupScenario(file) {
            try sweepGroup(plan, file: file, seeds: seeds, from: from, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                           timelines: timelines)
            return
        }
        let s = try loadScenario(file)
        var failures: [UInt64] = []
        var virtual: UInt64 = 0
        let clock = ContinuousClock()
        let start = clock.now
        let from = self.from, seeds = self.seeds
        let jobs = self.jobs ?? ProcessInfo.processInfo.activeProcessorCount
        try OrderedJobs.run(count: seeds, jobs: jobs, work: { i in SeedCheck.run(s, seed: from + UInt64(i)) }) { i, outcome in
            let seed = from + UInt64(i)
            virtual += outcome.result.virtualNanoseconds * 2
            print(outcome.line)
            if !outcome.ok {
                failures.append(seed)
                print("  replay: \(SeedCheck.replayCommand(file: file, seed: seed))")
                if let dir = timelines {
                    try TimelineOutput.makeDirectory(dir)
                    try TimelineOutput.write(TimelineOutput.path(dir: dir, file: file, seed: seed), title: "kgo sim run \(file) --seed \(seed)") { t in
                        var sim = Simulation(s, seed: seed)
                        sim.timeline = t
                        _ = sim.run()
                    }
                }
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

/// Runs `count` independent jobs on up to `jobs` threads and hands each result to `emit`
/// on the calling thread in index order (job i's result waits until 0 ..< i are emitted).
/// With one job everything runs on the calling thread. The jobs share nothing mutable: each
/// gets its index and builds its own state.
enum OrderedJobs {
    private final class Shared<T: Sendable>: @unchecked Sendable {
        let condition = NSCondition()
        var next = 0
        var stop = false
        var results: [T?]
        init(count: Int) { results = Array(repeating: nil, count: count) }
    }

    static func run<T: Sendable>(count: Int, jobs: Int, work: @escaping @Sendable (Int) -> T,
                                 emit: (Int, T) throws -> Void) rethrows {
        guard jobs > 1 && count > 1 else {
            for i in 0 ..< count { try emit(i, work(i)) }
            return
        }
        let shared = Shared<T>(count: count)
        let workers = min(jobs, count)
        for _ in 0 ..< workers {
            let t = Thread {
                while true {
                    shared.condition.lock()
                    let i = shared.next
                    shared.next += 1
                    let stop = shared.stop
                    shared.condition.unlock()
                    guard i < count, !stop else { return }
                    let r = work(i)
                    shared.condition.lock()
                    shared.results[i] = r
                    shared.condition.broadcast()
                    shared.condition.unlock()
                }
            }
            // A simulation nests engine drains inside workload callbacks: give each worker
            // the main thread's usual room.
            t.stackSize = 16 << 20
            t.start()
        }
        // Workers stop picking up new jobs if emit throws.
        defer {
            shared.condition.lock()
            shared.stop = true
            shared.condition.unlock()
        }
        for i in 0 ..< count {
            shared.condition.lock()
            while shared.results[i] == nil { shared.condition.wait() }
            let r = shared.results[i]!
            shared.results[i] = nil
            shared.condition.unlock()
            try emit(i, r)
        }
    }
}
