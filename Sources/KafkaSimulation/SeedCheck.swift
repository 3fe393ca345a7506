/// One seed checked the way CI checks it: run twice, the action hashes must match, and
/// the first run's invariants must hold.
package struct SeedOutcome: Sendable {
    package var result: SimulationResult
    package var secondHash: ActionHash?
    package var violations: [String]
    package var ok: Bool { violations.isEmpty }

    package var line: String {
        "seed=\(result.seed) hash=\(result.hash.hex) " + (ok ? "ok" : "FAIL \(violations[0])")
    }
}

package enum SeedCheck {
    package static func run(_ s: Scenario, seed: UInt64? = nil, twice: Bool = true,
                           faults: [Scenario.ScriptedFault]? = nil) -> SeedOutcome {
        var sim = Simulation(s, seed: seed, faults: faults)
        let first = sim.run()
        var violations = first.violations
        var second: ActionHash? = nil
        if twice {
            var again = Simulation(s, seed: seed, faults: faults)
            let r = again.run()
            second = r.hash
            if s.invariants.isEmpty || s.invariants.contains("determinism"), let v = compare(first.hash, r.hash) {
                violations.insert(v, at: 0)
            }
        }
        return SeedOutcome(result: first, secondHash: second, violations: violations)
    }

    /// The determinism check: nil when two runs' hashes agree.
    package static func compare(_ a: ActionHash, _ b: ActionHash) -> String? {
        a == b ? nil : "determinism: action hash \(a.hex) then \(b.hex) (\(a.actions) vs \(b.actions) actions)"
    }

    /// The command that replays a seed.
    package static func replayCommand(file: String, seed: UInt64) -> String {
        "SWIFT_DETERMINISTIC_HASHING=1 swift run -c release kgo sim run \(file) --seed \(seed)"
    }
}

/// Reduces a failing run: drops its faults one at a time (last first), keeping each drop
/// while the run still fails with the same invariant, until a pass drops nothing; then
/// halves each workload's record count while it still fails. Returns a scenario with the
/// remaining faults scripted and the seed pinned, ready to save in scenarios/.
package enum Shrinker {
    package static func shrink(_ s: Scenario, seed: UInt64, budget: Int = 200) -> (scenario: Scenario, runs: Int)? {
        let original = Simulation(s, seed: seed)
        let first = SeedCheck.run(s, seed: seed, twice: false)
        guard let v = first.violations.first else { return nil }
        let invariant = String(v.prefix { $0 != " " })
        var faults = original.faults
        var runs = 1
        // Passes until one drops nothing: a fault may matter only while another is present.
        var dropped = true
        while dropped && runs < budget {
            dropped = false
            var i = faults.count - 1
            while i >= 0 && runs < budget {
                var fewer = faults
                fewer.remove(at: i)
                runs += 1
                let r = SeedCheck.run(s, seed: seed, twice: false, faults: fewer)
                if r.violations.first.map({ $0.hasPrefix(invariant + " ") }) == true {
                    faults = fewer
                    dropped = true
                }
                i -= 1
            }
        }
        // Fewer records: the faults are scripted now, so they stay put while the workload shrinks.
        var workloads = s.workloads
        for i in workloads.indices {
            while runs < budget, let smaller = halved(workloads[i]) {
                var trial = s
                trial.workloads = workloads
                trial.workloads[i] = smaller
                runs += 1
                let r = SeedCheck.run(trial, seed: seed, twice: false, faults: faults)
                guard r.violations.first.map({ $0.hasPrefix(invariant + " ") }) == true else { break }
                workloads[i] = smaller
            }
        }
        var out = s
        out.seed = seed
        out.randomFaults = nil
        out.faults = faults
        out.workloads = workloads
        return (out, runs)
    }

    /// The workload with half its records, or nil when it has no record count left to halve.
    static func halved(_ w: Scenario.WorkloadSpec) -> Scenario.WorkloadSpec? {
        switch w {
        case .produce(let t, let e, let r) where r > 1: return .produce(topic: t, every: e, records: r / 2)
        case .producer(let t, let n, let e, let b) where n > 1: return .producer(topic: t, records: n / 2, every: e, batch: max(1, min(b, n / 2)))
        case .txnProducer(var x) where x.transactions > 1:
            x.transactions /= 2
            return .txnProducer(x)
        default: return nil
        }
    }
}
