/// Parses an ApiVersions response frame (without its size prefix) sent in answer to a
/// request at `version`. A broker that does not know that version answers with a v0 body
/// carrying UNSUPPORTED_VERSION and its own supported range (KIP-511), so when the frame does
/// not parse at `version` it is parsed again at v0; `decodedVersion` says which worked.
public func parseApiVersionsResponse(version: Int16, frame: [UInt8]) throws(KafkaDecodingError) -> (correlationId: Int32, response: ApiVersionsResponse, decodedVersion: Int16) {
    do {
        let r = try parseResponse(for: ApiVersionsResponse.self, version: version, frame: frame)
        return (r.correlationId, r.response, version)
    } catch {
        if version == 0 { throw error }
        let r = try parseResponse(for: ApiVersionsResponse.self, version: 0, frame: frame)
        return (r.correlationId, r.response, 0)
    }
}
