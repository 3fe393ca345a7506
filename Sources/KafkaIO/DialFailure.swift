import NIOCore
import NIOPosix
import NIOSSL

/// Words for why a connection failed. The engine's `connectionFailed(reason:)` takes text,
/// so the kind leads the text ("dns:", "refused:", "tls:" …) where callers can match it.
enum DialFailure {
    static func describe(_ error: any Error) -> String {
        if let e = error as? NIOConnectionError { return describeConnectionError(e) }
        return "\(kind(of: error)): \(error)"
    }

    static func kind(of error: any Error) -> String {
        switch error {
        case is NIOConnectionError: return "connect"
        case ChannelError.connectTimeout: return "timeout"
        case let e as IOError where e.errnoCode == ECONNREFUSED: return "refused"
        case let e as IOError where e.errnoCode == ECONNRESET: return "reset"
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError: return "tls"
        default: return "io"
        }
    }

    private static func describeConnectionError(_ e: NIOConnectionError) -> String {
        guard let first = e.connectionErrors.first else { return "dns: cannot resolve \(e.host)" }
        // The kind of the first attempt leads; every attempt's detail follows.
        let each = e.connectionErrors.map { "\($0.target): \($0.error)" }
        return "\(kind(of: first.error)): " + each.joined(separator: "; ")
    }
}
