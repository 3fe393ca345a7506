import KafkaProtocol
import KafkaStateMachines
import Logging
import NIOCore

/// Everything a `KafkaClient` needs, as one value: the one source of truth for every setting
/// (the engine's configuration is derived from it in one place, `engineConfig`), checked in
/// one place (`validate()`, which `KafkaClient.init` calls). Times are `Duration`s.
public struct KafkaClientConfiguration: Sendable {
    /// Where to bootstrap from; metadata names the rest of the cluster.
    public var seedBrokers: [BrokerAddress]
    /// Sent with every request (`client.id`): brokers log and quota by it. Also the
    /// `kafka.client_id` metadata of every log line.
    public var clientId: String? = "kgo-swift"
    /// KIP-511: sent in ApiVersions so brokers can tell clients apart in their metrics.
    public var softwareName = "kgo-swift"
    /// The library's version (KIP-511), as `kgo --version` prints it.
    public var softwareVersion = "0.1.0"

    /// TLS on every connection when set; verification is on unless the configuration turns it off.
    public var tls: KafkaTLSConfiguration? = nil
    /// SASL authentication on every connection (PLAIN, SCRAM, OAUTHBEARER); nil: none.
    public var sasl: SaslConfig? = nil
    /// How a TCP connection is made; replace it to go through a proxy or a test double.
    public var dialer: KafkaDialer = .tcp

    /// Dial timeout: from starting a connection until it is open (TLS included).
    public var connectTimeout: Duration = .seconds(10)
    /// Added to a request's broker-side timeout (Fetch max wait, Produce timeout, a rebalance
    /// timeout …) to give its deadline; alone for requests without one.
    public var requestTimeoutOverhead: Duration = .seconds(10)
    /// A connection with nothing outstanding for this long is closed.
    public var connectionIdleTimeout: Duration = .seconds(20)
    /// Frames announced larger than this fail the connection.
    public var maxResponseBytes = 100 * 1024 * 1024
    /// Requests outstanding on one connection at once; further ones queue.
    public var maxInFlightPerConnection = 100
    /// Retries of retriable failures, after the first attempt.
    public var maxRetries = 20
    /// No retry is started once this much time has passed since the first attempt.
    public var retryTimeout: Duration = .seconds(30)
    /// Exponential backoff between retries, with jitter (KIP-580).
    public var backoff = BackoffPolicy()
    /// Metadata older than this is refreshed.
    public var metadataMaxAge: Duration = .seconds(300)
    /// Refreshes are never closer together than this, however often errors ask for one…
    public var metadataMinAge: Duration = .seconds(5)
    /// …except when an answer said our leaders or controller moved: requests wait on that
    /// refresh, so it may start this soon after the previous one.
    public var metadataStaleRefreshFloor: Duration = .milliseconds(250)
    /// Skip ApiVersions and assume this release (brokers older than 0.10).
    public var pinnedBrokerRelease: KafkaRelease? = nil
    /// When a broker closes the connection in answer to ApiVersions (brokers before 0.10),
    /// later connections to it assume this release; nil: such a broker is unreachable.
    public var apiVersionsFallbackRelease: KafkaRelease? = nil
    /// Per-key version limits for every request.
    public var versionPins = VersionPins()
    /// Lets the brokers create a topic the client asks metadata for and they do not have
    /// (producing to it, assigning it), when their `auto.create.topics.enable` allows.
    /// Off by default, as in franz-go: a typo in a topic name fails instead of creating a
    /// topic. librdkafka's producer (`allow.auto.create.topics`) and `kgo produce` have it on.
    public var allowAutoTopicCreation = false

    /// The producer's settings.
    public var producer = ProducerConfiguration()
    /// How the direct consumer fetches (KafkaClient+Consume.swift).
    public var consumer = ConsumerConfiguration()

    /// How long `close()` waits for outstanding requests before failing them.
    public var closeTimeout: Duration = .seconds(5)
    /// How long a graceful shutdown (ServiceLifecycle, `KafkaClient.run`, a group consumer
    /// leaving) waits for the producer to flush and a group member to commit and leave
    /// before it closes anyway (the close then waits up to `closeTimeout` more).
    public var shutdownTimeout: Duration = .seconds(30)
    /// The engine's random seed (backoff jitter, SCRAM nonces, a KIP-848 member's member id);
    /// nil draws one from the system. Clients given the same seed join a consumer-protocol
    /// group under the same member id: give each its own.
    public var randomSeed: UInt64? = nil
    /// The loop group connections run on; nil uses NIO's shared singleton group.
    public var eventLoopGroup: (any EventLoopGroup)? = nil
    /// Records every engine input to files that `kgo sim replay` runs offline; nil: off.
    public var flightRecorder: FlightRecorderConfiguration? = nil
    /// Observers of connections, requests, batches, records, group and transaction events
    /// (KafkaHook). Empty, the default, costs nothing: no event is built.
    public var hooks: [any KafkaHook] = []

    /// A configuration with these seeds and every default.
    public init(seedBrokers: [BrokerAddress]) { self.seedBrokers = seedBrokers }

    /// Seeds as "host:port" strings (port defaults to 9092; IPv6 as "[::1]:9092").
    public init(seedBrokers: [String]) throws(KafkaConfigurationError) {
        var seeds: [BrokerAddress] = []
        for s in seedBrokers { seeds.append(try BrokerAddress(parsing: s)) }
        self.init(seedBrokers: seeds)
    }

    /// Checks every setting; the first one out of range is the error.
    public func validate() throws(KafkaConfigurationError) {
        guard !seedBrokers.isEmpty else { throw .noSeedBrokers }
        for (name, d) in [("connectTimeout", connectTimeout), ("requestTimeoutOverhead", requestTimeoutOverhead),
                          ("connectionIdleTimeout", connectionIdleTimeout), ("retryTimeout", retryTimeout),
                          ("metadataMaxAge", metadataMaxAge), ("metadataMinAge", metadataMinAge),
                          ("metadataStaleRefreshFloor", metadataStaleRefreshFloor), ("closeTimeout", closeTimeout),
                          ("shutdownTimeout", shutdownTimeout)] where d < .zero {
            throw .invalidSetting(name, "must not be negative, got \(d)")
        }
        guard maxResponseBytes > 0 else { throw .invalidSetting("maxResponseBytes", "must be > 0, got \(maxResponseBytes)") }
        guard maxInFlightPerConnection > 0 else {
            throw .invalidSetting("maxInFlightPerConnection", "must be > 0, got \(maxInFlightPerConnection)")
        }
        guard maxRetries >= 0 else { throw .invalidSetting("maxRetries", "must be >= 0, got \(maxRetries)") }
        try consumer.validate()
        try producer.validate()
    }

    /// The engine's configuration: every engine setting comes from here.
    var engineConfig: EngineConfig {
        var c = EngineConfig(seeds: seedBrokers)
        c.clientId = clientId
        c.clientSoftwareName = softwareName
        c.clientSoftwareVersion = softwareVersion
        c.tls = tls != nil
        c.sasl = sasl
        c.connectTimeout = Interval(connectTimeout)
        c.requestTimeoutOverhead = Interval(requestTimeoutOverhead)
        c.connectionIdleTimeout = Interval(connectionIdleTimeout)
        c.maxResponseBytes = maxResponseBytes
        c.maxInFlightPerConnection = maxInFlightPerConnection
        c.maxRetries = maxRetries
        c.retryTimeout = Interval(retryTimeout)
        c.backoff = backoff
        c.metadataMaxAge = Interval(metadataMaxAge)
        c.metadataMinAge = Interval(metadataMinAge)
        c.metadataStaleRefreshFloor = Interval(metadataStaleRefreshFloor)
        c.pinnedBrokerRelease = pinnedBrokerRelease
        c.apiVersionsFallbackRelease = apiVersionsFallbackRelease
        c.versionPins = versionPins
        c.fetcher = consumer.fetcherConfig
        c.producer = producer.engineConfig
        c.observe = !hooks.isEmpty
        // For the log; the driver turns it off when its logger filters every decision line.
        c.reportDecisions = true
        c.allowAutoTopicCreation = allowAutoTopicCreation
        return c
    }
}

/// A configuration the client cannot start with.
public enum KafkaConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    case noSeedBrokers
    case invalidBrokerAddress(String)
    /// A certificate, key or trust root could not be loaded.
    case tls(String)
    case invalidSasl(String)
    /// The flight recorder's files could not be created, or its limits make no sense.
    case flightRecorder(String)
    /// A consumer setting out of range, or a topic pattern that does not compile.
    case invalidConsumer(String)
    case producer(ProducerConfigError)
    /// A client setting out of range: its name and why.
    case invalidSetting(String, String)

    /// One line naming the problem.
    public var description: String {
        switch self {
        case .noSeedBrokers: return "no seed brokers configured"
        case .invalidBrokerAddress(let s): return "not a broker address (want host:port): \(s)"
        case .tls(let s): return "TLS configuration: \(s)"
        case .invalidSasl(let s): return "SASL configuration: \(s)"
        case .flightRecorder(let s): return "flight recorder: \(s)"
        case .invalidConsumer(let s): return "consumer configuration: \(s)"
        case .producer(let e): return "producer configuration: \(e)"
        case .invalidSetting(let name, let why): return "\(name) \(why)"
        }
    }
}

extension BrokerAddress {
    /// "host:port", "host" (port 9092) or "[v6addr]:port".
    public init(parsing text: String) throws(KafkaConfigurationError) {
        var host = Substring(text)
        var port = 9092
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw .invalidBrokerAddress(text) }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { throw .invalidBrokerAddress(text) }
                port = p
            }
        } else if let colon = host.lastIndex(of: ":") {
            guard let p = Int(host[host.index(after: colon)...]) else { throw .invalidBrokerAddress(text) }
            port = p
            host = host[..<colon]
        }
        guard !host.isEmpty, (1...65535).contains(port) else { throw .invalidBrokerAddress(text) }
        self.init(host: String(host), port: port)
    }
}
