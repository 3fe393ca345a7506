import Foundation

/// A version range as the JSON writes it: "3+", "0-2", "5" or "none".
struct VersionRange: Equatable {
    var lo: Int
    var hi: Int?  // nil: open-ended

    static func parse(_ s: String) throws -> VersionRange? {
        let t = s.trimmingCharacters(in: .whitespaces)
        if t == "none" { return nil }
        if t.hasSuffix("+"), let lo = Int(t.dropLast()) { return VersionRange(lo: lo, hi: nil) }
        let parts = t.split(separator: "-")
        if parts.count == 2, let lo = Int(parts[0]), let hi = Int(parts[1]) { return VersionRange(lo: lo, hi: hi) }
        if let v = Int(t) { return VersionRange(lo: v, hi: v) }
        throw GenError("bad version range \"\(s)\"")
    }

    func contains(_ v: Int) -> Bool { v >= lo && (hi.map { v <= $0 } ?? true) }

    func intersect(_ o: VersionRange?) -> VersionRange? {
        guard let o else { return nil }
        let l = max(lo, o.lo)
        let h: Int?
        switch (hi, o.hi) {
        case let (a?, b?): h = min(a, b)
        case let (a?, nil): h = a
        case let (nil, b?): h = b
        case (nil, nil): h = nil
        }
        if let h, h < l { return nil }
        return VersionRange(lo: l, hi: h)
    }
}

struct GenError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

indirect enum FieldType: Equatable {
    case bool, int8, int16, uint16, int32, uint32, int64, float64, string, uuid, bytes, records
    case array(FieldType)
    case structure(String)

    static func parse(_ s: String) -> FieldType {
        if s.hasPrefix("[]") { return .array(parse(String(s.dropFirst(2)))) }
        switch s {
        case "bool": return .bool
        case "int8": return .int8
        case "int16": return .int16
        case "uint16": return .uint16
        case "int32": return .int32
        case "uint32": return .uint32
        case "int64": return .int64
        case "float64": return .float64
        case "string": return .string
        case "uuid": return .uuid
        case "bytes": return .bytes
        case "records": return .records
        default: return .structure(s)
        }
    }
}

/// The JSON "default", kept as text: the files write it as a string, and a few as a JSON
/// boolean.
struct Field {
    var name: String
    var type: FieldType
    var versions: VersionRange?
    var nullableVersions: VersionRange?
    var hasNullableVersions: Bool
    var flexibleVersionsOverride: VersionRange??
    var tag: Int?
    var taggedVersions: VersionRange?
    var ignorable: Bool
    var defaultText: String?
    var about: String?
    var fields: [Field]?  // inline struct definition
}

struct StructDef {
    var name: String
    var about: String?
    var fields: [Field]
    /// Path prefix for error messages ("topicData.partitionData"); common structs use their name.
    var path: String
    /// The versions in which the struct can appear (set by `collectStructs`).
    var lo: Int = 0
    var hi: Int = 0
}

enum MessageKind: String { case request, response, header, data }

struct MessageSpec {
    var fileName: String
    /// Where the file was read, for the generated files' headers: "kafka-protocol/messages"
    /// or, for a definition the overlay replaced or added, "protocol-overlay/messages".
    var source: String = "kafka-protocol/messages"
    var name: String
    var kind: MessageKind
    var apiKey: Int?
    var validVersions: VersionRange
    var flexibleVersions: VersionRange?
    var latestVersionUnstable: Bool
    var fields: [Field]
    var commonStructs: [StructDef]
    var about: String?

    var validLo: Int { validVersions.lo }
    var validHi: Int { validVersions.hi ?? validVersions.lo }
}

/// Reads one message definition, dropping `//` comment lines first (the files are JSON
/// with line comments).
func loadMessage(_ url: URL) throws -> MessageSpec {
    let text = try String(contentsOf: url, encoding: .utf8)
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).filter {
        !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//")
    }
    let data = lines.joined(separator: "\n").data(using: .utf8)!
    guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw GenError("\(url.lastPathComponent): not an object")
    }
    let file = url.lastPathComponent
    guard let name = obj["name"] as? String, let type = obj["type"] as? String,
          let kind = MessageKind(rawValue: type),
          let vv = obj["validVersions"] as? String, let valid = try VersionRange.parse(vv)
    else { throw GenError("\(file): missing name/type/validVersions") }
    let flex = try VersionRange.parse((obj["flexibleVersions"] as? String) ?? "none")
    let fields = try parseFields(obj["fields"], file: file)
    var common: [StructDef] = []
    for c in (obj["commonStructs"] as? [[String: Any]]) ?? [] {
        guard let cn = c["name"] as? String else { throw GenError("\(file): commonStruct without name") }
        common.append(StructDef(name: cn, about: c["about"] as? String, fields: try parseFields(c["fields"], file: file), path: cn))
    }
    return MessageSpec(
        fileName: file, name: name, kind: kind, apiKey: obj["apiKey"] as? Int,
        validVersions: valid, flexibleVersions: flex,
        latestVersionUnstable: (obj["latestVersionUnstable"] as? Bool) ?? false,
        fields: fields, commonStructs: common, about: obj["about"] as? String)
}

private func parseFields(_ any: Any?, file: String) throws -> [Field] {
    guard let arr = any as? [[String: Any]] else { return [] }
    var out: [Field] = []
    for f in arr {
        guard let name = f["name"] as? String, let type = f["type"] as? String, let vs = f["versions"] as? String else {
            throw GenError("\(file): field without name/type/versions")
        }
        var def: String? = nil
        if let s = f["default"] as? String {
            def = s
        } else if type == "bool", let b = f["default"] as? Bool {
            // A few files write a boolean default as a JSON boolean rather than a string.
            def = b ? "true" : "false"
        } else if let n = f["default"] as? Int {
            def = String(n)
        } else if f["default"] != nil {
            throw GenError("\(file): field \(name): unreadable default")
        }
        var flexOverride: VersionRange?? = nil
        if let fv = f["flexibleVersions"] as? String { flexOverride = .some(try VersionRange.parse(fv)) }
        let nv = f["nullableVersions"] as? String
        out.append(Field(
            name: name, type: FieldType.parse(type), versions: try VersionRange.parse(vs),
            nullableVersions: try nv.flatMap { try VersionRange.parse($0) },
            hasNullableVersions: nv != nil && nv != "none",
            flexibleVersionsOverride: flexOverride,
            tag: f["tag"] as? Int,
            taggedVersions: try (f["taggedVersions"] as? String).flatMap { try VersionRange.parse($0) },
            ignorable: (f["ignorable"] as? Bool) ?? false,
            defaultText: def, about: f["about"] as? String,
            fields: try f["fields"].map { try parseFields($0, file: file) }))
    }
    return out
}

/// Every struct a message defines, in definition order: inline ones depth-first, then
/// common ones. Names are unique within a message (the JSON requires it). Each gets the
/// hull of the versions in which a field of its type is present, so that its code tests
/// only the version bounds that matter there.
func collectStructs(_ m: MessageSpec) throws -> [StructDef] {
    let valid = VersionRange(lo: m.validLo, hi: m.validHi)
    func presence(_ f: Field, within r: VersionRange) -> VersionRange? {
        var p = f.versions?.intersect(r)
        if f.tag != nil { p = p?.intersect(f.taggedVersions) }
        return p
    }
    func structName(_ f: Field) -> String? {
        var t = f.type
        if case let .array(e) = t { t = e }
        if case let .structure(n) = t { return n }
        return nil
    }

    // Definitions, in order, and where each one's fields are.
    var defs: [StructDef] = []
    var seen = Set<String>()
    func walk(_ fields: [Field], path: String) throws {
        for f in fields {
            guard let sub = f.fields, let sn = structName(f) else { continue }
            if seen.contains(sn) { throw GenError("\(m.fileName): struct \(sn) defined twice") }
            seen.insert(sn)
            let p = path.isEmpty ? swiftFieldName(f.name) : path + "." + swiftFieldName(f.name)
            defs.append(StructDef(name: sn, about: f.about, fields: sub, path: p))
            try walk(sub, path: p)
        }
    }
    try walk(m.fields, path: "")
    for c in m.commonStructs {
        if seen.contains(c.name) { throw GenError("\(m.fileName): struct \(c.name) defined twice") }
        seen.insert(c.name)
        defs.append(c)
        try walk(c.fields, path: c.name)
    }

    // Version hulls, to a fixed point: a struct's range comes from the fields that use it,
    // which sit in the message or in other structs.
    var ranges: [String: VersionRange] = [:]
    func note(_ fields: [Field], within r: VersionRange) -> Bool {
        var changed = false
        for f in fields {
            guard let sn = structName(f), let p = presence(f, within: r) else { continue }
            let old = ranges[sn]
            let new = old.map { VersionRange(lo: min($0.lo, p.lo), hi: max($0.hi!, p.hi!)) } ?? p
            if new != old { ranges[sn] = new; changed = true }
        }
        return changed
    }
    var changed = note(m.fields, within: valid)
    while changed {
        changed = false
        for d in defs {
            if let r = ranges[d.name], note(d.fields, within: r) { changed = true }
        }
    }
    return defs.map { d in
        var d = d
        // A struct no present field uses keeps the message's range.
        let r = ranges[d.name] ?? valid
        d.lo = r.lo
        d.hi = r.hi!
        return d
    }
}
