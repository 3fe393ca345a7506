import Foundation

/// Emits the cross-message tables: API keys, error codes, the decode dispatch, and the
/// test list of every message type.
struct ApiEntry {
    var key: Int
    var name: String           // "Produce"
    var request: MessageSpec
    var response: MessageSpec
    var constant: String { lowerCamel(name) }
}

func emitApiKeys(_ apis: [ApiEntry], o: Out) {
    o.line("")
    o.open("extension ApiKey {")
    for a in apis {
        o.line("public static let \(escaped(a.constant)): ApiKey = ApiKey(\(a.key))")
    }
    o.line("")
    o.line("/// Every API key this library knows, sorted by key.")
    o.open("public static let all: [ApiKey] = [")
    for a in apis { o.line("ApiKey(\(a.key)),") }
    o.close("]")
    o.line("")
    o.line("/// The API's name as Kafka's protocol guide writes it (\"Produce\"); \"Unknown(N)\" for a key")
    o.line("/// this library does not know.")
    o.open("public var name: String {")
    o.open("switch rawValue {")
    for a in apis { o.line("case \(a.key): return \(stringLiteral(a.name))") }
    o.line("default: return \"Unknown(\\(rawValue))\"")
    o.close()
    o.close()
    o.line("")
    o.line("/// The request versions this library can encode and decode; nil for an unknown key.")
    o.open("public var validVersions: ClosedRange<Int16>? {")
    o.open("switch rawValue {")
    for a in apis { o.line("case \(a.key): return \(a.request.validLo) ... \(a.request.validHi)") }
    o.line("default: return nil")
    o.close()
    o.close()
    o.line("")
    o.line("/// The first flexible request version; nil when none is or the key is unknown.")
    o.open("public var firstFlexibleVersion: Int16? {")
    o.open("switch rawValue {")
    for a in apis { o.line("case \(a.key): return \(a.request.flexibleVersions.map { String($0.lo) } ?? "nil")") }
    o.line("default: return nil")
    o.close()
    o.close()
    o.close()
}

func emitDispatch(_ apis: [ApiEntry], o: Out) {
    o.line("")
    o.line("/// The request type of an API key; nil for a key this library does not know.")
    o.open("public func requestType(for apiKey: ApiKey) -> (any KafkaRequest.Type)? {")
    o.open("switch apiKey.rawValue {")
    for a in apis { o.line("case \(a.key): return \(a.request.name).self") }
    o.line("default: return nil")
    o.close()
    o.close()
    o.line("")
    o.line("/// The response type of an API key; nil for a key this library does not know.")
    o.open("public func responseType(for apiKey: ApiKey) -> (any KafkaResponse.Type)? {")
    o.open("switch apiKey.rawValue {")
    for a in apis { o.line("case \(a.key): return \(a.response.name).self") }
    o.line("default: return nil")
    o.close()
    o.close()
    o.line("")
    o.line("/// Decodes a request body (the bytes after the request header) of any API.")
    o.open("public func decodeRequest(apiKey: ApiKey, version: Int16, from reader: inout ByteReader) throws(KafkaDecodingError) -> any KafkaRequest {")
    o.open("guard let type = requestType(for: apiKey) else {")
    o.line("throw KafkaDecodingError(field: \"\", offset: reader.offset, kind: .unknownApiKey(apiKey.rawValue))")
    o.close()
    o.line("return try type.init(from: &reader, version: version)")
    o.close()
    o.line("")
    o.line("/// Decodes a response body (the bytes after the response header) of any API.")
    o.open("public func decodeResponse(apiKey: ApiKey, version: Int16, from reader: inout ByteReader) throws(KafkaDecodingError) -> any KafkaResponse {")
    o.open("guard let type = responseType(for: apiKey) else {")
    o.line("throw KafkaDecodingError(field: \"\", offset: reader.offset, kind: .unknownApiKey(apiKey.rawValue))")
    o.close()
    o.line("return try type.init(from: &reader, version: version)")
    o.close()
}

struct ErrorCodeRow {
    var code: Int
    var name: String
    var retriable: Bool
    var message: String
    var constant: String { name == "NONE" ? "noError" : camelFromScreaming(name) }
}

func loadErrorCodes(_ url: URL) throws -> [ErrorCodeRow] {
    let text = try String(contentsOf: url, encoding: .utf8)
    var rows: [ErrorCodeRow] = []
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() where i > 0 {
        let cols = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard cols.count >= 5, let code = Int(cols[0]) else { throw GenError("errors.tsv line \(i + 1): bad row") }
        guard cols[2] == "yes" || cols[2] == "no" else { throw GenError("errors.tsv line \(i + 1): retriable must be yes/no") }
        rows.append(ErrorCodeRow(code: code, name: cols[1], retriable: cols[2] == "yes", message: cols[4]))
    }
    return rows.sorted { $0.code < $1.code }
}

func emitErrorCodes(_ rows: [ErrorCodeRow], o: Out) {
    o.line("")
    o.line("/// A Kafka error code. A struct rather than an enum so that a code this library does not")
    o.line("/// know (a newer broker's) is still representable.")
    o.open("public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, Error, CustomStringConvertible {")
    o.line("public var rawValue: Int16")
    o.line("public init(rawValue: Int16) { self.rawValue = rawValue }")
    o.line("public init(_ rawValue: Int16) { self.rawValue = rawValue }")
    o.line("")
    for r in rows {
        for l in docLines(r.message.isEmpty ? nil : r.message, indent: "") { o.line(l) }
        o.line("public static let \(escaped(r.constant)): KafkaErrorCode = KafkaErrorCode(\(r.code))")
    }
    o.line("")
    o.line("/// The code's name as Kafka writes it (\"OFFSET_OUT_OF_RANGE\"); \"UNKNOWN_CODE(N)\" when unknown.")
    o.open("public var name: String {")
    o.open("switch rawValue {")
    for r in rows { o.line("case \(r.code): return \(stringLiteral(r.name))") }
    o.line("default: return \"UNKNOWN_CODE(\\(rawValue))\"")
    o.close()
    o.close()
    o.line("")
    o.line("/// Whether retrying the request may succeed (Kafka's RetriableException and")
    o.line("/// InvalidMetadataException families); false for unknown codes.")
    o.open("public var isRetriable: Bool {")
    o.open("switch rawValue {")
    let retriable = rows.filter { $0.retriable }.map { String($0.code) }
    var i = 0
    while i < retriable.count {
        let chunk = retriable[i ..< min(i + 12, retriable.count)].joined(separator: ", ")
        o.line("case \(chunk): return true")
        i += 12
    }
    o.line("default: return false")
    o.close()
    o.close()
    o.line("")
    o.line("/// The broker's default text for the code; empty for `noError` and unknown codes.")
    o.open("public var message: String {")
    o.open("switch rawValue {")
    for r in rows where !r.message.isEmpty { o.line("case \(r.code): return \(stringLiteral(r.message))") }
    o.line("default: return \"\"")
    o.close()
    o.close()
    o.line("")
    o.line("public var description: String { \"\\(name) (\\(rawValue))\" }")
    o.close()
}

func emitAllMessagesList(_ messages: [MessageSpec], o: Out) {
    o.line("")
    o.line("/// Every generated message type, in file-name order.")
    o.open("let allGeneratedMessageTypes: [any RandomizableMessage.Type] = [")
    for m in messages { o.line("\(m.name).self,") }
    o.close("]")
}
