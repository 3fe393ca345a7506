import ArgumentParser
import Foundation
import KafkaIO

/// `kgo user list|set|delete`: SCRAM credentials over KafkaAdmin (the password is salted
/// and hashed here; the broker never sees it).
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "List, set and delete SCRAM users.",
        subcommands: [List.self, Set.self, Delete.self])

    static func mechanism(_ text: String) throws -> ScramMechanism {
        guard let m = ScramMechanism.allCases.first(where: { $0.description == text.uppercased() }) else {
            throw ValidationError("unknown mechanism \(text) (SCRAM-SHA-256, SCRAM-SHA-512)")
        }
        return m
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Print users' SCRAM mechanisms and iterations (every user without names).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "User names.") var users: [String] = []

        func run() async throws {
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).describeUserScramCredentials(users.isEmpty ? nil : users) }
            try output.report(results, text: { n, infos in
                "\(n) " + infos.map { "\($0.mechanism):\($0.iterations)" }.joined(separator: " ")
            }, object: { infos in
                ["credentials": infos.map { ["mechanism": "\($0.mechanism)", "iterations": Int($0.iterations)] as [String: Any] }]
            })
        }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set", abstract: "Create or replace a user's SCRAM credential.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "The user name.") var user: String
        @Option(help: "SCRAM-SHA-256 or SCRAM-SHA-512.") var mechanism = "SCRAM-SHA-512"
        @Option(help: "The password.") var password: String
        @Option(help: "PBKDF2 iterations (4096 to 16384).") var iterations: Int32 = 8192

        func run() async throws {
            let m = try UserCommand.mechanism(mechanism)
            let result = try await connection.withClient {
                try await KafkaAdmin(client: $0).upsertScramUser(user, m, password: password, iterations: iterations)
            }
            try output.report([result], text: { n, _ in "set \(n)" }, object: { _ in [:] })
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a user's SCRAM credential.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "The user name.") var user: String
        @Option(help: "SCRAM-SHA-256 or SCRAM-SHA-512.") var mechanism = "SCRAM-SHA-512"

        func run() async throws {
            let m = try UserCommand.mechanism(mechanism)
            let result = try await connection.withClient { try await KafkaAdmin(client: $0).deleteScramUser(user, m) }
            try output.report([result], text: { n, _ in "deleted \(n)" }, object: { _ in [:] })
        }
    }
}
