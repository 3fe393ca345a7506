/// What the engine asks its driver to do. The driver drains these with `pollAction()` after
/// every input, in order.
package enum Action: Sendable, CustomStringConvertible {
    /// Open a TCP (or TLS) connection and report `connectionOpened` / `connectionFailed`.
    case open(ConnectionID, broker: BrokerID, host: String, port: Int, tls: Bool)
    /// Write the frame (its runs in order: `OutboundFrame.forEachRun`).
    case write(ConnectionID, OutboundFrame)
    /// Await the OAUTHBEARER token provider (off the engine: it is async) and answer with
    /// `EngineInput.oauthToken`. The connection waits at most the connect timeout.
    case fetchOAuthToken(ConnectionID)
    /// Close the connection; the engine has already forgotten it (no `connectionClosed` needed).
    case close(ConnectionID)
    /// The request named by the promise finished.
    case complete(PromiseID, Result<any KafkaResponse, KafkaClientError>)
    /// Fetched data for the user: one fetch response's partitions (record bytes decoded
    /// when polled), partitions that stopped, data loss found (KIP-320).
    case fetched(FetchBatch)
    /// A producer batch finished: its records' tokens, offsets from `baseOffset`, or the error.
    case delivery(DeliveryReport)
    /// A flush completed, data loss was detected, or the producer stopped for good.
    case producer(ProducerNotice)
    /// The group member's events: joined, assigned, revoking (answer it), lost, committed, left.
    case group(GroupEvent)

    public var description: String {
        switch self {
        case .open(let c, let b, let h, let p, let tls): return "open(\(c), \(b), \(h):\(p)\(tls ? ", tls" : ""))"
        case .write(let c, let bytes): return "write(\(c), \(bytes.count) bytes)"
        case .close(let c): return "close(\(c))"
        case .fetchOAuthToken(let c): return "fetchOAuthToken(\(c))"
        case .complete(let p, .success(let r)): return "complete(\(p), \(type(of: r).messageName))"
        case .complete(let p, .failure(let e)): return "complete(\(p), \(e))"
        case .fetched(let b): return "fetched(\(b))"
        case .delivery(let r): return "\(r)"
        case .producer(let n): return "producer(\(n))"
        case .group(let e): return "group(\(e))"
        }
    }
}
