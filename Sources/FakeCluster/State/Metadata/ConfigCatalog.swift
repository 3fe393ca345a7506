/// The topic and broker configs a Kafka 3.x broker describes for the common keys: name,
/// type, default, the broker-level synonym a topic config falls back to, and the
/// read-only / sensitive flags. Values are Kafka's defaults unless the fake's own settings
/// (which the state really uses) say otherwise.
struct ConfigCatalog: Sendable {
    /// DescribeConfigs config_type (v3+).
    enum ConfigType: Int8, Sendable {
        case boolean = 1, string = 2, int = 3, short = 4, long = 5, double = 6, list = 7, password = 9
    }

    /// DescribeConfigs config_source (v1+).
    enum Source: Int8, Sendable {
        case dynamicTopic = 1, dynamicBroker = 2, dynamicDefaultBroker = 3, staticBroker = 4, defaultConfig = 5
        case dynamicBrokerLogger = 6
    }

    struct TopicConfig: Sendable {
        var name: String
        var type: ConfigType
        /// The broker config a topic without an override inherits, and its value.
        var brokerSynonym: String
        var brokerValue: String
        /// What the topic ends up with when only the broker default applies (retention.ms
        /// from log.retention.hours, for one).
        var topicValue: String
    }

    struct BrokerConfig: Sendable {
        var name: String
        var type: ConfigType
        var value: String?
        var source: Source
        var readOnly: Bool
        var sensitive: Bool = false
    }

    /// Sorted by name.
    let topicConfigs: [TopicConfig]

    init(maxMessageBytes: Int, minInsyncReplicas: Int) {
        func same(_ name: String, _ type: ConfigType, _ broker: String, _ value: String) -> TopicConfig {
            TopicConfig(name: name, type: type, brokerSynonym: broker, brokerValue: value, topicValue: value)
        }
        let longMax = "9223372036854775807"
        topicConfigs = [
            same("cleanup.policy", .list, "log.cleanup.policy", "delete"),
            same("compression.type", .string, "compression.type", "producer"),
            same("delete.retention.ms", .long, "log.cleaner.delete.retention.ms", "86400000"),
            same("file.delete.delay.ms", .long, "log.segment.delete.delay.ms", "60000"),
            same("flush.messages", .long, "log.flush.interval.messages", longMax),
            same("flush.ms", .long, "log.flush.scheduler.interval.ms", longMax),
            same("index.interval.bytes", .int, "log.index.interval.bytes", "4096"),
            same("max.compaction.lag.ms", .long, "log.cleaner.max.compaction.lag.ms", longMax),
            same("max.message.bytes", .int, "message.max.bytes", String(maxMessageBytes)),
            same("message.downconversion.enable", .boolean, "log.message.downconversion.enable", "true"),
            same("message.timestamp.type", .string, "log.message.timestamp.type", "CreateTime"),
            same("min.cleanable.dirty.ratio", .double, "log.cleaner.min.cleanable.ratio", "0.5"),
            same("min.compaction.lag.ms", .long, "log.cleaner.min.compaction.lag.ms", "0"),
            same("min.insync.replicas", .int, "min.insync.replicas", String(minInsyncReplicas)),
            same("preallocate", .boolean, "log.preallocate", "false"),
            same("retention.bytes", .long, "log.retention.bytes", "-1"),
            TopicConfig(name: "retention.ms", type: .long, brokerSynonym: "log.retention.hours", brokerValue: "168",
                        topicValue: "604800000"),
            same("segment.bytes", .int, "log.segment.bytes", "1073741824"),
            same("segment.index.bytes", .int, "log.index.size.max.bytes", "10485760"),
            TopicConfig(name: "segment.jitter.ms", type: .long, brokerSynonym: "log.roll.jitter.hours", brokerValue: "0",
                        topicValue: "0"),
            TopicConfig(name: "segment.ms", type: .long, brokerSynonym: "log.roll.hours", brokerValue: "168",
                        topicValue: "604800000"),
            same("unclean.leader.election.enable", .boolean, "unclean.leader.election.enable", "false"),
        ]
    }

    func topicConfig(_ name: String) -> TopicConfig? { topicConfigs.first { $0.name == name } }

    /// Whether `value` is acceptable for `config` (numbers parse, booleans are booleans,
    /// the two enumerations hold one of their values).
    static func isValid(_ value: String, for config: TopicConfig) -> Bool {
        switch config.name {
        case "cleanup.policy":
            let parts = value.split(separator: ",").map { $0.trimmingWhitespace() }
            return !parts.isEmpty && parts.allSatisfy { $0 == "delete" || $0 == "compact" }
        case "compression.type":
            return ["producer", "uncompressed", "gzip", "snappy", "lz4", "zstd"].contains(value)
        case "message.timestamp.type":
            return value == "CreateTime" || value == "LogAppendTime"
        default:
            break
        }
        switch config.type {
        case .boolean: return value == "true" || value == "false"
        case .int, .short: return Int32(value) != nil
        case .long: return Int64(value) != nil
        case .double: return Double(value) != nil
        case .string, .list, .password: return true
        }
    }
}

private extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
