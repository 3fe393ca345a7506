import ArgumentParser

/// kcat's backslash escapes in `-f`, `-D` and `-K`: `\n \r \t \\ \xNN`.
enum Escapes {
    /// After a backslash: the byte the escape at the front of `rest` stands for, consumed;
    /// nil (nothing consumed) when `rest` does not start an escape.
    static func take(_ rest: inout ArraySlice<UInt8>) throws -> UInt8? {
        guard let n = rest.first else { return nil }
        switch n {
        case UInt8(ascii: "n"): rest.removeFirst(); return 10
        case UInt8(ascii: "r"): rest.removeFirst(); return 13
        case UInt8(ascii: "t"): rest.removeFirst(); return 9
        case UInt8(ascii: "\\"): rest.removeFirst(); return n
        case UInt8(ascii: "x"):
            let hex = rest.dropFirst().prefix(2)
            guard hex.count == 2, let byte = UInt8(String(decoding: hex, as: UTF8.self), radix: 16) else {
                throw ValidationError("\\x wants two hex digits")
            }
            rest.removeFirst(3)
            return byte
        default: return nil
        }
    }

    /// `text` with its escapes replaced by their bytes.
    static func bytes(_ text: String) throws -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(text.utf8)[...]
        while let c = chars.popFirst() {
            if c == UInt8(ascii: "\\"), let byte = try take(&chars) { out.append(byte) } else { out.append(c) }
        }
        return out
    }

    /// Where `needle` (not empty) first occurs in `haystack` at or after `from`.
    static func index(of needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard needle.count <= haystack.count, from <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == first && haystack[i ..< i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
