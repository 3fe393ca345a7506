/// What a connection state machine asks of its owner. The engine maps these to driver
/// actions and to the fate of its pending requests.
enum ConnectionEvent {
    /// A frame for the driver to write.
    case write(OutboundFrame)
    /// The handshake (ApiVersions, SASL) finished; the broker's versions are known.
    case ready(BrokerVersions)
    /// A response (or a request-specific failure) for the request with this token.
    case response(token: UInt64, Result<any KafkaResponse, KafkaClientError>)
    /// The broker closed the connection in answer to ApiVersions: it predates the API.
    case apiVersionsRefused
    /// OAUTHBEARER needs a token: the driver fetches one and answers with `oauthTokenArrived`.
    case needsOAuthToken
    /// A SCRAM exchange derived this salted password: worth remembering for later ones.
    case saltedPasswordDerived(ScramSaltedPasswords.Entry)
    /// The broker asked us to hold back (KIP-219) until this instant.
    case throttled(until: Instant)
    /// For observers only (built when `EngineConfig.observe` is on).
    case observed(Observation)
    /// The connection is finished: the driver must close it; every request it held (sent or
    /// queued) failed with `error` except the ones in `timedOut`, which failed by timing out.
    /// `closeNeeded` is false when the driver reported the close (nothing left to close).
    case failed(KafkaClientError, tokens: [UInt64], timedOut: [(UInt64, ApiKey)], closeNeeded: Bool)
}

/// A request handed to a connection: the engine's token, the request, and its limits.
struct OutboundRequest {
    var token: UInt64
    var request: any KafkaRequest
    var pin: ClosedRange<Int16>?
    /// The broker-side part of the timeout; the configured overhead is added at send time.
    var brokerTimeout: Interval
    /// When the engine handed it over (what an observer's queued time counts from).
    var queuedAt: Instant = .zero
}
