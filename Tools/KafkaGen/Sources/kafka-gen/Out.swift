/// A line buffer with indentation, and fresh local names for generated code.
final class Out {
    private(set) var lines: [String] = []
    private var level = 0
    private var counter = 0

    func line(_ s: String) { lines.append(s.isEmpty ? "" : String(repeating: "    ", count: level) + s) }
    func open(_ s: String) { line(s); level += 1 }
    func close(_ s: String = "}") { level -= 1; line(s) }
    /// Closes a block and opens the next ("} else {").
    func reopen(_ s: String) { level -= 1; line(s); level += 1 }
    func fresh(_ prefix: String) -> String { counter += 1; return "\(prefix)\(counter)" }
    func resetNames() { counter = 0 }
    var text: String { lines.joined(separator: "\n") + "\n" }
}

/// Whether a version range holds for a message's valid versions: always, never, or a test
/// on `version` (only the bounds that cut the valid range are tested).
enum Cond: Equatable {
    case always, never
    case expr(String)

    init(_ r: VersionRange?, valid lo: Int, _ hi: Int) {
        guard let r, let x = r.intersect(VersionRange(lo: lo, hi: hi)) else { self = .never; return }
        let xhi = x.hi ?? hi
        let needLo = x.lo > lo
        let needHi = xhi < hi
        switch (needLo, needHi) {
        case (false, false): self = .always
        case (true, false): self = .expr("version >= \(x.lo)")
        case (false, true): self = .expr("version <= \(xhi)")
        case (true, true): self = x.lo == xhi ? .expr("version == \(x.lo)") : .expr("version >= \(x.lo) && version <= \(xhi)")
        }
    }

    /// As a Bool expression.
    var code: String {
        switch self {
        case .always: return "true"
        case .never: return "false"
        case let .expr(e): return e
        }
    }
}
