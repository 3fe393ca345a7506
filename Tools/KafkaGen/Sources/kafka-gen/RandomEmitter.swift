/// Emits test support: `random(version:using:)` for every generated type, producing only
/// values the version can carry (absent fields stay default, nil only where nullable,
/// unknown tagged fields only in flexible versions and with tags no known field uses).
struct RandomEmitter {
    let m: MessageSpec
    let o: Out
    let codec: CodecEmitter

    init(m: MessageSpec, o: Out) {
        self.init(m: m, o: o, codec: CodecEmitter(m: m, o: o))
    }

    init(m: MessageSpec, o: Out, codec: CodecEmitter) {
        self.m = m
        self.o = o
        self.codec = codec
    }

    func emitMessage() throws {
        let infos = try codec.fields(m.fields, path: "")
        o.line("")
        o.open("extension \(m.name): RandomizableMessage {")
        try emitFunction(typeName: m.name, infos)
        o.close()
    }

    func emitStruct(_ s: StructDef) throws {
        let inner = RandomEmitter(m: m, o: o, codec: codec.within(s))
        let infos = try inner.codec.fields(s.fields, path: s.path)
        o.line("")
        o.open("extension \(m.name).\(s.name) {")
        try inner.emitFunction(typeName: s.name, infos)
        o.close()
    }

    private func emitFunction(typeName: String, _ infos: [FieldInfo]) throws {
        o.resetNames()
        o.open("static func random(version: Int16, using g: inout SeededGenerator) -> Self {")
        o.line("var x = Self()")
        for fi in infos {
            switch fi.presence {
            case .never: continue
            case .always: try assign(fi)
            case let .expr(e):
                o.open("if \(e) {")
                try assign(fi)
                o.close()
            }
        }
        if codec.hasTaggedSection {
            let tags = infos.compactMap { $0.tag }.sorted().map(String.init).joined(separator: ", ")
            let open = codec.flexCond != .always
            if open { o.open("if \(codec.flexCond.code) {") }
            o.line("x.unknownTaggedFields = RandomValue.taggedFields(&g, avoiding: [\(tags)])")
            if open { o.close() }
        }
        o.line("return x")
        o.close()
    }

    private func assign(_ fi: FieldInfo) throws {
        let target = "x.\(fi.name)"
        if fi.isOptional && fi.nullable != .never {
            o.open("if RandomValue.isNull(&g, allowed: \(fi.nullable.code)) {")
            o.line("\(target) = nil")
            o.reopen("} else {")
            try assignValue(fi.type, target)
            o.close()
        } else {
            try assignValue(fi.type, target)
        }
    }

    private func valueExpr(_ t: FieldType) throws -> String {
        switch t {
        case .bool: return "RandomValue.bool(&g)"
        case .int8: return "RandomValue.int8(&g)"
        case .int16: return "RandomValue.int16(&g)"
        case .uint16: return "RandomValue.uint16(&g)"
        case .int32: return "RandomValue.int32(&g)"
        case .uint32: return "RandomValue.uint32(&g)"
        case .int64: return "RandomValue.int64(&g)"
        case .float64: return "RandomValue.float64(&g)"
        case .uuid: return "RandomValue.uuid(&g)"
        case .string: return "RandomValue.string(&g)"
        case .bytes, .records: return "RandomValue.bytes(&g)"
        case let .structure(s): return "\(m.name).\(s).random(version: version, using: &g)"
        case .array: throw GenError("\(m.fileName): arrays of arrays are not supported")
        }
    }

    private func assignValue(_ t: FieldType, _ target: String) throws {
        if case let .array(e) = t {
            let a = o.fresh("a")
            var elementType = baseSwiftType(e)
            if case let .structure(n) = e { elementType = "\(m.name).\(n)" }
            o.line("var \(a): [\(elementType)] = []")
            o.open("for _ in 0 ..< RandomValue.count(&g) {")
            o.line("\(a).append(\(try valueExpr(e)))")
            o.close()
            o.line("\(target) = \(a)")
            return
        }
        o.line("\(target) = \(try valueExpr(t))")
    }
}
