import ArgumentParser
import KafkaIO
import KafkaProtocol

/// kcat's `-f` output format, compiled once and rendered per record; and its `-J` JSON
/// envelope. Lengths print -1 for a null key or value, as kcat's do.
struct RecordFormat {
    enum Piece: Equatable {
        case literal([UInt8]), topic, partition, offset, key, keyLength, value, valueLength, valueLength32, timestamp, headers
    }

    let pieces: [Piece]
    /// -Z: a null key or value prints as NULL instead of nothing.
    var nullAsText = false

    /// `%s` value (`%v` too, kgo's spelling before kcat's), `%S` value length, `%R` value
    /// length as 4 big-endian bytes, `%k` key, `%K` key length, `%t` topic, `%p` partition,
    /// `%o` offset, `%T` timestamp (ms), `%h` headers, `%%`; escapes `\n \r \t \\ \xNN`.
    init(_ format: String) throws {
        var pieces: [Piece] = []
        var lit: [UInt8] = []
        var chars = Array(format.utf8)[...]
        func flush() { if !lit.isEmpty { pieces.append(.literal(lit)); lit = [] } }
        while let c = chars.popFirst() {
            if c == UInt8(ascii: "%"), let n = chars.first {
                let piece: Piece? = switch n {
                case UInt8(ascii: "t"): .topic
                case UInt8(ascii: "p"): .partition
                case UInt8(ascii: "o"): .offset
                case UInt8(ascii: "k"): .key
                case UInt8(ascii: "K"): .keyLength
                case UInt8(ascii: "s"), UInt8(ascii: "v"): .value
                case UInt8(ascii: "S"): .valueLength
                case UInt8(ascii: "R"): .valueLength32
                case UInt8(ascii: "T"): .timestamp
                case UInt8(ascii: "h"): .headers
                default: nil
                }
                if let piece { flush(); pieces.append(piece); chars.removeFirst(); continue }
                if n == UInt8(ascii: "%") { lit.append(n); chars.removeFirst(); continue }
            }
            if c == UInt8(ascii: "\\") {
                do {
                    if let byte = try Escapes.take(&chars) { lit.append(byte); continue }
                } catch { throw ValidationError("-f: \(error)") }
            }
            lit.append(c)
        }
        flush()
        self.pieces = pieces
    }

    func render(topic: String, partition: Int32, record r: Record, into out: inout [UInt8]) {
        for piece in pieces {
            switch piece {
            case .literal(let l): out.append(contentsOf: l)
            case .topic: out.append(contentsOf: topic.utf8)
            case .partition: out.append(contentsOf: String(partition).utf8)
            case .offset: out.append(contentsOf: String(r.offset).utf8)
            case .key: bytes(r.key, into: &out)
            case .keyLength: out.append(contentsOf: String(r.key.map(\.count) ?? -1).utf8)
            case .value: bytes(r.value, into: &out)
            case .valueLength: out.append(contentsOf: String(r.value.map(\.count) ?? -1).utf8)
            case .valueLength32:
                let n = UInt32(bitPattern: Int32(truncatingIfNeeded: r.value.map(\.count) ?? -1))
                out.append(contentsOf: [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)])
            case .timestamp: out.append(contentsOf: String(r.timestamp).utf8)
            case .headers:
                let hs = r.headers.map { h in h.key + "=" + (h.value.map { String(decoding: $0, as: UTF8.self) } ?? "") }
                out.append(contentsOf: hs.joined(separator: ",").utf8)
            }
        }
    }

    private func bytes(_ b: ArraySlice<UInt8>?, into out: inout [UInt8]) {
        if let b { out.append(contentsOf: b) } else if nullAsText { out.append(contentsOf: "NULL".utf8) }
    }

    /// kcat's `-J` envelope, one object per line. The poll does not say which broker served
    /// the record nor the batch's timestamp type, so `broker` is -1 (kcat's "unknown") and
    /// `tstype` is "create" when there is a timestamp, else "unknown".
    static func json(topic: String, partition: Int32, record r: Record, into out: inout [UInt8]) {
        var s = "{\"topic\":" + quote(Array(topic.utf8)) + ",\"partition\":\(partition),\"offset\":\(r.offset)"
        s += ",\"tstype\":\"" + (r.timestamp >= 0 ? "create" : "unknown") + "\",\"ts\":\(r.timestamp),\"broker\":-1"
        let headers = r.headers
        if !headers.isEmpty {
            s += ",\"headers\":[" + headers.map { quote(Array($0.key.utf8)) + "," + ($0.value.map { quote($0) } ?? "null") }.joined(separator: ",") + "]"
        }
        s += ",\"key\":" + (r.key.map { quote($0) } ?? "null") + ",\"payload\":" + (r.value.map { quote($0) } ?? "null") + "}\n"
        out.append(contentsOf: s.utf8)
    }

    /// A JSON string of the bytes read as UTF-8 (invalid sequences become U+FFFD).
    static func quote<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var s = "\""
        for u in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch u {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    s += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    s.unicodeScalars.append(u)
                }
            }
        }
        return s + "\""
    }
}
