/// Decimal text ("2.5", "1.", "0.000001") scaled by a power of ten, in integer arithmetic:
/// the scenario format's durations and byte counts must parse to exactly the value they
/// render from (a Double lost digits past 2^53, so rendering did not re-parse the same).
enum ExactDecimal {
    /// `text` × 10^`exponent` × `factor`, or nil when the text is not digits with at most
    /// one point, when its value has a fraction left after scaling, or when it overflows.
    static func parse<S: StringProtocol>(_ text: S, exponent: Int, factor: UInt64 = 1) -> UInt64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0]
        var fraction = parts.count == 2 ? Substring(parts[1]) : ""
        while fraction.last == "0" { fraction = fraction.dropLast() }
        guard !whole.isEmpty || parts.count == 2 && !parts[1].isEmpty,
              whole.utf8.allSatisfy(isDigit), fraction.utf8.allSatisfy(isDigit),
              fraction.count <= exponent else { return nil }
        var digits = Array(whole.utf8) + Array(fraction.utf8)
        digits += Array(repeating: UInt8(ascii: "0"), count: exponent - fraction.count)
        var value: UInt64 = 0
        for d in digits {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = a
        }
        let (scaled, o) = value.multipliedReportingOverflow(by: factor)
        return o ? nil : scaled
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}
