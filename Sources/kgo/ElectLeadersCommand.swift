import ArgumentParser
import Foundation
import KafkaIO

/// `kgo elect-leaders [--type preferred|unclean] TOPIC[:PARTITION]...` (kafka-leader-election.sh):
/// a topic alone means each of its partitions.
struct ElectLeadersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "elect-leaders", abstract: "Elect partitions' preferred (or unclean) leaders.")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var output: AdminOutput
    @Option(help: "preferred (the first replica) or unclean (any live replica of a partition without a leader).") var type = "preferred"
    @Argument(help: "TOPIC or TOPIC:PARTITION.") var partitions: [String]

    func run() async throws {
        let election: ElectionType
        switch type.lowercased() {
        case "preferred": election = .preferred
        case "unclean": election = .unclean
        default: throw ValidationError("--type \(type): preferred or unclean")
        }
        var named: [TopicPartition] = []
        var topics: [String] = []
        for p in partitions {
            if let colon = p.lastIndex(of: ":") {
                guard let index = Int32(p[p.index(after: colon)...]) else { throw ValidationError("\(p): expected TOPIC:PARTITION") }
                named.append(TopicPartition(String(p[..<colon]), index))
            } else {
                topics.append(p)
            }
        }
        let results = try await connection.withClient { client -> [AdminResult<LeaderElection>] in
            let admin = KafkaAdmin(client: client)
            var failed: [AdminResult<LeaderElection>] = []
            if !topics.isEmpty {
                for d in try await admin.describeTopics(topics) {
                    switch d.result {
                    case .success(let t): named += t.partitions.map { TopicPartition(t.name, $0.partition) }
                    case .failure(let e): failed.append(AdminResult(d.name, .failure(e)))
                    }
                }
            }
            return failed + (named.isEmpty ? [] : try await admin.electLeaders(election, named))
        }
        try output.report(results, text: { n, e in e == .elected ? "elected \(n)" : "\(n): leader already elected" },
                          object: { ["elected": $0 == .elected] })
    }
}
