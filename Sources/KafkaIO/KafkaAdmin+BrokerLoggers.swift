/// A level a broker's log4j logger can be set to (KIP-412).
public enum BrokerLogLevel: String, Sendable, CaseIterable {
    case trace = "TRACE", debug = "DEBUG", info = "INFO", warn = "WARN", error = "ERROR", fatal = "FATAL"
}

/// One logger of a broker and the level it logs at (its own, or inherited).
public struct BrokerLogger: Sendable, Equatable {
    /// The logger's name ("root" for the root logger).
    public var name: String
    /// The level as the broker reports it (one of `BrokerLogLevel`'s raw values on Kafka).
    public var level: String

    /// A logger at a level (for tests of code that reads `describeBrokerLoggers`).
    public init(name: String, level: String) {
        self.name = name
        self.level = level
    }
}

/// One change to a broker's loggers.
public enum BrokerLoggerOperation: Sendable, Equatable {
    /// Log at `level`.
    case set(String, BrokerLogLevel)
    /// Drop the logger's own level: it logs at its parent's (in the end the root's) again.
    case reset(String)

    var logger: String {
        switch self {
        case .set(let n, _), .reset(let n): return n
        }
    }
}

extension KafkaAdmin {
    /// Each broker's loggers with their levels (only `loggers` when given), each asked of
    /// that broker (DescribeConfigs of its BROKER_LOGGER resource).
    public func describeBrokerLoggers(_ brokers: [Int32], loggers: [String]? = nil)
        async throws(KafkaAdminError) -> [AdminResult<[BrokerLogger]>] {
        try await describeConfigs(brokers.map { .brokerLogger($0) }, keys: loggers, includeSynonyms: false).map { r in
            AdminResult(r.name, r.result.map { $0.map { BrokerLogger(name: $0.name, level: $0.value ?? "") } })
        }
    }

    /// Changes one broker's loggers, all together or none (IncrementalAlterConfigs of its
    /// BROKER_LOGGER resource; Kafka 2.4+). The broker refuses an unknown logger.
    public func alterBrokerLoggers(_ broker: Int32, _ operations: [BrokerLoggerOperation], validateOnly: Bool = false)
        async throws(KafkaAdminError) -> AdminResult<AdminDone> {
        let resource = ConfigResource.brokerLogger(broker)
        // Kafka refuses it too; said here, the caller learns it without a round trip.
        if operations.contains(.reset("root")) {
            return AdminResult(resource.description, .failure(.invalidArgument(resource.description, reason: "the root logger's level cannot be reset")))
        }
        let change = ConfigChange(resource, operations.map { op in
            switch op {
            case .set(let n, let level): return .set(n, level.rawValue)
            case .reset(let n): return .delete(n)
            }
        })
        return try await alterConfigs([change], validateOnly: validateOnly)[0]
    }
}
