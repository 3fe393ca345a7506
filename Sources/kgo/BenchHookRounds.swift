import ArgumentParser
import Foundation
import KafkaIO
import KafkaMetrics
#if canImport(Glibc)
import Glibc
#endif

/// What a benchmark run installs in `KafkaClientConfiguration.hooks`.
enum BenchHookMode: String, CaseIterable, Sendable {
    /// No hook: the client builds no events at all.
    case none
    /// One hook with every method left to its default (nothing): the events' own cost.
    case empty
    /// KafkaMetricsHook on `BenchMetricsFactory`, a backend that records like a real one.
    case metrics

    func hooks(_ factory: BenchMetricsFactory) -> [any KafkaHook] {
        switch self {
        case .none: return []
        case .empty: return [EmptyHook()]
        case .metrics: return [KafkaMetricsHook(factory: factory)]
        }
    }
}

/// A hook that keeps every default: what the client spends building and handing out events.
struct EmptyHook: KafkaHook {}

/// `--hooks none,metrics --rounds N` of `kgo bench produce|consume`: the same run with each
/// hook setting in turn, the order reversed every other round so neither always goes first
/// on a machine whose load drifts.
struct BenchHookOptions: ParsableArguments {
    @Option(help: "Compare hook settings in alternating rounds, comma-separated: none (no hook), empty (one hook doing nothing), metrics (KafkaMetricsHook on an in-process recording backend: atomic counters and gauges, locked histograms). Prints each run, then each setting's min/median throughput and CPU time and the cost against the first setting.")
    var hooks: String?
    @Option(help: "Rounds of --hooks (each round runs every setting once; even, so each setting runs as often in each position).")
    var rounds: Int = 6

    var modes: [BenchHookMode]? {
        get throws {
            guard let hooks else { return nil }
            let names = hooks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let modes = try names.map { name in
                guard let m = BenchHookMode(rawValue: name) else {
                    throw ValidationError("--hooks: unknown setting \(name) (none, empty, metrics)")
                }
                return m
            }
            guard !modes.isEmpty, Set(modes).count == modes.count else { throw ValidationError("--hooks: name each setting once") }
            return modes
        }
    }

    func validate() throws {
        _ = try modes
        guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
    }

    /// Round `round` (from 1) runs the settings in their order when odd, reversed when even.
    static func order(_ modes: [BenchHookMode], round: Int) -> [BenchHookMode] {
        round % 2 == 1 ? modes : modes.reversed()
    }
}

/// User plus system CPU time of this process so far (every thread: the caller's, the event
/// loop's), from getrusage.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    let seconds = { (t: timeval) in Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// One run of a `--hooks` benchmark.
struct BenchHookSample {
    var mode: BenchHookMode
    var round: Int
    var records: Int
    var bytes: Int
    var seconds: Double
    var cpuSeconds: Double

    var recordsPerSecond: Double { Double(records) / seconds }
    var megabytesPerSecond: Double { Double(bytes) / seconds / 1e6 }
}

/// The per-setting summary of a `--hooks` benchmark: min, median and max throughput, min and median CPU,
/// the spread between rounds (the noise), and each setting's cost against the first.
enum BenchHookSummary {
    static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// (max - min) / median, in percent.
    static func spread(_ xs: [Double]) -> Double {
        guard let lo = xs.min(), let hi = xs.max() else { return 0 }
        let m = median(xs)
        return m > 0 ? (hi - lo) / m * 100 : 0
    }

    static func lines(_ samples: [BenchHookSample], modes: [BenchHookMode], rounds: Int, what: String) -> [String] {
        var out = ["HOOKS \(what): \(rounds) rounds, settings alternating (metrics backend: kgo's in-process recorder, atomic counters and gauges, locked histograms; not the no-op backend)"]
        out.append("mode      runs  rec/s min    rec/s med    rec/s max    MB/s med  cpu_s min  cpu_s med  cpu_us/rec  spread rec/s  spread cpu")
        var stats: [BenchHookMode: (rate: Double, bestRate: Double, cpu: Double, leastCPU: Double)] = [:]
        for mode in modes {
            let runs = samples.filter { $0.mode == mode }
            guard !runs.isEmpty else { continue }
            let rates = runs.map(\.recordsPerSecond)
            let cpus = runs.map(\.cpuSeconds)
            let cpuPerRecord = runs.map { $0.cpuSeconds / Double(max($0.records, 1)) * 1e6 }
            stats[mode] = (median(rates), rates.max()!, median(cpus), cpus.min()!)
            out.append(mode.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                + pad(runs.count, 6) + pad(Int(rates.min()!), 13) + pad(Int(median(rates)), 13) + pad(Int(rates.max()!), 13)
                + pad(String(format: "%.2f", median(runs.map(\.megabytesPerSecond))), 12)
                + pad(String(format: "%.3f", cpus.min()!), 11) + pad(String(format: "%.3f", median(cpus)), 11)
                + pad(String(format: "%.3f", median(cpuPerRecord)), 12)
                + pad(String(format: "%.1f%%", spread(rates)), 14) + pad(String(format: "%.1f%%", spread(cpus)), 12))
        }
        if let base = modes.first, let b = stats[base] {
            let percent = { (x: Double, y: Double) in String(format: "%+.1f%%", (x / y - 1) * 100) }
            for mode in modes.dropFirst() {
                guard let m = stats[mode] else { continue }
                out.append("HOOKS \(what) \(mode.rawValue) vs \(base.rawValue): throughput \(percent(m.rate, b.rate)) (median rec/s), "
                    + "\(percent(m.bestRate, b.bestRate)) (best); CPU \(percent(m.cpu, b.cpu)) (median cpu_s), \(percent(m.leastCPU, b.leastCPU)) (least)")
            }
        }
        if rounds % 2 == 1 && modes.count > 1 {
            // Runs alternate in cost on this client (every other run pays more CPU, whichever
            // setting it is); an odd number of rounds gives one setting more of the dear slots.
            out.append("HOOKS note: an odd number of rounds puts \(modes.first!.rawValue) in more odd-numbered runs; use an even number")
        }
        return out
    }

    private static func pad(_ v: Int, _ width: Int) -> String { pad("\(v)", width) }
    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
    }
}
