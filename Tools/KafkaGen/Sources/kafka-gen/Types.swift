import Foundation

/// What the emitters need to know about one field, resolved against its message's versions.
struct FieldInfo {
    var field: Field
    var name: String        // Swift property name, escaped when a keyword
    var path: String        // static path for error messages
    var swiftType: String   // declared property type
    var isOptional: Bool
    var presence: Cond      // where the field is on the wire (tagged: in the tag section)
    var nullable: Cond      // where null is allowed (within presence)
    var compact: String     // Bool expression: compact encodings for this field
    var defaultValue: String
    var tag: Int?

    var type: FieldType { field.type }
}

func baseSwiftType(_ t: FieldType) -> String {
    switch t {
    case .bool: return "Bool"
    case .int8: return "Int8"
    case .int16: return "Int16"
    case .uint16: return "UInt16"
    case .int32: return "Int32"
    case .uint32: return "UInt32"
    case .int64: return "Int64"
    case .float64: return "Double"
    case .string: return "String"
    case .uuid: return "KafkaUUID"
    case .bytes, .records: return "[UInt8]"
    case let .array(e): return "[\(baseSwiftType(e))]"
    case let .structure(n): return n
    }
}

/// `lo`...`hi` are the versions in which the enclosing struct can appear: conditions are
/// only emitted for bounds that cut that range.
func resolveField(_ f: Field, in m: MessageSpec, lo: Int, hi: Int, structPath: String, flexibleCode: String) throws -> FieldInfo {
    var presenceRange = f.versions
    if f.tag != nil {
        guard let tv = f.taggedVersions else { throw GenError("\(m.fileName): \(f.name) has a tag but no taggedVersions") }
        presenceRange = presenceRange?.intersect(tv)
    }
    let presence = Cond(presenceRange, valid: lo, hi)
    let nullableRange = f.hasNullableVersions ? presenceRange?.intersect(f.nullableVersions) : nil
    // Judged within the versions where the field is present, so that "nullable wherever it
    // exists" needs no version test.
    var nullable = Cond.never
    if let p = presenceRange?.intersect(VersionRange(lo: lo, hi: hi)) {
        nullable = Cond(nullableRange, valid: p.lo, p.hi ?? hi)
    }
    let isOptional = f.hasNullableVersions || f.type == .records
    var compact = flexibleCode
    if let o = f.flexibleVersionsOverride { compact = Cond(o, valid: lo, hi).code }
    if f.tag != nil { compact = "true" }
    let swiftName = swiftFieldName(f.name)
    let path = structPath.isEmpty ? swiftName : structPath + "." + swiftName
    return FieldInfo(
        field: f, name: escaped(swiftName), path: path,
        swiftType: baseSwiftType(f.type) + (isOptional ? "?" : ""),
        isOptional: isOptional, presence: presence, nullable: nullable, compact: compact,
        defaultValue: try defaultValue(f, isOptional: isOptional, file: m.fileName), tag: f.tag)
}

private func intDefault(_ text: String?, min: Int, max: Int, _ what: String) throws -> String {
    guard let t = text?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return "0" }
    var neg = false
    var body = Substring(t)
    if body.hasPrefix("-") { neg = true; body = body.dropFirst() }
    let v: Int?
    if body.hasPrefix("0x") || body.hasPrefix("0X") { v = Int(body.dropFirst(2), radix: 16) }
    else if body.count > 1 && body.hasPrefix("0") { v = Int(body.dropFirst(), radix: 8) }
    else { v = Int(body) }
    guard let u = v else { throw GenError("\(what): bad integer default \(t)") }
    let value = neg ? -u : u
    guard value >= min && value <= max else { throw GenError("\(what): default \(t) out of range") }
    return String(value)
}

func defaultValue(_ f: Field, isOptional: Bool, file: String) throws -> String {
    let what = "\(file): \(f.name)"
    let d = f.defaultText
    if d == "null" {
        guard isOptional else { throw GenError("\(what): default null on a non-nullable field") }
        return "nil"
    }
    switch f.type {
    case .bool:
        guard d == nil || d == "true" || d == "false" else { throw GenError("\(what): bad bool default") }
        return d ?? "false"
    case .int8: return try intDefault(d, min: Int(Int8.min), max: Int(Int8.max), what)
    case .int16: return try intDefault(d, min: Int(Int16.min), max: Int(Int16.max), what)
    case .uint16: return try intDefault(d, min: 0, max: Int(UInt16.max), what)
    case .int32: return try intDefault(d, min: Int(Int32.min), max: Int(Int32.max), what)
    case .uint32: return try intDefault(d, min: 0, max: Int(UInt32.max), what)
    case .int64: return try intDefault(d, min: Int.min, max: Int.max, what)
    case .float64:
        guard let d else { return "0" }
        guard let x = Double(d), x.isFinite else { throw GenError("\(what): bad float default") }
        return "\(x)"
    case .string: return stringLiteral(d ?? "")
    case .uuid: return "KafkaUUID.zero"
    case .bytes: return "[]"
    case .records: return "nil"
    case .array: return "[]"
    case let .structure(n): return "\(n)()"
    }
}

/// A Bool expression: `value` differs from the field's default.
func nonDefaultCheck(_ fi: FieldInfo, _ value: String) -> String {
    let d = fi.defaultValue
    if d == "nil" { return "\(value) != nil" }
    switch fi.type {
    case .bytes, .records, .array:
        return fi.isOptional ? "\(value)?.isEmpty != true" : "!\(value).isEmpty"
    case let .structure(n):
        return fi.isOptional ? "\(value) != Optional<\(n)>.some(\(n)())" : "\(value) != \(n)()"
    default:
        return "\(value) != \(d)"
    }
}
