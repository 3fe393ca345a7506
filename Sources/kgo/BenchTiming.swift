import Foundation

/// Seconds per call of `body`, measured over at least `seconds` of wall time after one
/// warm-up call (contexts, caches). `body` returns a value folded into a sink so the
/// optimizer cannot drop the work. For the micro-benchmarks (`bench-codec`, `bench-scram`).
func secondsPerCall(atLeast seconds: Double, _ body: () throws -> Int) throws -> Double {
    let clock = ContinuousClock()
    var sink = try body()
    var calls = 0
    let start = clock.now
    var elapsed = Duration.zero
    repeat {
        sink &+= try body()
        calls += 1
        elapsed = clock.now - start
    } while elapsed < .milliseconds(Int64(seconds * 1000))
    if sink == 42 { print("", terminator: "") }
    let s = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return s / Double(calls)
}
