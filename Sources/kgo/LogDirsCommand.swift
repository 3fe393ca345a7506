import ArgumentParser
import Foundation
import KafkaIO

/// `kgo log-dirs describe|alter` (kafka-log-dirs.sh, kafka-reassign-partitions' log dir moves).
struct LogDirsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log-dirs", abstract: "Describe every broker's log dirs; move replicas between a broker's log dirs.",
        subcommands: [Describe.self, Alter.self], defaultSubcommand: Describe.self)

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "Every broker's log dirs and the replicas in them, with sizes.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "Only these topics' partitions.") var topics: [String] = []

        func run() async throws {
            let results = try await connection.withClient { client -> [AdminResult<[LogDirDescription]>] in
                let admin = KafkaAdmin(client: client)
                guard !topics.isEmpty else { return try await admin.describeLogDirs() }
                var partitions: [TopicPartition] = []
                for d in try await admin.describeTopics(topics) {
                    switch d.result {
                    case .success(let t): partitions += t.partitions.map { TopicPartition(t.name, $0.partition) }
                    case .failure(let e): throw KgoFailure("\(d.name): \(e)")
                    }
                }
                return try await admin.describeLogDirs(partitions)
            }
            try output.report(results, text: { n, dirs in
                dirs.map { d in
                    (["\(n) \(d.path)\(d.error.map { " \($0.name)" } ?? "")"] + d.replicas.map {
                        "  \($0.topicPartition) size \($0.sizeBytes) lag \($0.offsetLag)\($0.isFuture ? " future" : "")"
                    }).joined(separator: "\n")
                }.joined(separator: "\n")
            }, object: { dirs in
                ["logDirs": dirs.map { d in
                    ["path": d.path, "error": d.error.map { $0.name as Any } ?? NSNull(), "totalBytes": d.totalBytes, "usableBytes": d.usableBytes,
                     "replicas": d.replicas.map { ["topic": $0.topicPartition.topic, "partition": Int($0.topicPartition.partition), "size": $0.sizeBytes,
                                                   "offsetLag": $0.offsetLag, "isFuture": $0.isFuture] as [String: Any] }] as [String: Any]
                }]
            })
        }
    }

    struct Alter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "alter", abstract: "Move replicas to another log dir of their broker.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "TOPIC:PARTITION@BROKER=PATH; repeatable.") var move: [String]

        func validate() throws {
            if move.isEmpty { throw ValidationError("give at least one --move TOPIC:PARTITION@BROKER=PATH") }
        }

        func run() async throws {
            var moves: [TopicPartitionReplica: String] = [:]
            for m in move {
                guard let eq = m.firstIndex(of: "="), let at = m[..<eq].lastIndex(of: "@"), let colon = m[..<at].lastIndex(of: ":"),
                      let partition = Int32(m[m.index(after: colon) ..< at]), let broker = Int32(m[m.index(after: at) ..< eq]) else {
                    throw ValidationError("\(m): expected TOPIC:PARTITION@BROKER=PATH")
                }
                let r = TopicPartitionReplica(TopicPartition(String(m[..<colon]), partition), broker: broker)
                guard moves[r] == nil else { throw ValidationError("\(r) moved twice") }
                moves[r] = String(m[m.index(after: eq)...])
            }
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).alterReplicaLogDirs(moves) }
            try output.report(results, text: { n, _ in "moved \(n)" }, object: { (_: AdminDone) in [:] })
        }
    }
}
