import KafkaProtocol

/// A generated message type that can build a random value valid for a given version (the
/// `random(version:using:)` functions are generated into Generated/).
protocol RandomizableMessage: KafkaMessage {
    static func random(version: Int16, using g: inout SeededGenerator) -> Self
}

/// Random field values for the generated `random(version:using:)` functions. Integers
/// favour the edges (0, -1, min, max) a quarter of the time; strings mix ASCII with
/// multi-byte UTF-8; collections stay small so that nested messages stay small.
enum RandomValue {
    static func bool(_ g: inout SeededGenerator) -> Bool { g.next() & 1 == 1 }

    private static func edge(_ g: inout SeededGenerator) -> Bool { g.next() % 4 == 0 }

    static func int8(_ g: inout SeededGenerator) -> Int8 {
        if edge(&g) { return [0, -1, Int8.min, Int8.max][Int(g.next() % 4)] }
        return Int8(truncatingIfNeeded: g.next())
    }

    static func int16(_ g: inout SeededGenerator) -> Int16 {
        if edge(&g) { return [0, -1, Int16.min, Int16.max][Int(g.next() % 4)] }
        return Int16(truncatingIfNeeded: g.next())
    }

    static func uint16(_ g: inout SeededGenerator) -> UInt16 {
        if edge(&g) { return [0, 1, UInt16.max][Int(g.next() % 3)] }
        return UInt16(truncatingIfNeeded: g.next())
    }

    static func int32(_ g: inout SeededGenerator) -> Int32 {
        if edge(&g) { return [0, -1, Int32.min, Int32.max][Int(g.next() % 4)] }
        return Int32(truncatingIfNeeded: g.next())
    }

    static func uint32(_ g: inout SeededGenerator) -> UInt32 {
        if edge(&g) { return [0, 1, UInt32.max][Int(g.next() % 3)] }
        return UInt32(truncatingIfNeeded: g.next())
    }

    static func int64(_ g: inout SeededGenerator) -> Int64 {
        if edge(&g) { return [0, -1, Int64.min, Int64.max][Int(g.next() % 4)] }
        return Int64(bitPattern: g.next())
    }

    /// Finite values only: NaN is not equal to itself.
    static func float64(_ g: inout SeededGenerator) -> Double {
        if edge(&g) { return [0, -1.5, Double.greatestFiniteMagnitude, -Double.leastNonzeroMagnitude][Int(g.next() % 4)] }
        return Double(Int32(truncatingIfNeeded: g.next())) / 64
    }

    static func uuid(_ g: inout SeededGenerator) -> KafkaUUID {
        if edge(&g) { return .zero }
        return KafkaUUID(high: g.next(), low: g.next())
    }

    private static let pieces: [String] = ["a", "Z", "0", " ", "-", "é", "ß", "中文", "🙂", "\u{0}", "topic", "\u{7F}"]

    static func string(_ g: inout SeededGenerator) -> String {
        let n = Int(g.next() % 6)
        var s = ""
        for _ in 0 ..< n { s += pieces[Int(g.next() % UInt64(pieces.count))] }
        return s
    }

    static func bytes(_ g: inout SeededGenerator) -> [UInt8] {
        let n = Int(g.next() % 9)
        var b: [UInt8] = []
        for _ in 0 ..< n { b.append(UInt8(truncatingIfNeeded: g.next())) }
        return b
    }

    /// An array length: 0 to 3.
    static func count(_ g: inout SeededGenerator) -> Int { Int(g.next() % 4) }

    /// Null a third of the time where the version allows it.
    static func isNull(_ g: inout SeededGenerator, allowed: Bool) -> Bool {
        allowed && g.next() % 3 == 0
    }

    /// Zero to two unknown tagged fields in tag order, with tags the struct's known fields
    /// do not use (sometimes a tag that needs a two-byte varint).
    static func taggedFields(_ g: inout SeededGenerator, avoiding known: [Int]) -> [TaggedField] {
        let n = Int(g.next() % 3)
        var tags: [UInt32] = []
        while tags.count < n {
            let t: UInt32 = g.next() % 5 == 0 ? UInt32(128 + g.next() % 200) : UInt32(g.next() % 12)
            if known.contains(Int(t)) || tags.contains(t) { continue }
            tags.append(t)
        }
        tags.sort()
        var out: [TaggedField] = []
        for t in tags { out.append(TaggedField(tag: t, data: bytes(&g))) }
        return out
    }
}
