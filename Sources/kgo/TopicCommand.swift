import ArgumentParser
import Foundation
import KafkaIO

/// `kgo topic create|delete|list|describe|add-partitions` over KafkaAdmin.
struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic", abstract: "Create, delete, list and describe topics.",
        subcommands: [Create.self, Delete.self, List.self, Describe.self, AddPartitions.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create topics.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "Partitions per topic (-1: the broker's default).") var partitions: Int32 = -1
        @Option(name: .customLong("replication-factor"), help: "Replicas per partition (-1: the broker's default).") var replicationFactor: Int16 = -1
        @Option(name: .customLong("replica-assignment"), help: "Replicas per partition: 1:2,2:3 (partition 0 on brokers 1 and 2 …).")
        var replicaAssignment: String?
        @Option(name: .customLong("config"), help: "A topic config KEY=VALUE (repeat).") var configs: [String] = []
        @Flag(name: .customLong("validate-only"), help: "Ask the broker to check, not create.") var validateOnly = false
        @Argument(help: "Topic names.") var names: [String]

        func run() async throws {
            let configs = try keyValues(self.configs)
            let assignment = try replicaAssignment.map { text in
                try text.split(separator: ",").map { p in
                    try p.split(separator: ":").map { guard let b = Int32($0) else { throw ValidationError("--replica-assignment: \($0) is not a broker id") }; return b }
                }
            } ?? []
            let topics = names.map {
                NewTopic($0, partitions: assignment.isEmpty ? partitions : -1, replicationFactor: assignment.isEmpty ? replicationFactor : -1,
                         replicaAssignment: assignment, configs: configs)
            }
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).createTopics(topics, validateOnly: validateOnly) }
            try output.report(results, text: { n, t in "created \(n): \(t.partitions) partitions, replication factor \(t.replicationFactor), id \(t.topicId)" },
                              object: { ["partitions": $0.partitions, "replicationFactor": $0.replicationFactor, "topicId": "\($0.topicId)"] })
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete topics.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "Topic names.") var names: [String]

        func run() async throws {
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).deleteTopics(names) }
            try output.report(results, text: { n, _ in "deleted \(n)" }, object: { ["topicId": "\($0)"] })
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List topics.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Flag(name: .customLong("internal"), help: "Include internal topics.") var includeInternal = false

        func run() async throws {
            let topics = try await connection.withClient { try await KafkaAdmin(client: $0).listTopics(includeInternal: includeInternal) }
            if output.json {
                try output.printJSON(topics.map { ["name": $0.name, "topicId": "\($0.topicId)", "partitions": $0.partitionCount, "internal": $0.isInternal] as [String: Any] })
            } else {
                for t in topics { print("\(t.name) \(t.partitionCount) partitions") }
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "Describe topics: partitions, leaders, replicas, ISR, offline replicas.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "Topic names.") var names: [String]

        func run() async throws {
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).describeTopics(names) }
            func ids(_ a: [Int32]) -> String { a.map(String.init).joined(separator: ",") }
            try output.report(results, text: { n, t in
                (["topic \(n) id \(t.topicId) \(t.partitions.count) partitions"] + t.partitions.map { p in
                    "  partition \(p.partition) leader \(p.leader.map(String.init) ?? "none") epoch \(p.leaderEpoch) replicas \(ids(p.replicas)) isr \(ids(p.isr))"
                        + (p.offlineReplicas.isEmpty ? "" : " offline \(ids(p.offlineReplicas))") + (p.error.map { " error \($0.name)" } ?? "")
                }).joined(separator: "\n")
            }, object: { t in
                ["topicId": "\(t.topicId)", "internal": t.isInternal, "partitions": t.partitions.map { p -> [String: Any] in
                    ["partition": p.partition, "leader": p.leader.map { $0 as Any } ?? NSNull(), "leaderEpoch": p.leaderEpoch, "replicas": p.replicas,
                     "isr": p.isr, "offlineReplicas": p.offlineReplicas, "error": p.error.map { $0.name as Any } ?? NSNull()]
                }]
            })
        }
    }

    struct AddPartitions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-partitions", abstract: "Raise topics' partition counts.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(name: .customLong("total"), help: "The new total partition count.") var total: Int32
        @Argument(help: "Topic names.") var names: [String]

        func run() async throws {
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).createPartitions(names.map { PartitionIncrease($0, totalCount: total) }) }
            try output.report(results, text: { n, c in "\(n) now has \(c) partitions" }, object: { ["partitions": $0] })
        }
    }
}
