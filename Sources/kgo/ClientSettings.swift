import KafkaIO
import KafkaProtocol

/// `-X key=value` and the config file's lines: client settings under librdkafka's names (the
/// ones kcat users know), each mapped onto `KafkaClientConfiguration`. Later values win.
/// `kgo ... -X list` prints the table.
struct ClientSettings {
    /// One documented setting.
    struct Setting {
        var name: String
        var help: String
        var apply: @Sendable (String, inout Pending) throws -> Void
    }

    /// Security settings come in parts (mechanism, user, password; CA, certificate, key) and
    /// are put together once every value is known.
    struct Pending {
        var config: KafkaClientConfiguration
        var securityProtocol: String?
        var saslMechanism: String?
        var saslUsername: String?
        var saslPassword: String?
        var caFile: String?
        var certificateFile: String?
        var keyFile: String?
    }

    /// (key, value) in the order given.
    private(set) var values: [(key: String, value: String)] = []

    /// Adds "key=value"; an unknown key or a line without "=" is an error.
    mutating func add(_ text: String) throws(ClientSettingError) {
        guard let eq = text.firstIndex(of: "=") else { throw .malformed(text) }
        let key = String(text[..<eq]).trimmingSpaces, value = String(text[text.index(after: eq)...]).trimmingSpaces
        guard Self.table.contains(where: { $0.name == key }) || Self.aliases[key] != nil else { throw .unknown(key) }
        values.append((key, value))
    }

    /// The seed brokers these settings name, if any (the last bootstrap.servers).
    var brokers: String? { values.last(where: { Self.canonical($0.key) == "bootstrap.servers" })?.value }

    /// Applies every value to `config`, in order; values are checked here.
    func apply(to config: inout KafkaClientConfiguration) throws {
        var p = Pending(config: config)
        for (key, value) in values {
            let name = Self.canonical(key)
            guard let setting = Self.table.first(where: { $0.name == name }) else { throw ClientSettingError.unknown(key) }
            try setting.apply(value, &p)
        }
        try Self.finish(&p)
        config = p.config
    }

    /// Every value and their combination checked, without reading the certificate files
    /// (that happens when the client is made).
    func check(_ config: inout KafkaClientConfiguration) throws {
        var p = Pending(config: config)
        for (key, value) in values {
            guard let setting = Self.table.first(where: { $0.name == Self.canonical(key) }) else { throw ClientSettingError.unknown(key) }
            try setting.apply(value, &p)
        }
        try Self.finish(&p, loadFiles: false)
    }

    static func canonical(_ key: String) -> String { aliases[key] ?? key }

    /// librdkafka's other names for the same settings.
    static let aliases = [
        "metadata.broker.list": "bootstrap.servers",
        "request.required.acks": "acks",
        "compression.codec": "compression.type",
        "message.timeout.ms": "delivery.timeout.ms",
        "sasl.mechanisms": "sasl.mechanism",
        "queue.buffering.max.ms": "linger.ms",
    ]

    /// `-X list`: name and meaning, one a line.
    static var listing: String {
        var s = "Client settings for -X key=value and config files (-F, $KGO_CONFIG, ~/.config/kgo.conf):\n"
        for setting in table { s += "  " + pad(setting.name, 38) + setting.help + "\n" }
        s += "Also accepted: " + aliases.keys.sorted().map { "\($0) (\(aliases[$0]!))" }.joined(separator: ", ") + "\n"
        return s
    }

    static let table: [Setting] = [
        Setting(name: "bootstrap.servers", help: "Seed brokers HOST:PORT,... (as -b; -b wins).") { _, _ in },
        Setting(name: "client.id", help: "Client id sent with every request.") { v, p in p.config.clientId = v },
        Setting(name: "security.protocol", help: "plaintext, ssl, sasl_plaintext or sasl_ssl.") { v, p in
            guard ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"].contains(v.lowercased()) else {
                throw ClientSettingError.badValue("security.protocol", v, "plaintext, ssl, sasl_plaintext or sasl_ssl")
            }
            p.securityProtocol = v.lowercased()
        },
        Setting(name: "sasl.mechanism", help: "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.") { v, p in
            guard ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(v.uppercased()) else {
                throw ClientSettingError.badValue("sasl.mechanism", v, "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
            }
            p.saslMechanism = v.uppercased()
        },
        Setting(name: "sasl.username", help: "SASL user.") { v, p in p.saslUsername = v },
        Setting(name: "sasl.password", help: "SASL password.") { v, p in p.saslPassword = v },
        Setting(name: "ssl.ca.location", help: "PEM file of trusted roots (implies TLS).") { v, p in p.caFile = v },
        Setting(name: "ssl.certificate.location", help: "PEM client certificate (with ssl.key.location).") { v, p in p.certificateFile = v },
        Setting(name: "ssl.key.location", help: "PEM client key.") { v, p in p.keyFile = v },
        Setting(name: "socket.connection.setup.timeout.ms", help: "Connect timeout.") { v, p in p.config.connectTimeout = try millis(v, "socket.connection.setup.timeout.ms") },
        Setting(name: "connections.max.idle.ms", help: "Close connections idle this long.") { v, p in p.config.connectionIdleTimeout = try millis(v, "connections.max.idle.ms") },
        Setting(name: "retries", help: "Retries of a retriable failure.") { v, p in p.config.maxRetries = try int(v, "retries", min: 0) },
        Setting(name: "retry.backoff.ms", help: "First backoff between retries.") { v, p in
            p.config.backoff = BackoffPolicy(initial: try millis(v, "retry.backoff.ms"), max: p.config.backoff.max, jitter: p.config.backoff.jitter)
        },
        Setting(name: "retry.backoff.max.ms", help: "Longest backoff between retries.") { v, p in
            p.config.backoff = BackoffPolicy(initial: p.config.backoff.initial, max: try millis(v, "retry.backoff.max.ms"), jitter: p.config.backoff.jitter)
        },
        Setting(name: "metadata.max.age.ms", help: "Refresh metadata at least this often.") { v, p in p.config.metadataMaxAge = try millis(v, "metadata.max.age.ms") },
        Setting(name: "broker.version.fallback", help: "X.Y.Z: the release of brokers that cannot say (as --broker-version).") { v, p in
            guard let parsed = KafkaRelease(v), let release = KafkaRelease.named(parsed.name) else {
                throw ClientSettingError.badValue("broker.version.fallback", v, "a Kafka release such as 0.10.2")
            }
            p.config.apiVersionsFallbackRelease = release
        },
        Setting(name: "allow.auto.create.topics", help: "Let brokers create topics asked for (kgo produce: true; elsewhere false).") { v, p in
            p.config.allowAutoTopicCreation = try bool(v, "allow.auto.create.topics")
        },
        Setting(name: "acks", help: "all (-1), 1 or 0; 1 and 0 turn idempotence off.") { v, p in
            switch v.lowercased() {
            case "all", "-1": p.config.producer.acks = .all
            case "1": p.config.producer.acks = .leader; p.config.producer.idempotent = false
            case "0": p.config.producer.acks = .none; p.config.producer.idempotent = false
            default: throw ClientSettingError.badValue("acks", v, "all, -1, 1 or 0")
            }
        },
        Setting(name: "enable.idempotence", help: "Idempotent producing (default true).") { v, p in p.config.producer.idempotent = try bool(v, "enable.idempotence") },
        Setting(name: "linger.ms", help: "How long a batch waits for more records.") { v, p in p.config.producer.linger = try millis(v, "linger.ms") },
        Setting(name: "batch.size", help: "Most bytes in a batch.") { v, p in p.config.producer.maxBatchBytes = try int(v, "batch.size", min: 1) },
        Setting(name: "queue.buffering.max.messages", help: "Most records buffered before produce waits.") { v, p in
            p.config.producer.maxBufferedRecords = try int(v, "queue.buffering.max.messages", min: 1)
        },
        Setting(name: "queue.buffering.max.kbytes", help: "Most KiB buffered before produce waits.") { v, p in
            p.config.producer.maxBufferedBytes = try int(v, "queue.buffering.max.kbytes", min: 1) * 1024
        },
        Setting(name: "compression.type", help: "none, gzip, snappy, lz4 or zstd.") { v, p in
            switch v.lowercased() {
            case "none": p.config.producer.compression = [.none]
            case "gzip": p.config.producer.compression = [.gzip, .none]
            case "snappy": p.config.producer.compression = [.snappy, .none]
            case "lz4": p.config.producer.compression = [.lz4, .none]
            case "zstd": p.config.producer.compression = [.zstd, .lz4, .none]
            default: throw ClientSettingError.badValue("compression.type", v, "none, gzip, snappy, lz4 or zstd")
            }
        },
        Setting(name: "delivery.timeout.ms", help: "A record not acknowledged this long after produce fails (0: never).") { v, p in
            let d = try millis(v, "delivery.timeout.ms")
            p.config.producer.deliveryTimeout = d == .zero ? nil : d
        },
        Setting(name: "request.timeout.ms", help: "Produce request timeout on the broker.") { v, p in p.config.producer.requestTimeout = try millis(v, "request.timeout.ms") },
        Setting(name: "message.max.bytes", help: "Most bytes of batches in one Produce request.") { v, p in
            p.config.producer.maxRequestBytes = try int(v, "message.max.bytes", min: 1)
        },
        Setting(name: "max.in.flight.requests.per.connection", help: "Produce requests outstanding per broker.") { v, p in
            p.config.producer.maxInFlightPerBroker = try int(v, "max.in.flight.requests.per.connection", min: 1)
        },
        Setting(name: "transactional.id", help: "Produce transactionally under this id.") { v, p in p.config.producer.transactionalId = v },
        Setting(name: "transaction.timeout.ms", help: "The coordinator's limit on an open transaction.") { v, p in
            p.config.producer.transactionTimeout = try millis(v, "transaction.timeout.ms")
        },
        Setting(name: "isolation.level", help: "read_committed or read_uncommitted.") { v, p in
            switch v {
            case "read_committed": p.config.consumer.isolation = .readCommitted
            case "read_uncommitted": p.config.consumer.isolation = .readUncommitted
            default: throw ClientSettingError.badValue("isolation.level", v, "read_committed or read_uncommitted")
            }
        },
        Setting(name: "auto.offset.reset", help: "Where a lost offset resumes: earliest, latest or error.") { v, p in
            switch v {
            case "earliest", "smallest", "beginning": p.config.consumer.resetPolicy = .start
            case "latest", "largest", "end": p.config.consumer.resetPolicy = .end
            case "error": p.config.consumer.resetPolicy = .error
            default: throw ClientSettingError.badValue("auto.offset.reset", v, "earliest, latest or error")
            }
        },
        Setting(name: "fetch.wait.max.ms", help: "How long the broker may hold a fetch.") { v, p in p.config.consumer.maxWait = try millis(v, "fetch.wait.max.ms") },
        Setting(name: "fetch.min.bytes", help: "Bytes a fetch waits for.") { v, p in p.config.consumer.minBytes = Int32(try int(v, "fetch.min.bytes", min: 1, max: Int(Int32.max))) },
        Setting(name: "fetch.max.bytes", help: "Most bytes per fetch response.") { v, p in p.config.consumer.maxBytes = Int32(try int(v, "fetch.max.bytes", min: 1, max: Int(Int32.max))) },
        Setting(name: "max.partition.fetch.bytes", help: "Most bytes per partition in a fetch.") { v, p in
            p.config.consumer.partitionMaxBytes = Int32(try int(v, "max.partition.fetch.bytes", min: 1, max: Int(Int32.max)))
        },
        Setting(name: "check.crcs", help: "Verify record batch CRCs (default true).") { v, p in p.config.consumer.verifyCRC = try bool(v, "check.crcs") },
        Setting(name: "client.rack", help: "This client's rack, for fetching from the nearest replica.") { v, p in p.config.consumer.rack = v },
        // kgo's own (librdkafka has no such limit): what a decompression bomb may cost.
        Setting(name: "decompression.limit.bytes", help: "(kgo) Most bytes one compressed batch may expand to (default 268435456).") { v, p in
            p.config.consumer.decompressionLimit = try int(v, "decompression.limit.bytes", min: 1, max: Int(Int32.max))
        },
    ]

    /// TLS and SASL from their parts; security.protocol must agree with what is given.
    private static func finish(_ p: inout Pending, loadFiles: Bool = true) throws(ClientSettingError) {
        let proto = p.securityProtocol
        let wantsTLS = proto == "ssl" || proto == "sasl_ssl" || (proto == nil && (p.caFile != nil || p.certificateFile != nil))
        if wantsTLS || p.caFile != nil || p.certificateFile != nil || p.keyFile != nil {
            guard proto == nil || proto == "ssl" || proto == "sasl_ssl" else { throw .conflict("ssl.* settings need security.protocol ssl or sasl_ssl") }
            guard (p.certificateFile == nil) == (p.keyFile == nil) else { throw .conflict("ssl.certificate.location and ssl.key.location go together") }
            do {
                if loadFiles { p.config.tls = try .files(caFile: p.caFile, certificateFile: p.certificateFile, keyFile: p.keyFile) }
            } catch {
                throw .conflict("\(error)")
            }
        }
        let wantsSASL = proto == "sasl_plaintext" || proto == "sasl_ssl"
        let saslGiven = p.saslMechanism != nil || p.saslUsername != nil || p.saslPassword != nil
        guard wantsSASL || saslGiven else { return }
        guard proto == nil || wantsSASL else { throw .conflict("sasl.* settings need security.protocol sasl_plaintext or sasl_ssl") }
        guard let user = p.saslUsername, let password = p.saslPassword else { throw .conflict("SASL needs sasl.username and sasl.password") }
        switch p.saslMechanism ?? "PLAIN" {
        case "SCRAM-SHA-256": p.config.sasl = .scram(.sha256, username: user, password: password)
        case "SCRAM-SHA-512": p.config.sasl = .scram(.sha512, username: user, password: password)
        default: p.config.sasl = .plain(username: user, password: password)
        }
    }

    private static func int(_ v: String, _ key: String, min: Int, max: Int = Int.max) throws(ClientSettingError) -> Int {
        guard let n = Int(v), n >= min, n <= max else { throw .badValue(key, v, "an integer from \(min)") }
        return n
    }

    private static func millis(_ v: String, _ key: String) throws(ClientSettingError) -> Duration {
        .milliseconds(try int(v, key, min: 0))
    }

    private static func bool(_ v: String, _ key: String) throws(ClientSettingError) -> Bool {
        switch v.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw .badValue(key, v, "true or false")
        }
    }
}

/// A setting kgo does not know, or a value it cannot use.
enum ClientSettingError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unknown(String)
    case badValue(String, String, String)
    case conflict(String)

    var description: String {
        switch self {
        case .malformed(let t): "\(t): want key=value"
        case .unknown(let k): "unknown client setting \(k) (kgo -X list shows them)"
        case .badValue(let k, let v, let want): "\(k)=\(v): want \(want)"
        case .conflict(let why): why
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" || s.last == "\r" { s.removeLast() }
        return String(s)
    }
}
