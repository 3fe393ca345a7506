import ArgumentParser
import Foundation
import KafkaIO

/// `kgo reassign list|execute` (kafka-reassign-partitions.sh): reassignments under way, and
/// a plan in that tool's JSON format executed (or cancelled).
struct ReassignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reassign", abstract: "List partition reassignments; execute or cancel a reassignment plan.",
        subcommands: [List.self, Execute.self])

    /// {"version":1,"partitions":[{"topic":"t","partition":0,"replicas":[1,2]}]}; a partition
    /// named twice is a usage error.
    static func plan(_ data: Data) throws -> [TopicPartition: [Int32]] {
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let parts = root["partitions"] as? [[String: Any]] else {
            throw ValidationError("the plan is not JSON of the form {\"version\":1,\"partitions\":[{\"topic\":...,\"partition\":...,\"replicas\":[...]}]}")
        }
        var out: [TopicPartition: [Int32]] = [:]
        for p in parts {
            guard let topic = p["topic"] as? String, let partition = p["partition"] as? Int,
                  let replicas = p["replicas"] as? [Int], let index = Int32(exactly: partition) else {
                throw ValidationError("a plan entry needs topic, partition and replicas: \(p)")
            }
            let tp = TopicPartition(topic, index)
            guard out[tp] == nil else { throw ValidationError("\(tp) is named twice in the plan") }
            out[tp] = try replicas.map { r in
                guard let id = Int32(exactly: r) else { throw ValidationError("\(tp): broker id \(r) is out of range") }
                return id
            }
        }
        return out
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the reassignments under way.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput

        func run() async throws {
            let listed = try await connection.withClient { try await KafkaAdmin(client: $0).listPartitionReassignments() }
            if output.json {
                try output.printJSON(listed.map {
                    ["topic": $0.topicPartition.topic, "partition": Int($0.topicPartition.partition), "replicas": $0.replicas.map(Int.init),
                     "adding": $0.addingReplicas.map(Int.init), "removing": $0.removingReplicas.map(Int.init)] as [String: Any]
                })
            } else {
                for r in listed {
                    print("\(r.topicPartition) replicas \(r.replicas.map(String.init).joined(separator: ",")) adding \(r.addingReplicas.map(String.init).joined(separator: ",")) removing \(r.removingReplicas.map(String.init).joined(separator: ","))")
                }
            }
        }
    }

    struct Execute: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "execute", abstract: "Start the reassignments a plan file names (or cancel them).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "The plan: kafka-reassign-partitions' JSON ('-' for standard input).") var plan: String
        @Flag(help: "Cancel the plan's partitions' reassignments instead.") var cancel = false

        func run() async throws {
            let data: Data
            do {
                data = plan == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: plan))
            } catch {
                throw KgoFailure("cannot read \(plan): \(error.localizedDescription)")
            }
            let targets = try ReassignCommand.plan(data)
            let asked: [TopicPartition: [Int32]?] = targets.mapValues { cancel ? nil : $0 }
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).alterPartitionReassignments(asked) }
            try output.report(results, text: { n, _ in "\(cancel ? "cancelled" : "reassigning") \(n)" }, object: { (_: AdminDone) in [:] })
        }
    }
}
