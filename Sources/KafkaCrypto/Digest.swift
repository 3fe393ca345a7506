import Crypto
import _CryptoExtras

/// SCRAM's primitives (RFC 5802, RFC 7677): SHA-256 / SHA-512, their HMAC, and PBKDF2 with
/// that HMAC (SCRAM's Hi), for both sides: the client engine and FakeCluster's server. The
/// arithmetic is swift-crypto's (BoringSSL on Linux, CryptoKit / CommonCrypto on Apple
/// systems); this type only picks the hash and hands back plain bytes, so the engine keeps
/// its `[UInt8]` vocabulary and stays pure (these are functions of their arguments).
public enum Digest: Sendable {
    case sha256, sha512

    public func hash(_ message: [UInt8]) -> [UInt8] {
        switch self {
        case .sha256: Array(SHA256.hash(data: message))
        case .sha512: Array(SHA512.hash(data: message))
        }
    }

    public func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        let key = SymmetricKey(data: key)
        switch self {
        case .sha256: return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .sha512: return Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        }
    }

    /// PBKDF2 with this HMAC, one hash long (SCRAM's Hi, RFC 5802 §2.2), from _CryptoExtras.
    /// SCRAM's iteration counts (4096 and up, as the server says) are far below the 210,000
    /// that `deriveKey(rounds:)` insists on for stored passwords, so this takes the
    /// unchecked entry point; the count is the protocol's, not ours to raise.
    ///
    /// `iterations` must be at least 1 (every caller checks the count it was given first).
    /// BoringSSL fails here only when it cannot allocate its HMAC context, which traps as
    /// any Swift allocation failure would, rather than adding an error no caller could meet.
    public func pbkdf2(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        precondition(iterations >= 1, "PBKDF2 needs at least one iteration")
        let function: KDF.Insecure.PBKDF2.HashFunction = self == .sha256 ? .sha256 : .sha512
        let length = self == .sha256 ? SHA256.byteCount : SHA512.byteCount
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(from: password, salt: salt, using: function,
                                                       outputByteCount: length, unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            fatalError("PBKDF2-HMAC-\(self) failed inside swift-crypto: \(error)")
        }
    }
}
