import KafkaProtocol
import KafkaStateMachines
import NIOCore
import NIOPosix
import NIOSSL

/// Classifies what NIO and NIOSSL report into the engine's `ConnectionFailure`, so that the
/// engine decides on types (a certificate failure is not retried), not on text.
enum DialFailure {
    static func classify(_ error: any Error) -> ConnectionFailure {
        switch error {
        case let e as NIOConnectionError:
            // Every attempt's detail is kept; the first attempt's kind decides.
            guard let first = e.connectionErrors.first else { return .dns("cannot resolve \(e.host)") }
            let each = e.connectionErrors.map { "\($0.target): \($0.error)" }.joined(separator: "; ")
            return withDetail(classify(first.error), each)
        case ChannelError.connectTimeout:
            return .timeout("\(error)")
        case let e as IOError where e.errnoCode == ECONNREFUSED:
            return .refused("\(error)")
        case let e as IOError where e.errnoCode == ECONNRESET || e.errnoCode == EPIPE:
            return .closed("\(error)")
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError:
            return .tls(isCertificateFailure(error) ? .certificate : .handshake, "\(error)")
        case ChannelError.eof, ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed:
            return .closed("\(error)")
        default:
            return .other("\(error)")
        }
    }

    /// Verification of the peer's certificate failed (on our side, or the peer's alert says
    /// it rejected ours): the same configuration fails the same way next time.
    static func isCertificateFailure(_ error: any Error) -> Bool {
        if let e = error as? NIOSSLExtraError {
            return e == .failedToValidateHostname || e == .serverHostnameImpossibleToMatch
        }
        if let e = error as? NIOSSLError {
            switch e {
            case .unableToValidateCertificate, .noCertificateToValidate, .cannotMatchULabel: return true
            case .handshakeFailed(let inner): return mentionsCertificate("\(inner)")
            default: return false
            }
        }
        if let e = error as? BoringSSLError { return mentionsCertificate("\(e)") }
        return false
    }

    /// BoringSSL names verification failures and certificate alerts in its error stack
    /// (CERTIFICATE_VERIFY_FAILED, SSLV3_ALERT_BAD_CERTIFICATE, TLSV1_ALERT_UNKNOWN_CA …).
    private static func mentionsCertificate(_ text: String) -> Bool {
        let upper = text.uppercased()
        return upper.contains("CERTIFICATE") || upper.contains("UNKNOWN_CA")
    }

    private static func withDetail(_ f: ConnectionFailure, _ detail: String) -> ConnectionFailure {
        switch f {
        case .dns: return .dns(detail)
        case .refused: return .refused(detail)
        case .timeout: return .timeout(detail)
        case .tls(let k, _): return .tls(k, detail)
        case .closed: return .closed(detail)
        case .other: return .other(detail)
        }
    }
}
