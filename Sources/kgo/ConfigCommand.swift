import ArgumentParser
import Foundation
import KafkaIO

/// `kgo config get|set|delete` over KafkaAdmin: RESOURCE is `topic NAME`, `broker ID`
/// (`broker default` for the cluster-wide default) or `broker-logger ID` (a broker's log4j
/// loggers: `set` takes LOGGER=LEVEL, `delete` makes a logger inherit its parent's level).
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Read and change topic and broker configs.",
        subcommands: [Get.self, Set.self, Delete.self])

    static func resource(_ type: String, _ name: String) throws -> ConfigResource {
        switch type {
        case "topic": return .topic(name)
        case "broker":
            if name == "default" { return .brokerDefault }
            guard let id = Int32(name) else { throw ValidationError("broker \(name): expected a broker id or \"default\"") }
            return .broker(id)
        case "broker-logger":
            guard let id = Int32(name) else { throw ValidationError("broker-logger \(name): expected a broker id") }
            return .brokerLogger(id)
        default: throw ValidationError("unknown resource type \(type) (topic, broker, broker-logger)")
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Print a resource's configs with their sources.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "topic, broker or broker-logger.") var type: String
        @Argument(help: "The topic name or broker id.") var name: String
        @Argument(help: "Only these keys.") var keys: [String] = []

        func run() async throws {
            let resource = try ConfigCommand.resource(type, name)
            let results = try await connection.withClient {
                try await KafkaAdmin(client: $0).describeConfigs([resource], keys: keys.isEmpty ? nil : keys)
            }
            try output.report(results, text: { _, entries in
                entries.map { "\($0.name)=\($0.isSensitive ? "(sensitive)" : ($0.value ?? "(null)")) \($0.source)" }.joined(separator: "\n")
            }, object: { entries in
                ["configs": entries.map { e -> [String: Any] in
                    ["name": e.name, "value": e.value.map { $0 as Any } ?? NSNull(), "source": "\(e.source)", "readOnly": e.isReadOnly,
                     "sensitive": e.isSensitive,
                     "synonyms": e.synonyms.map { ["name": $0.name, "value": $0.value.map { $0 as Any } ?? NSNull(), "source": "\($0.source)"] as [String: Any] }]
                }]
            })
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Set configs (KEY=VALUE ...), incrementally.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "topic, broker or broker-logger.") var type: String
        @Argument(help: "The topic name or broker id.") var name: String
        @Argument(help: "KEY=VALUE pairs.") var pairs: [String]

        func run() async throws {
            let resource = try ConfigCommand.resource(type, name)
            let values = try keyValues(pairs)
            let results: [AdminResult<AdminDone>]
            if case .brokerLogger(let id) = resource {
                // LOGGER=LEVEL: the level checked here (any case), so a typo fails before it is sent.
                let ops = try values.keys.sorted().map { logger -> BrokerLoggerOperation in
                    guard let level = BrokerLogLevel(rawValue: values[logger]!.uppercased()) else {
                        throw ValidationError("\(logger): level \(values[logger]!) is not one of "
                            + BrokerLogLevel.allCases.map(\.rawValue).joined(separator: ", "))
                    }
                    return .set(logger, level)
                }
                results = try await connection.withClient { try await [KafkaAdmin(client: $0).alterBrokerLoggers(id, ops)] }
            } else {
                let change = ConfigChange(resource, values.keys.sorted().map { .set($0, values[$0]!) })
                results = try await connection.withClient { try await KafkaAdmin(client: $0).alterConfigs([change]) }
            }
            try output.report(results, text: { n, _ in "set \(values.count) config\(values.count == 1 ? "" : "s") of \(n)" }, object: { _ in [:] })
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete config overrides (back to the default).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "topic, broker or broker-logger.") var type: String
        @Argument(help: "The topic name or broker id.") var name: String
        @Argument(help: "Keys.") var keys: [String]

        func run() async throws {
            let resource = try ConfigCommand.resource(type, name)
            let change = ConfigChange(resource, keys.map { .delete($0) })
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).alterConfigs([change]) }
            try output.report(results, text: { n, _ in "deleted \(keys.count) config\(keys.count == 1 ? "" : "s") of \(n)" }, object: { _ in [:] })
        }
    }
}
