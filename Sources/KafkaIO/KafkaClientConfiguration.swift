import KafkaProtocol
import KafkaStateMachines
import Logging
import NIOCore

/// Everything a `KafkaClient` needs, as one value. Times are `Interval`s; the engine's
/// knobs are mirrored here so users never build an `EngineConfig` themselves.
public struct KafkaClientConfiguration: Sendable {
    /// Where to bootstrap from; metadata names the rest of the cluster.
    public var seedBrokers: [BrokerAddress]
    public var clientId: String? = "kgo-swift"
    /// KIP-511: sent in ApiVersions so brokers can tell clients apart in their metrics.
    public var softwareName = "kgo-swift"
    public var softwareVersion = "0.1.0"

    /// TLS on every connection when set; verification is on unless the configuration turns it off.
    public var tls: KafkaTLSConfiguration? = nil
    public var sasl: SaslConfig? = nil
    /// How a TCP connection is made; replace it to go through a proxy or a test double.
    public var dialer: KafkaDialer = .tcp

    public var connectTimeout: Interval = .seconds(10)
    public var requestTimeoutOverhead: Interval = .seconds(10)
    public var connectionIdleTimeout: Interval = .seconds(20)
    public var maxResponseBytes = 100 * 1024 * 1024
    public var maxInFlightPerConnection = 100
    public var maxRetries = 20
    public var retryTimeout: Interval = .seconds(30)
    public var backoff = BackoffPolicy()
    public var metadataMaxAge: Interval = .seconds(300)
    public var metadataMinAge: Interval = .seconds(5)
    /// Skip ApiVersions and assume this release (brokers older than 0.10).
    public var pinnedBrokerRelease: KafkaRelease? = nil
    public var versionPins = VersionPins()

    /// How long `close()` waits for outstanding requests before failing them.
    /// The producer's settings; checked when the client is created.
    public var producer = ProducerConfiguration()

    public var closeTimeout: Interval = .seconds(5)
    /// The engine's random seed (backoff jitter, SCRAM nonces); nil draws one from the system.
    public var randomSeed: UInt64? = nil
    /// The loop group connections run on; nil uses NIO's shared singleton group.
    public var eventLoopGroup: (any EventLoopGroup)? = nil
    /// Records every engine input to files that `kgo sim replay` runs offline; nil: off.
    public var flightRecorder: FlightRecorderConfiguration? = nil
    /// How the direct consumer fetches (KafkaClient+Consume.swift).
    public var consumer = ConsumerConfiguration()

    public init(seedBrokers: [BrokerAddress]) { self.seedBrokers = seedBrokers }

    /// Seeds as "host:port" strings (port defaults to 9092; IPv6 as "[::1]:9092").
    public init(seedBrokers: [String]) throws(KafkaConfigurationError) {
        var seeds: [BrokerAddress] = []
        for s in seedBrokers { seeds.append(try BrokerAddress(parsing: s)) }
        self.init(seedBrokers: seeds)
    }

    var engineConfig: EngineConfig {
        var c = EngineConfig(seeds: seedBrokers)
        c.clientId = clientId
        c.clientSoftwareName = softwareName
        c.clientSoftwareVersion = softwareVersion
        c.tls = tls != nil
        c.sasl = sasl
        c.connectTimeout = connectTimeout
        c.requestTimeoutOverhead = requestTimeoutOverhead
        c.connectionIdleTimeout = connectionIdleTimeout
        c.maxResponseBytes = maxResponseBytes
        c.maxInFlightPerConnection = maxInFlightPerConnection
        c.maxRetries = maxRetries
        c.retryTimeout = retryTimeout
        c.backoff = backoff
        c.metadataMaxAge = metadataMaxAge
        c.metadataMinAge = metadataMinAge
        c.pinnedBrokerRelease = pinnedBrokerRelease
        c.versionPins = versionPins
        c.fetcher = consumer.fetcherConfig
        c.producer = producer.engineConfig
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

    public var description: String {
        switch self {
        case .noSeedBrokers: return "no seed brokers configured"
        case .invalidBrokerAddress(let s): return "not a broker address (want host:port): \(s)"
        case .tls(let s): return "TLS configuration: \(s)"
        case .invalidSasl(let s): return "SASL configuration: \(s)"
        case .flightRecorder(let s): return "flight recorder: \(s)"
        case .invalidConsumer(let s): return "consumer configuration: \(s)"
        case .producer(let e): return "producer configuration: \(e)"
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
