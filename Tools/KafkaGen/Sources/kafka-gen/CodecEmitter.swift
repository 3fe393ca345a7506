/// Emits the Swift codec for one message: its top-level struct and its nested structs.
struct CodecEmitter {
    let m: MessageSpec
    let o: Out
    /// The versions the code being emitted can see: the message's valid versions, or for a
    /// nested struct the versions in which its parent fields are present.
    var lo: Int
    var hi: Int

    init(m: MessageSpec, o: Out) {
        self.m = m
        self.o = o
        lo = m.validLo
        hi = m.validHi
    }

    /// The emitter for a nested struct, whose conditions are judged within its own range.
    func within(_ s: StructDef) -> CodecEmitter {
        var c = self
        c.lo = s.lo
        c.hi = s.hi
        return c
    }

    var flexCond: Cond { Cond(m.flexibleVersions, valid: lo, hi) }
    /// The expression generated code uses for "this version is flexible".
    var flexibleCode: String {
        switch flexCond {
        case .always: return "true"
        case .never: return "false"
        case .expr: return "flexible"
        }
    }
    var hasTaggedSection: Bool { flexCond != .never }

    func fields(_ list: [Field], path: String) throws -> [FieldInfo] {
        try list.map { try resolveField($0, in: m, lo: lo, hi: hi, structPath: path, flexibleCode: flexibleCode) }
    }

    // MARK: declarations

    func emitMessage() throws {
        let infos = try fields(m.fields, path: "")
        o.line("")
        let vr = lo == hi ? "version \(lo)" : "versions \(lo)-\(hi)"
        var what: String
        switch m.kind {
        case .request: what = "Request of API key \(m.apiKey ?? -1)"
        case .response: what = "Response of API key \(m.apiKey ?? -1)"
        case .header: what = "Protocol header"
        case .data: what = "Embedded data schema"
        }
        let flexNote = m.flexibleVersions.map { "flexible from version \($0.lo)" } ?? "never flexible"
        o.line("/// \(what) (`\(m.name)`), \(vr), \(flexNote)\(m.latestVersionUnstable ? "; the latest version is unstable" : "").")
        for l in docLines(m.about, indent: "") { o.line(l) }
        let proto: String
        switch m.kind {
        case .request: proto = "KafkaRequest"
        case .response: proto = "KafkaResponse"
        case .header, .data: proto = "KafkaMessage"
        }
        o.open("public struct \(m.name): \(proto) {")
        if m.kind == .request {
            o.line("public typealias Response = \(m.name.dropLast("Request".count))Response")
        }
        if m.kind == .request || m.kind == .response {
            o.line("public static let apiKey: ApiKey = ApiKey(\(m.apiKey ?? -1))")
        }
        o.line("public static let messageName: String = \(stringLiteral(m.name))")
        o.line("public static let validVersions: ClosedRange<Int16> = \(lo) ... \(hi)")
        o.line("public static let firstFlexibleVersion: Int16? = \(m.flexibleVersions.map { String($0.lo) } ?? "nil")")
        o.line("")
        emitProperties(infos)
        o.line("")
        o.line("public init() {}")
        o.line("")
        // The public entry points add the message name and version to any error.
        o.open("public func encode(into w: inout ByteWriter, version: Int16) throws(KafkaEncodingError) {")
        o.open("do throws(KafkaEncodingError) {")
        o.line("try self.encodeFields(into: &w, version: version)")
        o.reopen("} catch {")
        o.line("throw error.inField(\"\(m.name) v\\(version)\", \"\")")
        o.close()
        o.close()
        o.line("")
        o.open("public init(from r: inout ByteReader, version: Int16) throws(KafkaDecodingError) {")
        o.line("self.init()")
        o.open("do throws(KafkaDecodingError) {")
        o.line("try self.decodeFields(from: &r, version: version)")
        o.reopen("} catch {")
        o.line("throw error.inMessage(\"\(m.name) v\\(version)\")")
        o.close()
        o.close()
        o.line("")
        o.open("private func encodeFields(into w: inout ByteWriter, version: Int16) throws(KafkaEncodingError) {")
        o.open("guard Self.validVersions.contains(version) else {")
        o.line("throw KafkaEncodingError(message: \"\", field: \"\", kind: .unsupportedVersion(version))")
        o.close()
        try emitEncodeBody(infos, path: "")
        o.close()
        o.line("")
        o.open("private mutating func decodeFields(from r: inout ByteReader, version: Int16) throws(KafkaDecodingError) {")
        o.open("guard Self.validVersions.contains(version) else {")
        o.line("throw KafkaDecodingError(field: \"\", offset: r.offset, kind: .unsupportedVersion(version))")
        o.close()
        try emitDecodeBody(infos, path: "")
        o.close()
        o.close()
    }

    /// Call on `within(s)`.
    func emitStruct(_ s: StructDef) throws {
        let infos = try fields(s.fields, path: s.path)
        o.line("")
        o.open("extension \(m.name) {")
        for l in docLines(s.about, indent: "") { o.line(l) }
        let vr = lo == hi ? "version \(lo)" : "versions \(lo)-\(hi)"
        o.line("///")
        o.line("/// Appears in \(m.name) \(vr); its version tests assume a version in that range.")
        o.open("public struct \(s.name): KafkaStruct {")
        emitProperties(infos)
        o.line("")
        o.line("public init() {}")
        o.line("")
        o.open("public func encode(into w: inout ByteWriter, version: Int16) throws(KafkaEncodingError) {")
        try emitEncodeBody(infos, path: s.path)
        o.close()
        o.line("")
        o.open("public init(from r: inout ByteReader, version: Int16) throws(KafkaDecodingError) {")
        o.line("self.init()")
        try emitDecodeBody(infos, path: s.path)
        o.close()
        o.close()
        o.close()
    }

    func emitProperties(_ infos: [FieldInfo]) {
        for fi in infos {
            for l in docLines(fi.field.about, indent: "") { o.line(l) }
            o.line("public var \(fi.name): \(fi.swiftType) = \(fi.defaultValue)")
        }
        if hasTaggedSection {
            o.line("/// Tagged fields this library does not know, kept to be re-encoded as received.")
            o.line("public var unknownTaggedFields: [TaggedField] = []")
        }
    }

    // MARK: encoding

    func notInVersionThrow(_ path: String) -> String {
        "throw KafkaEncodingError(message: \"\", field: \"\(path)\", kind: .fieldNotInVersion(version))"
    }

    func nullThrow(_ path: String) -> String {
        "throw KafkaEncodingError(message: \"\", field: \"\(path)\", kind: .nullNotAllowed(version))"
    }

    func emitEncodeBody(_ infos: [FieldInfo], path: String) throws {
        if case let .expr(e) = flexCond { o.line("let flexible: Bool = \(e)") }
        for fi in infos {
            let value = "self.\(fi.name)"
            if fi.tag != nil {
                // Written in the tag section; here only the check for versions without it.
                if fi.presence != .always && !fi.field.ignorable {
                    let absent = fi.presence == .never ? "" : "!(\(fi.presence.code)) && "
                    o.open("if \(absent)\(nonDefaultCheck(fi, value)) {")
                    o.line(notInVersionThrow(fi.path))
                    o.close()
                }
                continue
            }
            switch fi.presence {
            case .always:
                try encodeField(fi, value, w: "w")
            case .never:
                if !fi.field.ignorable {
                    o.open("if \(nonDefaultCheck(fi, value)) {")
                    o.line(notInVersionThrow(fi.path))
                    o.close()
                }
            case let .expr(e):
                o.open("if \(e) {")
                try encodeField(fi, value, w: "w")
                if !fi.field.ignorable {
                    o.reopen("} else if \(nonDefaultCheck(fi, value)) {")
                    o.line(notInVersionThrow(fi.path))
                }
                o.close()
            }
        }
        guard hasTaggedSection else { return }
        let tagged = infos.filter { $0.tag != nil && $0.presence != .never }.sorted { $0.tag! < $1.tag! }
        for fi in tagged where fi.isOptional && fi.nullable != .never {
            if case .structure = fi.type {
                // Kafka's Java code frames a null tagged struct differently from an inline one;
                // no schema has one yet, so refuse rather than guess.
                throw GenError("\(m.fileName): \(fi.path): nullable tagged struct fields are not supported")
            }
        }
        let sectionOpen = flexCond != .always
        if sectionOpen {
            // Unknown tags set on a value cannot go out in a version without tag sections;
            // refusing beats losing them silently.
            o.open("if !flexible && !self.unknownTaggedFields.isEmpty {")
            o.line(notInVersionThrow(path.isEmpty ? "unknownTaggedFields" : path + ".unknownTaggedFields"))
            o.close()
            o.open("if flexible {")
        }
        if tagged.isEmpty {
            o.line("w.writeTaggedFields(self.unknownTaggedFields)")
        } else {
            o.line("var tagCount: Int = self.unknownTaggedFields.count")
            for fi in tagged {
                let present = fi.presence == .always ? "" : "(\(fi.presence.code)) && "
                o.line("let put\(fi.tag!): Bool = \(present)\(nonDefaultCheck(fi, "self.\(fi.name)"))")
                o.line("if put\(fi.tag!) { tagCount += 1 }")
            }
            o.line("w.writeUnsignedVarint(UInt32(truncatingIfNeeded: tagCount))")
            o.line("var unknownIndex: Int = 0")
            for fi in tagged {
                o.open("if put\(fi.tag!) {")
                o.line("w.writeUnknownTaggedFields(self.unknownTaggedFields, before: \(fi.tag!), from: &unknownIndex)")
                o.line("var tw = ByteWriter(capacity: 16)")
                try encodeField(fi, "self.\(fi.name)", w: "tw")
                o.line("w.writeTaggedField(tag: \(fi.tag!), body: tw.bytes)")
                o.close()
            }
            o.line("w.writeUnknownTaggedFields(self.unknownTaggedFields, before: nil, from: &unknownIndex)")
        }
        if sectionOpen { o.close() }
    }

    /// Encodes a present field, checking nulls against the version.
    func encodeField(_ fi: FieldInfo, _ value: String, w: String) throws {
        if !fi.isOptional {
            try encodeValue(fi.type, value, w: w, compact: fi.compact, path: fi.path)
            return
        }
        if fi.type == .string && fi.nullable == .always {
            o.line("try \(w).writeNullableString(\(value), compact: \(fi.compact), \"\(fi.path)\")")
            return
        }
        if (fi.type == .bytes || fi.type == .records) && fi.nullable == .always {
            o.line("\(w).writeNullableBytes(\(value), compact: \(fi.compact))")
            return
        }
        let v = o.fresh("v")
        o.open("if let \(v) = \(value) {")
        if case .structure = fi.type {
            // A nullable struct carries a presence byte in the versions where it may be null.
            switch fi.nullable {
            case .always: o.line("\(w).writeInt8(1)")
            case .never: break
            case let .expr(e): o.line("if \(e) { \(w).writeInt8(1) }")
            }
        }
        try encodeValue(fi.type, v, w: w, compact: fi.compact, path: fi.path)
        switch fi.nullable {
        case .always:
            o.reopen("} else {")
            try encodeNull(fi, w: w)
        case .never:
            o.reopen("} else {")
            o.line(nullThrow(fi.path))
        case let .expr(e):
            o.reopen("} else if \(e) {")
            try encodeNull(fi, w: w)
            o.reopen("} else {")
            o.line(nullThrow(fi.path))
        }
        o.close()
    }

    func encodeNull(_ fi: FieldInfo, w: String) throws {
        switch fi.type {
        case .string: o.line("try \(w).writeNullableString(nil, compact: \(fi.compact))")
        case .bytes, .records: o.line("\(w).writeNullableBytes(nil, compact: \(fi.compact))")
        case .array: o.line("\(w).writeNullArrayLength(compact: \(fi.compact))")
        case .structure: o.line("\(w).writeInt8(-1)")
        default: throw GenError("\(m.fileName): \(fi.path): nullable \(fi.type) is not supported")
        }
    }

    func encodeValue(_ t: FieldType, _ v: String, w: String, compact: String, path: String) throws {
        switch t {
        case .bool: o.line("\(w).writeBool(\(v))")
        case .int8: o.line("\(w).writeInt8(\(v))")
        case .int16: o.line("\(w).writeInt16(\(v))")
        case .uint16: o.line("\(w).writeUInt16(\(v))")
        case .int32: o.line("\(w).writeInt32(\(v))")
        case .uint32: o.line("\(w).writeUInt32(\(v))")
        case .int64: o.line("\(w).writeInt64(\(v))")
        case .float64: o.line("\(w).writeFloat64(\(v))")
        case .uuid: o.line("\(w).writeUUID(\(v))")
        case .string: o.line("try \(w).writeString(\(v), compact: \(compact), \"\(path)\")")
        case .bytes, .records: o.line("\(w).writeBytes(\(v), compact: \(compact))")
        case .structure: o.line("try \(v).encode(into: &\(w), version: version)")
        case let .array(e):
            o.line("\(w).writeArrayLength(\(v).count, compact: \(compact))")
            let el = o.fresh("e")
            o.open("for \(el) in \(v) {")
            try encodeValue(e, el, w: w, compact: compact, path: path)
            o.close()
        }
    }

    // MARK: decoding

    func emitDecodeBody(_ infos: [FieldInfo], path: String) throws {
        if case let .expr(e) = flexCond { o.line("let flexible: Bool = \(e)") }
        for fi in infos where fi.tag == nil {
            switch fi.presence {
            case .always: try decodeField(fi, r: "r")
            case .never: break
            case let .expr(e):
                o.open("if \(e) {")
                try decodeField(fi, r: "r")
                o.close()
            }
        }
        guard hasTaggedSection else { return }
        let sectionPath = path.isEmpty ? "taggedFields" : path + ".taggedFields"
        let tagged = infos.filter { $0.tag != nil && $0.presence != .never }.sorted { $0.tag! < $1.tag! }
        let sectionOpen = flexCond != .always
        if sectionOpen { o.open("if flexible {") }
        if tagged.isEmpty {
            o.line("self.unknownTaggedFields = try r.readUnknownTaggedFields(\"\(sectionPath)\")")
        } else {
            o.line("let tagCount: Int = try r.readTaggedFieldCount(\"\(sectionPath)\")")
            o.open("for _ in 0 ..< tagCount {")
            o.line("var tf = try r.readTaggedField(\"\(sectionPath)\")")
            o.open("switch tf.tag {")
            for fi in tagged {
                let whereClause = fi.presence == .always ? "" : " where \(fi.presence.code)"
                o.reopen("case \(fi.tag!)\(whereClause):")
                try decodeField(fi, r: "tf.body")
                o.line("try tf.body.expectAtEnd(\"\(fi.path)\")")
            }
            o.reopen("default:")
            o.line("self.unknownTaggedFields.append(TaggedField(tag: tf.tag, data: tf.body.remainingBytes()))")
            o.close()
            o.close()
        }
        if sectionOpen { o.close() }
    }

    func decodeField(_ fi: FieldInfo, r: String) throws {
        let target = "self.\(fi.name)"
        if !fi.isOptional {
            try decodeValue(fi.type, into: target, r: r, compact: fi.compact, path: fi.path)
            return
        }
        switch fi.nullable {
        case .always: try decodeNullable(fi, into: target, r: r)
        case .never: try decodeValue(fi.type, into: target, r: r, compact: fi.compact, path: fi.path)
        case let .expr(e):
            o.open("if \(e) {")
            try decodeNullable(fi, into: target, r: r)
            o.reopen("} else {")
            try decodeValue(fi.type, into: target, r: r, compact: fi.compact, path: fi.path)
            o.close()
        }
    }

    func decodeNullable(_ fi: FieldInfo, into target: String, r: String) throws {
        switch fi.type {
        case .string:
            o.line("\(target) = try \(r).readNullableString(compact: \(fi.compact), \"\(fi.path)\")")
        case .bytes, .records:
            o.line("\(target) = try \(r).readNullableBytes(compact: \(fi.compact), \"\(fi.path)\")")
        case let .array(e):
            let n = o.fresh("n")
            o.open("if let \(n) = try \(r).readArrayLength(compact: \(fi.compact), \"\(fi.path)\") {")
            try decodeArrayElements(e, count: n, into: target, r: r, compact: fi.compact, path: fi.path)
            o.reopen("} else {")
            o.line("\(target) = nil")
            o.close()
        case let .structure(s):
            o.open("if try \(r).readInt8(\"\(fi.path)\") < 0 {")
            o.line("\(target) = nil")
            o.reopen("} else {")
            o.line("\(target) = try \(s)(from: &\(r), version: version)")
            o.close()
        default:
            throw GenError("\(m.fileName): \(fi.path): nullable \(fi.type) is not supported")
        }
    }

    /// A single expression reading a non-null scalar, string, bytes or struct.
    func readExpr(_ t: FieldType, r: String, compact: String, path: String) throws -> String {
        switch t {
        case .bool: return "try \(r).readBool(\"\(path)\")"
        case .int8: return "try \(r).readInt8(\"\(path)\")"
        case .int16: return "try \(r).readInt16(\"\(path)\")"
        case .uint16: return "try \(r).readUInt16(\"\(path)\")"
        case .int32: return "try \(r).readInt32(\"\(path)\")"
        case .uint32: return "try \(r).readUInt32(\"\(path)\")"
        case .int64: return "try \(r).readInt64(\"\(path)\")"
        case .float64: return "try \(r).readFloat64(\"\(path)\")"
        case .uuid: return "try \(r).readUUID(\"\(path)\")"
        case .string: return "try \(r).readString(compact: \(compact), \"\(path)\")"
        case .bytes, .records: return "try \(r).readBytes(compact: \(compact), \"\(path)\")"
        case let .structure(s): return "try \(s)(from: &\(r), version: version)"
        case .array: throw GenError("\(m.fileName): \(path): arrays of arrays are not supported")
        }
    }

    func decodeValue(_ t: FieldType, into target: String, r: String, compact: String, path: String) throws {
        if case let .array(e) = t {
            let n = o.fresh("n")
            o.line("let \(n): Int = try \(r).readNonNullArrayLength(compact: \(compact), \"\(path)\")")
            try decodeArrayElements(e, count: n, into: target, r: r, compact: compact, path: path)
            return
        }
        o.line("\(target) = \(try readExpr(t, r: r, compact: compact, path: path))")
    }

    func decodeArrayElements(_ e: FieldType, count n: String, into target: String, r: String, compact: String, path: String) throws {
        let a = o.fresh("a")
        o.line("var \(a): [\(baseSwiftType(e))] = []")
        // The count is only checked against one byte per element, and a value is larger in
        // memory than its smallest encoding (a struct far larger): reserve a bounded amount
        // so a forged count cannot allocate more than the input can fill.
        o.line("\(a).reserveCapacity(Swift.min(\(n), 256))")
        o.open("for _ in 0 ..< \(n) {")
        o.line("\(a).append(\(try readExpr(e, r: r, compact: compact, path: path)))")
        o.close()
        o.line("\(target) = \(a)")
    }
}
