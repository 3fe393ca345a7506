import ArgumentParser
import Foundation
import KafkaIO

/// `kgo group list|delete|lag|seek` over KafkaAdmin (`describe` is GroupCommand.swift's).
extension GroupCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the groups of every broker.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(name: .customLong("state"), help: "Only groups in this state (repeat): Empty, Stable, PreparingRebalance …") var states: [String] = []
        @Option(name: .customLong("type"), help: "Only groups of this type (repeat): classic, consumer.") var types: [String] = []

        func run() async throws {
            let listed = try await connection.withClient { try await KafkaAdmin(client: $0).listGroups(states: states, types: types) }
            if output.json {
                try output.printJSON(["groups": listed.groups.map { ["groupId": $0.groupId, "protocolType": $0.protocolType, "state": $0.state, "type": $0.type] },
                                      "brokerError": listed.brokerError.map { $0.name as Any } ?? NSNull()] as [String: Any])
            } else {
                for g in listed.groups { print("\(g.groupId) \(g.state.isEmpty ? "-" : g.state) \(g.protocolType.isEmpty ? "-" : g.protocolType)") }
            }
            if let e = listed.brokerError {
                printError("a broker answered \(e.name); its groups are missing")
                throw ExitCode(1)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete empty groups and their offsets.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "Group ids.") var groups: [String]

        func run() async throws {
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).deleteGroups(groups) }
            try output.report(results, text: { n, _ in "deleted \(n)" }, object: { _ in [:] })
        }
    }

    struct Lag: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lag", abstract: "Print a group's committed offsets, the partitions' ends and the lag.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "The group id.") var group: String

        func run() async throws {
            let lag = try await connection.withClient { try await KafkaAdmin(client: $0).lag(group: group) }
            let results = lag.map { AdminResult($0.topicPartition.description, $0.error.map { .failure($0) } ?? .success($0)) }
            if !output.json { print("topic partition committed end lag") }
            try output.report(results, text: { _, l in "\(l.topicPartition.topic) \(l.topicPartition.partition) \(l.committed) \(l.end ?? -1) \(l.lag ?? -1)" },
                              object: { ["topic": $0.topicPartition.topic, "partition": $0.topicPartition.partition, "committed": $0.committed,
                                         "end": $0.end ?? -1, "lag": $0.lag ?? -1] })
            if !output.json { print("total lag \(lag.compactMap(\.lag).reduce(0, +))") }
        }
    }

    struct Seek: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "seek", abstract: "Set a group's offsets for topics to start, end, an offset or a timestamp.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "start, end, an offset, or @TIMESTAMP (ms since the epoch).") var to: String
        @Argument(help: "The group id.") var group: String
        @Argument(help: "Topics (every partition of each).") var topics: [String]

        func run() async throws {
            let target = to
            let results = try await connection.withClient { client -> [AdminResult<AdminDone>] in
                let admin = KafkaAdmin(client: client)
                var partitions: [TopicPartition] = []
                for d in try await admin.describeTopics(topics) {
                    let t = try d.result.get()
                    partitions += t.partitions.map { TopicPartition(t.name, $0.partition) }
                }
                var offsets: [TopicPartition: Int64] = [:]
                if let fixed = Int64(target) {
                    for p in partitions { offsets[p] = fixed }
                } else {
                    let spec: OffsetSpec
                    switch target {
                    case "start": spec = .earliest
                    case "end": spec = .latest
                    default:
                        guard target.hasPrefix("@"), let ts = Int64(target.dropFirst()) else { throw ValidationError("--to \(target): start, end, an offset or @TIMESTAMP") }
                        spec = .timestamp(ts)
                    }
                    for (p, r) in zip(partitions, try await admin.listOffsets(partitions, spec)) { offsets[p] = try r.result.get().offset }
                    // No record at or after the timestamp: the end.
                    let past = partitions.filter { offsets[$0]! < 0 }
                    for (p, r) in zip(past, past.isEmpty ? [] : try await admin.listOffsets(past, .latest)) { offsets[p] = try r.result.get().offset }
                }
                return try await admin.alterOffsets(group: group, offsets)
            }
            try output.report(results, text: { n, _ in "\(n) set" }, object: { _ in [:] })
        }
    }
}
