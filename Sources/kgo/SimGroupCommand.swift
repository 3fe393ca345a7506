import ArgumentParser
import Foundation
import KafkaSimulation

/// Group scenarios (first directive `group G`) through `kgo sim run` and `kgo sim sweep`.
/// Nil when the file is not a group scenario.
func loadGroupScenario(_ file: String) throws -> GroupSimulation.Plan? {
    let text = try String(contentsOfFile: file, encoding: .utf8)
    guard GroupScenario.isGroupScenario(text) else { return nil }
    do { return try GroupScenario.parse(text) } catch {
        throw ValidationError("\(file): \(error)")
    }
}

func runGroup(_ plan: GroupSimulation.Plan, file: String, seed: UInt64?, timeline: String? = nil) throws {
    let (outcome, wall) = timed { GroupSeedCheck.run(plan, seed: seed) }
    let r = outcome.result
    if let timeline { try groupTimeline(plan, file: file, seed: outcome.seed, path: timeline) }
    print("group scenario \(file) seed=\(outcome.seed)")
    print("invariants checked: \(plan.invariants.isEmpty ? GroupSimulation.invariantNames.joined(separator: ", ") : plan.invariants.joined(separator: ", "))")
    print("rebalances=\(r.rebalances) delivered=\(r.delivered) duplicates=\(r.duplicates) faults=\(r.faults) member-events=\(r.memberEvents) actions=\(r.actions) virtual=\(Double(r.virtualMs) / 1e3)s\(r.copyCommits + r.copyAborts > 0 ? " txns=\(r.copyCommits) committed, \(r.copyAborts) aborted" : "") wall=\(String(format: "%.3f", wall))s (2 runs)")
    print("hash=\(String(r.hash, radix: 16))")
    if outcome.ok {
        print("ok")
        return
    }
    if ProcessInfo.processInfo.environment["KGO_SIM_LOG"] != nil {
        var sim = GroupSimulation({ var p = plan; if let seed { p.seed = seed }; return p }())
        sim.traceEvents = ProcessInfo.processInfo.environment["KGO_SIM_LOG"] == "2"
        _ = sim.run()
        for l in sim.log { print("  \(l)") }
        for w in sim.warnings { print("  warning: \(w)") }
    }
    for v in outcome.violations.prefix(10) { print("FAIL \(v)") }
    print("replay: \(GroupSeedCheck.replayCommand(file: file, seed: outcome.seed))")
    throw ExitCode.failure
}

/// Runs the group scenario once more with a timeline and writes it to `path`.
func groupTimeline(_ plan: GroupSimulation.Plan, file: String, seed: UInt64, path: String) throws {
    try TimelineOutput.write(path, title: "kgo sim run \(file) --seed \(seed)") { t in
        var p = plan
        p.seed = seed
        var sim = GroupSimulation(p)
        sim.timeline = t
        _ = sim.run()
    }
}

func sweepGroup(_ plan: GroupSimulation.Plan, file: String, seeds: Int, from: UInt64, jobs: Int, timelines: String? = nil) throws {
    var failures: [UInt64] = []
    var virtualMs: UInt64 = 0
    let clock = ContinuousClock()
    let start = clock.now
    try OrderedJobs.run(count: seeds, jobs: jobs, work: { i in GroupSeedCheck.run(plan, seed: from + UInt64(i)) }) { i, outcome in
        virtualMs += outcome.result.virtualMs * 2
        print(outcome.line)
        if !outcome.ok {
            failures.append(outcome.seed)
            print("  replay: \(GroupSeedCheck.replayCommand(file: file, seed: outcome.seed))")
            if let dir = timelines {
                try TimelineOutput.makeDirectory(dir)
                try groupTimeline(plan, file: file, seed: outcome.seed, path: TimelineOutput.path(dir: dir, file: file, seed: outcome.seed))
            }
        }
        if (i + 1) % 25 == 0 && i + 1 < seeds {
            FileHandle.standardError.write("sweep: \(i + 1)/\(seeds) seeds, \(failures.count) failed\n".data(using: .utf8)!)
        }
    }
    let d = clock.now - start
    let wall = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    print(String(format: "sweep: %d seeds, %d failed, %.1fs wall, %.1f seeds/min, %.0f virtual s per wall s",
                 seeds, failures.count, wall, Double(seeds) / wall * 60, Double(virtualMs) / 1e3 / wall))
    if !failures.isEmpty { throw ExitCode.failure }
}
