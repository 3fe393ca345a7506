/// Everything the engine needs to know up front. Times are intervals on the driver's clock.
package struct EngineConfig: Sendable {
    public var seeds: [BrokerAddress]
    public var clientId: String? = "kgo-swift"
    public var clientSoftwareName = "kgo-swift"
    public var clientSoftwareVersion = "0.1.0"
    public var tls = false
    public var sasl: SaslConfig? = nil

    /// Dial timeout: from `open` until `connectionOpened`.
    public var connectTimeout: Interval = .seconds(10)
    /// Added to a request's broker-side timeout (Fetch max wait, Produce timeout, a rebalance
    /// timeout …) to give its deadline; alone for requests without one.
    public var requestTimeoutOverhead: Interval = .seconds(10)
    /// The longest KIP-219 throttle honoured: a broker's throttle_time_ms is untrusted, and
    /// Int32.max ms would hold every queued request for 24 days.
    public var maxHonouredThrottle: Interval { requestTimeoutOverhead }
    /// A connection with nothing outstanding for this long is closed.
    public var connectionIdleTimeout: Interval = .seconds(20)
    /// Frames announced larger than this fail the connection (Kafka's
    /// `socket.request.max.bytes` is 100 MiB; fetch responses are bounded by the request).
    public var maxResponseBytes = 100 * 1024 * 1024
    /// Requests outstanding on one connection at once; further ones queue in the engine.
    public var maxInFlightPerConnection = 100

    /// Retries of retriable failures, after the first attempt.
    public var maxRetries = 20
    /// No retry is started once this much time has passed since the first attempt.
    public var retryTimeout: Interval = .seconds(30)
    public var backoff = BackoffPolicy()

    /// Metadata older than this is refreshed on the next tick.
    public var metadataMaxAge: Interval = .seconds(300)
    /// Refreshes are never closer together than this, however often errors ask for one.
    public var metadataMinAge: Interval = .seconds(5)
    /// A refresh asked for because an answer said our leaders or controller are out of date
    /// may start this soon after the previous one instead of waiting out `metadataMinAge`:
    /// requests are stuck until it lands. The floor still bounds the rate of refreshes.
    public var metadataStaleRefreshFloor: Interval = .milliseconds(250)

    /// Skip ApiVersions and assume every broker is this release: for brokers older than
    /// 0.10, which close the connection on an ApiVersions request.
    public var pinnedBrokerRelease: KafkaRelease? = nil
    /// When a broker closes the connection in answer to ApiVersions (what brokers before
    /// 0.10 do with an API key they do not know), later connections to it skip ApiVersions
    /// and assume this release. nil: such a broker stays unreachable (a typed error).
    public var apiVersionsFallbackRelease: KafkaRelease? = nil
    /// Per-key version limits for every request (a request's own pin narrows further).
    public var versionPins = VersionPins()

    /// The direct consumer's fetch settings (isolation, limits, sessions, reset policy).
    public var fetcher = FetcherConfig()
    /// The producer's settings (used from the first `produce`).
    public var producer = ProducerConfig()

    /// Build `Observation`s for the driver's hooks. Off (no hooks): nothing is built.
    public var observe = false

    /// Metadata requests for named topics let the broker create the ones it does not have
    /// (when its auto.create.topics.enable allows). Off, as in franz-go; librdkafka's
    /// producer has it on.
    public var allowAutoTopicCreation = false

    /// Build `EngineDecision`s (metadata changes, leader moves, retries, resets, epoch
    /// bumps) for the driver's log. Off: nothing is built (the simulation's default).
    public var reportDecisions = false

    public init(seeds: [BrokerAddress]) { self.seeds = seeds }
}
