import ArgumentParser
import Foundation
import KafkaIO

/// `kgo cluster [describe]|features|update-features`: the cluster id, controller and
/// brokers (the default), and its feature levels (KIP-584).
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Print the cluster id, controller and brokers; describe and update its features.",
        subcommands: [Describe.self, Features.self, UpdateFeatures.self], defaultSubcommand: Describe.self)

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "Print the cluster id, controller and brokers.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput

        func run() async throws {
            let c = try await connection.withClient { try await KafkaAdmin(client: $0).describeCluster() }
            if output.json {
                try output.printJSON(["clusterId": c.clusterId.map { $0 as Any } ?? NSNull(), "controller": c.controller.map { $0 as Any } ?? NSNull(),
                                      "brokers": c.brokers.map { ["id": $0.id, "host": $0.host, "port": $0.port, "rack": $0.rack.map { $0 as Any } ?? NSNull()] as [String: Any] }] as [String: Any])
            } else {
                print("cluster \(c.clusterId ?? "-") controller \(c.controller.map(String.init) ?? "-")")
                for b in c.brokers { print("broker \(b.id) \(b.host):\(b.port)\(b.rack.map { " rack \($0)" } ?? "")") }
            }
        }
    }

    struct Features: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "features", abstract: "Print the supported and finalized feature levels and the finalized epoch.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput

        func run() async throws {
            let f = try await connection.withClient { try await KafkaAdmin(client: $0).describeFeatures() }
            if output.json {
                try output.printJSON([
                    "finalizedEpoch": f.finalizedEpoch.map { $0 as Any } ?? NSNull(),
                    "supported": f.supported.map { ["name": $0.name, "minVersion": Int($0.minVersion), "maxVersion": Int($0.maxVersion)] as [String: Any] },
                    "finalized": f.finalized.map { ["name": $0.name, "minVersionLevel": Int($0.minVersionLevel), "maxVersionLevel": Int($0.maxVersionLevel)] as [String: Any] },
                ] as [String: Any])
                return
            }
            print("finalized epoch \(f.finalizedEpoch.map(String.init) ?? "-")")
            // Every feature named either way, by name.
            let names = Swift.Set(f.supported.map(\.name) + f.finalized.map(\.name)).sorted()
            for n in names {
                let s = f.supported.first { $0.name == n }.map { "\($0.minVersion)-\($0.maxVersion)" } ?? "-"
                let l = f.finalized.first { $0.name == n }.map { "\($0.maxVersionLevel)" } ?? "-"
                print("\(n) supported \(s) finalized \(l)")
            }
        }
    }

    struct UpdateFeatures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "update-features",
            abstract: "Set finalized feature levels: NAME=LEVEL (0 deletes the feature, a downgrade).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "Allow lowering levels: safe (no metadata lost) or unsafe.") var downgrade: String?
        @Flag(name: .customLong("validate-only"), help: "Check the updates without applying them.") var validateOnly = false
        @Argument(help: "NAME=LEVEL pairs.") var levels: [String]

        func validate() throws {
            if let downgrade, !["safe", "unsafe"].contains(downgrade) { throw ValidationError("--downgrade is safe or unsafe") }
        }

        func run() async throws {
            let kind: FeatureUpdate.Kind = downgrade == "safe" ? .safeDowngrade : downgrade == "unsafe" ? .unsafeDowngrade : .upgrade
            var updates: [FeatureUpdate] = []
            for pair in levels {
                guard let eq = pair.firstIndex(of: "="), let level = Int16(pair[pair.index(after: eq)...]) else {
                    throw ValidationError("\(pair): expected NAME=LEVEL")
                }
                updates.append(FeatureUpdate(String(pair[..<eq]), maxVersionLevel: level, kind: kind))
            }
            let results = try await connection.withClient {
                try await KafkaAdmin(client: $0).updateFeatures(updates, validateOnly: validateOnly)
            }
            let level = { (n: String) in updates.first { $0.feature == n }?.maxVersionLevel ?? 0 }
            try output.report(results, text: { n, _ in "\(validateOnly ? "valid" : "updated") \(n)=\(level(n))" },
                              object: { _ in ["validateOnly": validateOnly] })
        }
    }
}
