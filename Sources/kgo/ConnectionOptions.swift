import ArgumentParser
import Foundation
import KafkaIO
import KafkaProtocol
import Logging

/// Options every verb that talks to a cluster shares: where, and how to authenticate.
struct ConnectionOptions: ParsableArguments {
    @Option(name: [.short, .customLong("brokers")], parsing: .singleValue,
            help: "Seed broker HOST:PORT (repeat or separate with commas; default: $KGO_BROKERS).")
    var brokers: [String] = []

    @Flag(name: .customLong("tls"), help: "Use TLS with the system's trust roots (implied by the other --tls options).")
    var tls = false
    @Option(name: .customLong("tls-ca"), help: "PEM file of the roots that sign the brokers' certificates.")
    var tlsCA: String?
    @Option(name: .customLong("tls-cert"), help: "PEM client certificate chain (with --tls-key).")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of the client certificate.")
    var tlsKey: String?
    @Option(name: .customLong("tls-server-name"), help: "Name to send as SNI and to verify, instead of each broker's host.")
    var tlsServerName: String?

    @Option(name: .customLong("sasl"), help: "MECHANISM:USER:PASSWORD, mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.")
    var sasl: String?
    @Option(name: .customLong("sasl-token"),
            help: "MECHANISM:TOKEN_ID:HMAC: log in with a delegation token (mechanism SCRAM-SHA-256 or SCRAM-SHA-512, HMAC in base64 as kafka-delegation-tokens prints it).")
    var saslToken: String?

    @Option(help: "Give up on a request after this many seconds (fractions allowed), retries included.")
    var timeout: Double = 30

    @Option(name: .customLong("broker-version"),
            help: "X.Y.Z: the brokers' Kafka release when they cannot say (before 0.10, no ApiVersions; like librdkafka's broker.version.fallback).")
    var brokerVersion: String?

    @Flag(name: .shortAndLong, help: "Log connections and retries to standard error.")
    var verbose = false

    @Option(name: .customLong("record"), help: "Flight-record the client's engine inputs to PATH-000001.kgorec ... (replay: kgo sim replay).")
    var record: String?
    @Flag(name: .customLong("record-secrets"), help: "Store SASL passwords in the recording, so logins replay too.")
    var recordSecrets = false

    @Option(name: .customShort("X"), help: "Client setting KEY=VALUE under librdkafka's name (repeatable; after the other options; -X list shows them).")
    var settings: [String] = []
    @Option(name: .customShort("F"), help: "Config file of KEY=VALUE client settings (default: $KGO_CONFIG, else ~/.config/kgo.conf if present); -X and options win over it.")
    var configFile: String?

    /// Malformed options are usage errors (status 64), found before anything connects.
    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds") }
        if let sasl { _ = try Self.parseSasl(sasl) }
        if let saslToken { _ = try Self.parseSaslToken(saslToken) }
        if sasl != nil, saslToken != nil { throw ValidationError("--sasl and --sasl-token are two logins: give one") }
        do { _ = try commandLineSettings() } catch { throw ValidationError("-X \(error)") }
    }

    /// The -X settings, checked (an unknown key or a malformed value is a usage error).
    func commandLineSettings() throws -> ClientSettings {
        var s = ClientSettings()
        for text in settings { try s.add(text) }
        var probe = KafkaClientConfiguration(seedBrokers: [BrokerAddress]())
        try s.check(&probe)
        return s
    }

    func makeClient(producer: ProducerConfiguration = ProducerConfiguration(), configure: (inout KafkaClientConfiguration) -> Void = { _ in }) throws -> KafkaClient {
        let (config, logger) = try makeConfiguration(producer: producer, configure: configure)
        return try KafkaClient(configuration: config, logger: logger)
    }

    /// The client configuration these options describe, and the logger for it.
    func makeConfiguration(producer: ProducerConfiguration = ProducerConfiguration(),
                           configure: (inout KafkaClientConfiguration) -> Void = { _ in }) throws -> (KafkaClientConfiguration, Logger) {
        // Brokers: -b, else -X bootstrap.servers, else $KGO_BROKERS, else the config file's.
        let environment = ProcessInfo.processInfo.environment
        let file = try ConfigFile.load(explicit: configFile, environment: environment)
        let given: [String]
        if !brokers.isEmpty {
            given = brokers
        } else if let b = (try? commandLineSettings())?.brokers {
            given = [b]
        } else if let b = environment["KGO_BROKERS"], !b.isEmpty {
            given = [b]
        } else {
            given = file.brokers.map { [$0] } ?? []
        }
        let seeds = given.flatMap { $0.split(separator: ",").map { String($0).trimmingSpaces } }.filter { !$0.isEmpty }
        guard !seeds.isEmpty else { throw KgoFailure("name at least one broker with -b HOST:PORT, KGO_BROKERS or bootstrap.servers in a config file") }
        var config = try KafkaClientConfiguration(seedBrokers: seeds)
        config.clientId = "kgo"
        config.softwareName = "kgo-swift-cli"
        let millis = Int64((timeout * 1000).rounded(.up))
        config.retryTimeout = .milliseconds(millis)
        config.connectTimeout = .milliseconds(min(millis, 10000))
        if tls || tlsCA != nil || tlsCert != nil || tlsKey != nil || tlsServerName != nil {
            config.tls = try .files(caFile: tlsCA, certificateFile: tlsCert, keyFile: tlsKey, serverName: tlsServerName)
        }
        if let sasl { config.sasl = try Self.parseSasl(sasl) }
        if let saslToken { config.sasl = try Self.parseSaslToken(saslToken) }
        if let brokerVersion {
            guard let parsed = KafkaRelease(brokerVersion), let release = KafkaRelease.named(parsed.name) else {
                throw ValidationError("--broker-version: \(brokerVersion) is not a Kafka release (e.g. 0.9.0, 0.10.2, 2.8)")
            }
            // A broker closing the connection on ApiVersions is taken to be this release;
            // one that predates ApiVersions is not asked at all (it would close every time).
            config.apiVersionsFallbackRelease = release
            if !release.hasApiVersions { config.pinnedBrokerRelease = release }
        }
        if let record {
            var r = FlightRecorderConfiguration(path: record)
            r.includeSecrets = recordSecrets
            config.flightRecorder = r
        }
        config.producer = producer
        var logger = Logger(label: "kgo") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .error
        configure(&config)
        // The config file, then -X: both after the verb's own options, so a setting named
        // there is the one that counts.
        do { try file.apply(to: &config) } catch { throw KgoFailure("config file: \(error)") }
        do { try commandLineSettings().apply(to: &config) } catch { throw KgoFailure("-X: \(error)") }
        return (config, logger)
    }

    static func parseSasl(_ text: String) throws -> SaslConfig {
        // The password may itself contain colons: split at the first two only.
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw ValidationError("--sasl wants MECHANISM:USER:PASSWORD") }
        switch parts[0].uppercased() {
        case "PLAIN": return .plain(username: parts[1], password: parts[2])
        case "SCRAM-SHA-256": return .scram(.sha256, username: parts[1], password: parts[2])
        case "SCRAM-SHA-512": return .scram(.sha512, username: parts[1], password: parts[2])
        default: throw ValidationError("unknown SASL mechanism \(parts[0]) (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)")
        }
    }

    static func parseSaslToken(_ text: String) throws -> SaslConfig {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, !parts[1].isEmpty else { throw ValidationError("--sasl-token wants MECHANISM:TOKEN_ID:HMAC") }
        guard let hmac = Data(base64Encoded: parts[2]).map({ [UInt8]($0) }), !hmac.isEmpty else { throw ValidationError("--sasl-token: the HMAC is not base64") }
        switch parts[0].uppercased() {
        case "SCRAM-SHA-256": return .delegationToken(.sha256, tokenId: parts[1], hmac: hmac)
        case "SCRAM-SHA-512": return .delegationToken(.sha512, tokenId: parts[1], hmac: hmac)
        default: throw ValidationError("a delegation token logs in with SCRAM-SHA-256 or SCRAM-SHA-512, not \(parts[0])")
        }
    }
}

extension ConnectionOptions {
    /// Runs `body` with a client and closes it whatever happens.
    func withClient<T>(_ body: (KafkaClient) async throws -> T) async throws -> T {
        let client = try makeClient()
        do {
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}
