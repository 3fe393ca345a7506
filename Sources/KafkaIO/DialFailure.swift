import NIOCore
import NIOPosix
import NIOSSL

/// Words for why a connection failed. The engine's `connectionFailed(reason:)` takes text,
/// so the kind leads the text ("dns:", "refused:", "tls:" …) where callers can match it.
enum DialFailure {
    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as NIOConnectionError:
            if e.connectionErrors.isEmpty {
                return "dns: cannot resolve \(e.host)"
            }
            let each = e.connectionErrors.map { "\($0.target): \(describe($0.error))" }
            return each.count == 1 ? each[0] : each.joined(separator: "; ")
        case ChannelError.connectTimeout(let t):
            return "timeout: no connection within \(t.nanoseconds / 1_000_000) ms"
        case let e as IOError where e.errnoCode == ECONNREFUSED:
            return "refused: \(e)"
        case let e as NIOSSLError:
            return "tls: \(e)"
        case let e as BoringSSLError:
            return "tls: \(e)"
        case let e as NIOSSLExtraError:
            return "tls: \(e)"
        default:
            return "\(error)"
        }
    }
}
