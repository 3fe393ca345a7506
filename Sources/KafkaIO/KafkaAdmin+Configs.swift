import KafkaProtocol
import KafkaStateMachines

/// What a config belongs to. Broker and broker-logger resources are sent to that broker.
public enum ConfigResource: Sendable, Hashable, CustomStringConvertible {
    case topic(String)
    case broker(Int32)
    /// The cluster-wide dynamic default of every broker.
    case brokerDefault
    case brokerLogger(Int32)

    var type: Int8 {
        switch self {
        case .topic: return 2
        case .broker, .brokerDefault: return 4
        case .brokerLogger: return 8
        }
    }

    var name: String {
        switch self {
        case .topic(let t): return t
        case .broker(let b), .brokerLogger(let b): return String(b)
        case .brokerDefault: return ""
        }
    }

    /// "topic orders", "broker 1", "broker default", …
    public var description: String {
        switch self {
        case .topic(let t): return "topic \(t)"
        case .broker(let b): return "broker \(b)"
        case .brokerDefault: return "broker default"
        case .brokerLogger(let b): return "broker-logger \(b)"
        }
    }

    var problem: KafkaAdminError? {
        switch self {
        case .topic(let t): return KafkaAdmin.topicNameProblem(t).map { .invalidTopicName(t, reason: $0) }
        case .broker(let b), .brokerLogger(let b): return b < 0 ? .invalidArgument(description, reason: "a broker id is not negative") : nil
        case .brokerDefault: return nil
        }
    }
}

/// Where a config's value comes from (DescribeConfigs' config_source).
public struct ConfigSource: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The wire value.
    public var rawValue: Int8
    /// A source by wire value (unknown values are kept).
    public init(rawValue: Int8) { self.rawValue = rawValue }

    /// The broker did not say.
    public static let unknown = ConfigSource(rawValue: 0)
    /// Set on the topic.
    public static let dynamicTopic = ConfigSource(rawValue: 1)
    /// Set dynamically on this broker.
    public static let dynamicBroker = ConfigSource(rawValue: 2)
    /// Set dynamically as every broker's default.
    public static let dynamicDefaultBroker = ConfigSource(rawValue: 3)
    /// From the broker's server.properties.
    public static let staticBroker = ConfigSource(rawValue: 4)
    /// Kafka's default.
    public static let defaultConfig = ConfigSource(rawValue: 5)
    /// A broker logger level set dynamically.
    public static let dynamicBrokerLogger = ConfigSource(rawValue: 6)

    /// The wire name (DYNAMIC_TOPIC_CONFIG, DEFAULT_CONFIG, …).
    public var description: String {
        switch rawValue {
        case 1: return "DYNAMIC_TOPIC_CONFIG"
        case 2: return "DYNAMIC_BROKER_CONFIG"
        case 3: return "DYNAMIC_DEFAULT_BROKER_CONFIG"
        case 4: return "STATIC_BROKER_CONFIG"
        case 5: return "DEFAULT_CONFIG"
        case 6: return "DYNAMIC_BROKER_LOGGER_CONFIG"
        case 0: return "UNKNOWN"
        default: return "SOURCE_\(rawValue)"
        }
    }
}

/// One place a config's value could come from (KIP-226).
public struct ConfigSynonym: Sendable, Equatable {
    /// The config's name at that level.
    public var name: String
    /// The value there (nil when sensitive).
    public var value: String?
    /// The level.
    public var source: ConfigSource
}

/// One config of a resource (`describeConfigs`).
public struct ConfigEntry: Sendable, Equatable {
    /// The config's name.
    public var name: String
    /// nil for a sensitive config (or one without a value).
    public var value: String?
    /// Where the value comes from.
    public var source: ConfigSource
    /// Cannot be changed dynamically.
    public var isReadOnly: Bool
    /// A password or key: its value is never returned.
    public var isSensitive: Bool
    /// Where the value could come from, highest precedence first (KIP-226); asked for by
    /// `includeSynonyms`.
    public var synonyms: [ConfigSynonym]
}

/// One incremental change to a config (KIP-339).
public enum ConfigOperation: Sendable, Equatable {
    case set(String, String)
    /// Back to the default.
    case delete(String)
    /// Add to a list config.
    case append(String, String)
    /// Remove from a list config.
    case subtract(String, String)

    var key: String {
        switch self {
        case .set(let k, _), .delete(let k), .append(let k, _), .subtract(let k, _): return k
        }
    }
}

/// Incremental changes to one resource's configs (`alterConfigs`).
public struct ConfigChange: Sendable, Equatable {
    /// The topic or broker to change.
    public var resource: ConfigResource
    /// The changes, applied together.
    public var operations: [ConfigOperation]

    /// These changes to `resource`.
    public init(_ resource: ConfigResource, _ operations: [ConfigOperation]) {
        self.resource = resource
        self.operations = operations
    }
}

extension KafkaAdmin {
    /// Each resource's configs (only `keys` when given), with sources and synonyms.
    public func describeConfigs(_ resources: [ConfigResource], keys: [String]? = nil,
                                includeSynonyms: Bool = true) async throws(KafkaAdminError) -> [AdminResult<[ConfigEntry]>] {
        let problems = Self.problems(resources, name: \.description) { $0.problem }
        var r = DescribeConfigsRequest()
        r.includeSynonyms = includeSynonyms
        for (res, problem) in zip(resources, problems) where problem == nil {
            var x = DescribeConfigsRequest.DescribeConfigsResource()
            x.resourceType = res.type
            x.resourceName = res.name
            x.configurationKeys = keys
            r.resources.append(x)
        }
        var answers: [String: Result<[ConfigEntry], KafkaAdminError>] = [:]
        if !r.resources.isEmpty {
            // Synonyms and sources are v1+ (Kafka 1.1).
            let resp = try await send("describeConfigs", r, pin: 1 ... DescribeConfigsRequest.validVersions.upperBound)
            let byKey = Dictionary(resources.map { (Self.resourceKey($0.type, $0.name), $0.description) }, uniquingKeysWith: { a, _ in a })
            for res in resp.results {
                guard let name = byKey[Self.resourceKey(res.resourceType, res.resourceName)] else { continue }
                if let e = KafkaAdminError.from(res.errorCode, message: res.errorMessage) { answers[name] = .failure(e); continue }
                answers[name] = .success(res.configs.map { c in
                    ConfigEntry(name: c.name, value: c.value, source: ConfigSource(rawValue: c.configSource), isReadOnly: c.readOnly,
                                isSensitive: c.isSensitive,
                                synonyms: c.synonyms.map { ConfigSynonym(name: $0.name, value: $0.value, source: ConfigSource(rawValue: $0.source)) })
                })
            }
        }
        return Self.results(resources, problems: problems, name: \.description) { answers[$0] }
    }

    /// Changes configs incrementally (IncrementalAlterConfigs, Kafka 2.3+): each resource's
    /// operations apply together or not at all.
    public func alterConfigs(_ changes: [ConfigChange], validateOnly: Bool = false) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        let problems = Self.problems(changes, name: \.resource.description) { c -> KafkaAdminError? in
            if let p = c.resource.problem { return p }
            if c.operations.isEmpty { return .invalidArgument(c.resource.description, reason: "no operations") }
            var seen: Set<String> = []
            for op in c.operations {
                if op.key.isEmpty { return .invalidArgument(c.resource.description, reason: "a config with an empty name") }
                if !seen.insert(op.key).inserted { return .invalidArgument(c.resource.description, reason: "config \(op.key) changed twice") }
            }
            return nil
        }
        var r = IncrementalAlterConfigsRequest()
        r.validateOnly = validateOnly
        for (c, problem) in zip(changes, problems) where problem == nil {
            var x = IncrementalAlterConfigsRequest.AlterConfigsResource()
            x.resourceType = c.resource.type
            x.resourceName = c.resource.name
            x.configs = c.operations.map { op in
                var a = IncrementalAlterConfigsRequest.AlterableConfig()
                a.name = op.key
                switch op {
                case .set(_, let v): a.configOperation = 0; a.value = v
                case .delete: a.configOperation = 1; a.value = nil
                case .append(_, let v): a.configOperation = 2; a.value = v
                case .subtract(_, let v): a.configOperation = 3; a.value = v
                }
                return a
            }
            r.resources.append(x)
        }
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        if !r.resources.isEmpty {
            let resp = try await send("alterConfigs", r)
            let byKey = Dictionary(changes.map { (Self.resourceKey($0.resource.type, $0.resource.name), $0.resource.description) },
                                   uniquingKeysWith: { a, _ in a })
            for res in resp.responses {
                guard let name = byKey[Self.resourceKey(res.resourceType, res.resourceName)] else { continue }
                answers[name] = KafkaAdminError.from(res.errorCode, message: res.errorMessage).map { .failure($0) } ?? .success(AdminDone())
            }
        }
        return Self.results(changes, problems: problems, name: \.resource.description) { answers[$0] }
    }
}

extension KafkaAdmin {
    /// A resource as the broker names it in answers: its type and name.
    static func resourceKey(_ type: Int8, _ name: String) -> String { "\(type)/\(name)" }
}
