#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Standard base64 (RFC 4648, with padding), which SCRAM uses for salts, nonces and proofs:
/// Foundation's, which swift-crypto already links (FoundationEssentials on Linux, without
/// the ICU data the whole of Foundation brings).
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// nil for anything that is not the canonical padded encoding of its bytes. Foundation
    /// alone refuses stray characters and lengths not a multiple of four, but takes "Zg=a"
    /// (padding before the end) and non-zero spare bits; SCRAM's peers send canonical text
    /// (RFC 5802 §7), and the check against our own encoding keeps the decoder that strict
    /// whatever Foundation release is linked.
    public static func decode(_ text: String) -> [UInt8]? {
        guard let data = Data(base64Encoded: text) else { return nil }
        let bytes = Array(data)
        return encode(bytes) == text ? bytes : nil
    }
}
