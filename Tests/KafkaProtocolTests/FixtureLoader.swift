import Foundation

/// Reads a file under Fixtures/ (copied into the test bundle as a folder).
func fixture(_ path: String) throws -> [UInt8] {
    guard let base = Bundle.module.resourceURL else { throw FixtureMissing(path: path) }
    let url = base.appendingPathComponent("Fixtures").appendingPathComponent(path)
    guard let data = FileManager.default.contents(atPath: url.path) else { throw FixtureMissing(path: path) }
    return [UInt8](data)
}

struct FixtureMissing: Error { var path: String }

/// Deterministic bytes for tests (SplitMix64), so failures replay.
struct TestBytes {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func bytes(_ n: Int) -> [UInt8] {
        (0 ..< n).map { _ in UInt8(truncatingIfNeeded: next()) }
    }
}
