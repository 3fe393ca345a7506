/// Why a connection could not be opened (or broke while opening), as the driver saw it.
/// Typed so that the engine can tell a transient failure (retried after backoff) from one
/// that another attempt cannot fix (a certificate we do not trust: failed at once).
public enum ConnectionFailure: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The host name did not resolve.
    case dns(String)
    /// Nothing listens there (or a firewall answered for it).
    case refused(String)
    /// The TCP connection was not established in time.
    case timeout(String)
    /// The TLS handshake failed: on the certificate (untrusted, wrong name, expired) or
    /// otherwise (no common protocol or cipher, an alert, a peer not speaking TLS).
    case tls(TLSFailure, String)
    /// The peer closed or reset the connection before it was usable.
    case closed(String)
    /// Anything else the driver could not classify.
    case other(String)

    public enum TLSFailure: String, Equatable, Hashable, Sendable {
        case certificate
        case handshake
    }

    /// A certificate that failed verification fails the same way next time: retrying would
    /// only delay the error the user has to act on. Every other kind may be transient.
    public var isRetriable: Bool {
        if case .tls(.certificate, _) = self { return false }
        return true
    }

    /// The kind as one word, e.g. for logs and metrics labels.
    public var kind: String {
        switch self {
        case .dns: return "dns"
        case .refused: return "refused"
        case .timeout: return "timeout"
        case .tls(let f, _): return "tls-\(f.rawValue)"
        case .closed: return "closed"
        case .other: return "other"
        }
    }

    /// The inverse of (`kind`, `detail`), for recordings and logs read back; nil for an
    /// unknown kind.
    public init?(kind: String, detail: String) {
        switch kind {
        case "dns": self = .dns(detail)
        case "refused": self = .refused(detail)
        case "timeout": self = .timeout(detail)
        case "tls-certificate": self = .tls(.certificate, detail)
        case "tls-handshake": self = .tls(.handshake, detail)
        case "closed": self = .closed(detail)
        case "other": self = .other(detail)
        default: return nil
        }
    }

    public var detail: String {
        switch self {
        case .dns(let d), .refused(let d), .timeout(let d), .tls(_, let d), .closed(let d), .other(let d): return d
        }
    }

    public var description: String { detail.isEmpty ? kind : "\(kind): \(detail)" }
}
