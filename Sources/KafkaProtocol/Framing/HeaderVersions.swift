/// Which request and response header version an API version uses. Not in the message
/// JSON: the rule comes from KIP-482 (flexible versions use the tagged-field headers) with
/// two exceptions kept for old peers.
public enum HeaderVersions {
    /// Request header v2 for flexible request versions, else v1; ControlledShutdown v0 is
    /// the one request still framed with header v0 (no client id). Flexibility only ever
    /// starts at some version and stays, so a version above the known range of a known key
    /// still gets an answer; an unknown key gets nil.
    public static func request(apiKey: ApiKey, version: Int16) -> Int16? {
        if apiKey == .controlledShutdown && version == 0 { return 0 }
        guard apiKey.validVersions != nil else { return nil }
        if let f = apiKey.firstFlexibleVersion, version >= f { return 2 }
        return 1
    }

    /// Response header v1 for flexible versions, else v0, except that ApiVersions responses
    /// always use v0: a client that sent a version the broker does not know must still be
    /// able to read the error reply (KIP-511).
    public static func response(apiKey: ApiKey, version: Int16) -> Int16? {
        if apiKey == .apiVersions { return 0 }
        guard apiKey.validVersions != nil else { return nil }
        if let f = apiKey.firstFlexibleVersion, version >= f { return 1 }
        return 0
    }
}
