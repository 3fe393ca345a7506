/// Every way a request handed to the engine can fail. Each case says enough for a caller
/// to decide what to do without parsing text.
public indirect enum KafkaClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The driver could not connect (refused, unreachable, DNS, TLS handshake …). Retried
    /// unless the reason says another attempt cannot help (a certificate failing verification).
    case connectionFailed(broker: BrokerID, reason: ConnectionFailure)
    /// The connection was not established within the configured dial timeout.
    case connectTimeout(broker: BrokerID)
    /// The connection closed while the request was outstanding.
    case connectionClosed(broker: BrokerID)
    /// No response within the broker-side timeout plus the configured overhead.
    case requestTimeout(apiKey: ApiKey, broker: BrokerID)
    /// The broker rejected our credentials; `message` is the broker's text when it sent one.
    case saslAuthenticationFailed(mechanism: String, message: String)
    /// The broker does not enable our SASL mechanism; it offers `enabled`.
    case saslMechanismUnsupported(mechanism: String, enabled: [String])
    /// The client-side SASL exchange failed (a malformed or forged server message).
    case saslProtocolError(mechanism: String, reason: String)
    /// No version of the API is acceptable to us, the broker and the pin together.
    case unsupportedVersion(apiKey: ApiKey, brokerRange: ClosedRange<Int16>?)
    /// The peer announced a response larger than `maxResponseBytes`.
    case responseTooLarge(size: Int, max: Int)
    /// The peer's bytes did not decode as the response expected.
    case malformedResponse(KafkaDecodingError)
    /// The peer broke the protocol in a way decoding cannot name (a correlation id that
    /// answers no outstanding request, a negative frame size …).
    case protocolViolation(String)
    /// The request could not be encoded at the negotiated version.
    case encodingFailed(KafkaEncodingError)
    /// The broker answered with this error code (top-level), after any retries.
    case brokerError(KafkaErrorCode, message: String?)
    /// The request could not be routed (an unknown topic, a broker id absent from metadata).
    case unroutable(String)
    /// Retries ran out; `last` is the failure of the final attempt.
    case retriesExhausted(attempts: Int, last: KafkaClientError)
    /// The engine was closed before the request completed.
    case clientClosed
    /// The caller cancelled the request (a cancelled Swift task) before it completed; if it
    /// had been sent, the broker may still have acted on it.
    case cancelled

    /// Whether another attempt (after backoff, on a fresh connection or a fresh route) may
    /// succeed. Garbage, oversize responses and bad credentials are permanent: retrying them
    /// would only hammer the peer.
    public var isRetriable: Bool {
        switch self {
        case .connectionFailed(_, let reason): return reason.isRetriable
        case .connectTimeout, .connectionClosed, .requestTimeout: return true
        case .brokerError(let code, _): return code.isRetriable
        default: return false
        }
    }

    /// The request got no answer because its connection failed, closed or went silent: the
    /// path to the broker refused it, not the broker (the producer then sends one request
    /// at a time to that broker until one is answered).
    public var isConnectionLoss: Bool {
        switch self {
        case .connectionClosed, .requestTimeout, .connectionFailed, .connectTimeout: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .connectionFailed(let b, let r): return "cannot connect to \(b): \(r)"
        case .connectTimeout(let b): return "connecting to \(b) timed out"
        case .connectionClosed(let b): return "connection to \(b) closed"
        case .requestTimeout(let k, let b): return "\(k) request to \(b) timed out"
        case .saslAuthenticationFailed(let m, let msg): return "SASL \(m) authentication failed: \(msg)"
        case .saslMechanismUnsupported(let m, let e): return "SASL mechanism \(m) not enabled (broker offers \(e))"
        case .saslProtocolError(let m, let r): return "SASL \(m): \(r)"
        case .unsupportedVersion(let k, let r): return "no usable version of \(k) (broker: \(r.map { "\($0)" } ?? "none"))"
        case .responseTooLarge(let s, let m): return "response of \(s) bytes exceeds the maximum \(m)"
        case .malformedResponse(let e): return "malformed response: \(e)"
        case .protocolViolation(let s): return "protocol violation: \(s)"
        case .encodingFailed(let e): return "\(e)"
        case .brokerError(let c, let m): return "broker error \(c)\(m.map { ": \($0)" } ?? "")"
        case .unroutable(let s): return "cannot route request: \(s)"
        case .retriesExhausted(let n, let last): return "gave up after \(n) attempts: \(last)"
        case .clientClosed: return "client closed"
        case .cancelled: return "request cancelled"
        }
    }
}
