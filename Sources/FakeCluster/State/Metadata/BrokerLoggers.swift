/// One broker's log4j loggers as KIP-412's BROKER_LOGGER config resource shows them: a
/// fixed set of named loggers plus the root logger, each with the level set on it or none.
/// A logger without its own level logs at its nearest ancestor's (by dotted name), else at
/// the root's, as log4j resolves it; DELETE clears a logger's own level.
struct BrokerLoggers: Sendable, Equatable {
    static let root = "root"
    /// The levels Kafka accepts (LogLevelConfig.VALID_LOG_LEVELS).
    static let validLevels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
    /// Loggers a Kafka broker has from its stock log4j.properties, with their levels there.
    static let stock: [String: String?] = [
        root: "INFO",
        "kafka": "INFO",
        "kafka.controller": "TRACE",
        "kafka.log.LogCleaner": "INFO",
        "kafka.network.RequestChannel$": "WARN",
        "kafka.request.logger": "WARN",
        "kafka.server.ReplicaManager": nil,
        "org.apache.kafka": "INFO",
        "org.apache.kafka.clients.NetworkClient": nil,
        "state.change.logger": "INFO",
    ]

    /// Each logger's own level (nil: inherits).
    private var own: [String: String?] = stock

    /// Every logger, sorted by name, with the level it logs at.
    var effective: [(name: String, level: String)] {
        own.keys.sorted().map { ($0, level(of: $0)) }
    }

    func exists(_ name: String) -> Bool { own[name] != nil }

    /// The level `name` logs at: its own, else its nearest ancestor's, else the root's.
    func level(of name: String) -> String {
        var n = Substring(name)
        while true {
            if let set = own[String(n)], let set { return set }
            guard let dot = n.lastIndex(of: ".") else { break }
            n = n[..<dot]
        }
        return own[Self.root]!! // the root always has a level (DELETE of it is refused)
    }

    /// Why Kafka would refuse this operation (SET = 0, DELETE = 1, APPEND = 2,
    /// SUBTRACT = 3), with the error it answers, or nil.
    func problem(_ name: String, operation: Int8, value: String?) -> (KafkaErrorCode, String)? {
        switch operation {
        case 0:
            guard exists(name) else { return (.invalidConfig, "Logger \(name) does not exist!") }
            guard let value, Self.validLevels.contains(value) else {
                return (.invalidConfig, "Cannot set the log level of \(name) to \(value ?? "null") as it is not a supported log level. "
                    + "Valid log levels are \(Self.validLevels.joined(separator: ", "))")
            }
            return nil
        case 1:
            guard exists(name) else { return (.invalidConfig, "Logger \(name) does not exist!") }
            if name == Self.root { return (.invalidRequest, "Removing the log level of the \(Self.root) logger is not allowed") }
            return nil
        case 2: return (.invalidRequest, "APPEND operation is not allowed for the BROKER_LOGGER resource")
        case 3: return (.invalidRequest, "SUBTRACT operation is not allowed for the BROKER_LOGGER resource")
        default: return (.invalidRequest, "Unknown config operation \(operation)")
        }
    }

    /// Applies a checked operation.
    mutating func apply(_ name: String, operation: Int8, value: String?) {
        switch operation {
        case 0: own[name] = .some(value)
        case 1: own[name] = .some(nil)
        default: break
        }
    }
}
