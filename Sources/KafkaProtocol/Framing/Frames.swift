/// Request and response framing: the 4-byte size prefix, the header, then the body.
///
/// Encoding writes the whole frame into one ByteWriter (size back-patched). Parsing takes a
/// frame without its size prefix: whoever reads the stream splits it into frames.

/// A request frame's header, and a reader positioned at the body.
public struct ParsedRequestHeader: Sendable {
    public var header: RequestHeader
    public var headerVersion: Int16
    public var body: ByteReader

    public var apiKey: ApiKey { ApiKey(header.requestApiKey) }
    public var apiVersion: Int16 { header.requestApiVersion }
    public var correlationId: Int32 { header.correlationId }
    /// nil for header v0, which has no client id (the generated header holds its default there).
    public var clientId: String? { headerVersion == 0 ? nil : header.clientId }

    /// Decodes the body as the request its header names. Bytes after the body are ignored
    /// unless `rejectTrailingBytes`: Kafka brokers ignore them, and clients rely on it
    /// (librdkafka up to at least 2.16 sends an "all topics" Metadata v9+ request with a
    /// 4-byte array count where a 1-byte one belongs, librdkafka issue #5049).
    public func decodeBody(rejectTrailingBytes: Bool = false) throws(KafkaDecodingError) -> any KafkaRequest {
        var r = body
        let request = try decodeRequest(apiKey: apiKey, version: apiVersion, from: &r)
        if rejectTrailingBytes && !r.isAtEnd {
            throw KafkaDecodingError(message: "\(apiKey.name)Request v\(apiVersion)", field: "", offset: r.offset, kind: .trailingBytes(r.remaining))
        }
        return request
    }
}

/// Encodes `request` as a complete frame: size prefix, request header, body.
public func encodeRequestFrame<R: KafkaRequest>(_ request: R, version: Int16, correlationId: Int32, clientId: String?) throws(KafkaEncodingError) -> [UInt8] {
    try encodeRequestFrame(request, version: version, correlationId: correlationId, clientId: clientId, splicingFrom: .max).head
}

/// `encodeRequestFrame` with BYTES fields of `splicingFrom` bytes or more spliced into the
/// frame by reference rather than copied (`OutboundFrame`).
public func encodeRequestFrame<R: KafkaRequest>(_ request: R, version: Int16, correlationId: Int32, clientId: String?,
                                                splicingFrom: Int) throws(KafkaEncodingError) -> OutboundFrame {
    guard let headerVersion = HeaderVersions.request(apiKey: R.apiKey, version: version) else {
        throw KafkaEncodingError(message: R.messageName, field: "", kind: .unsupportedVersion(version))
    }
    var header = RequestHeader()
    header.requestApiKey = R.apiKey.rawValue
    header.requestApiVersion = version
    header.correlationId = correlationId
    header.clientId = clientId
    let hint = (request as? any EncodedSizeHinting)?.encodedSizeHint(splicingFrom: splicingFrom) ?? 0
    var w = ByteWriter(capacity: max(256, 64 + (clientId?.utf8.count ?? 0) + hint))
    w.spliceFrom = splicingFrom
    let sizeAt = w.reserveInt32()
    try header.encode(into: &w, version: headerVersion)
    try request.encode(into: &w, version: version)
    try patchFrameSize(&w, at: sizeAt, R.messageName)
    return OutboundFrame(head: w.bytes, splices: w.splices)
}

/// Encodes `response` as a complete frame: size prefix, response header, body (what a
/// broker, such as the fake cluster, sends).
public func encodeResponseFrame<R: KafkaResponse>(_ response: R, version: Int16, correlationId: Int32) throws(KafkaEncodingError) -> [UInt8] {
    guard let headerVersion = HeaderVersions.response(apiKey: R.apiKey, version: version) else {
        throw KafkaEncodingError(message: R.messageName, field: "", kind: .unsupportedVersion(version))
    }
    var header = ResponseHeader()
    header.correlationId = correlationId
    let hint = (response as? any EncodedSizeHinting)?.encodedSizeHint ?? 0
    var w = ByteWriter(capacity: max(256, hint + 16))
    let sizeAt = w.reserveInt32()
    try header.encode(into: &w, version: headerVersion)
    try response.encode(into: &w, version: version)
    try patchFrameSize(&w, at: sizeAt, R.messageName)
    return w.bytes
}

private func patchFrameSize(_ w: inout ByteWriter, at offset: Int, _ name: String) throws(KafkaEncodingError) {
    let size = w.count - offset - 4
    guard size <= Int(Int32.max) else {
        throw KafkaEncodingError(message: name, field: "", kind: .valueTooLong(size))
    }
    w.patchInt32(at: offset, Int32(size))
}

/// Parses the request header of a frame (without its size prefix). The header version
/// depends on the API key and version, which open every header version alike.
public func parseRequestHeader(_ frame: [UInt8]) throws(KafkaDecodingError) -> ParsedRequestHeader {
    var peek = ByteReader(frame)
    let key = try peek.readInt16("requestApiKey")
    let version = try peek.readInt16("requestApiVersion")
    guard let headerVersion = HeaderVersions.request(apiKey: ApiKey(key), version: version) else {
        throw KafkaDecodingError(message: "RequestHeader", field: "requestApiKey", offset: 0, kind: .unknownApiKey(key))
    }
    var r = ByteReader(frame)
    let header = try RequestHeader(from: &r, version: headerVersion)
    return ParsedRequestHeader(header: header, headerVersion: headerVersion, body: r)
}

/// The correlation id of a response frame (without its size prefix): the first field of
/// every response header version, so a client can find the request it answers before it
/// knows how to decode the rest.
public func peekCorrelationId(_ frame: [UInt8]) throws(KafkaDecodingError) -> Int32 {
    var r = ByteReader(frame)
    return try r.readInt32("correlationId")
}

/// Parses a response frame (without its size prefix) as `type` at `version`: the header,
/// then a body that must end the frame.
public func parseResponse<R: KafkaResponse>(for type: R.Type, version: Int16, frame: [UInt8]) throws(KafkaDecodingError) -> (correlationId: Int32, response: R) {
    guard let headerVersion = HeaderVersions.response(apiKey: R.apiKey, version: version) else {
        throw KafkaDecodingError(message: R.messageName, field: "", offset: 0, kind: .unknownApiKey(R.apiKey.rawValue))
    }
    var r = ByteReader(frame)
    let header = try ResponseHeader(from: &r, version: headerVersion)
    let response = try R(from: &r, version: version)
    if !r.isAtEnd {
        throw KafkaDecodingError(message: "\(R.messageName) v\(version)", field: "", offset: r.offset, kind: .trailingBytes(r.remaining))
    }
    return (header.correlationId, response)
}
