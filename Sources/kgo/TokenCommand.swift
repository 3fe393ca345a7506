import ArgumentParser
import Foundation
import KafkaIO

/// `kgo token create|renew|expire|describe`: delegation tokens (KIP-48) over KafkaAdmin.
/// Brokers serve these only over SASL (`--sasl`). A token is named by its HMAC in base64,
/// which with the token id as user name is its SCRAM password.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, renew, expire and describe delegation tokens.",
        subcommands: [Create.self, Renew.self, Expire.self, Describe.self])

    static func object(_ t: DelegationToken) -> [String: Any] {
        ["tokenId": t.tokenId, "hmac": Data(t.hmac).base64EncodedString(), "owner": t.owner, "requester": t.requester,
         "renewers": t.renewers, "issueTimestamp": t.issueTimestamp, "expiryTimestamp": t.expiryTimestamp, "maxTimestamp": t.maxTimestamp]
    }

    static func text(_ t: DelegationToken) -> String {
        "token \(t.tokenId) hmac \(Data(t.hmac).base64EncodedString()) owner \(t.owner) requester \(t.requester)"
            + " renewers \(t.renewers.isEmpty ? "-" : t.renewers.joined(separator: ","))"
            + " issued \(t.issueTimestamp) expires \(t.expiryTimestamp) max \(t.maxTimestamp)"
    }

    static func hmac(_ base64: String) throws -> [UInt8] {
        guard let d = Data(base64Encoded: base64), !d.isEmpty else { throw ValidationError("\(base64): not a base64 HMAC") }
        return Array(d)
    }

    /// The call's outcome as one named item, so a refusal prints with the token's name and
    /// fails the command like any admin item.
    static func item<V>(_ name: String, _ body: () async throws -> V) async throws -> AdminResult<V> {
        do {
            return AdminResult(name, .success(try await body()))
        } catch let e as KafkaAdminError {
            return AdminResult(name, .failure(e))
        }
    }

    static func milliseconds(_ ms: Int64?, _ option: String) throws -> Duration? {
        guard let ms else { return nil }
        guard ms >= 0 else { throw ValidationError("\(option) is negative") }
        return .milliseconds(ms)
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a token for the authenticated user (or --owner).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(name: .customLong("renewer"), help: "A principal that may renew it, User:NAME (repeatable).") var renewers: [String] = []
        @Option(name: .customLong("max-lifetime-ms"), help: "Its longest life (default: the broker's).") var maxLifetimeMs: Int64?
        @Option(help: "Create it for this principal, User:NAME (Kafka 3.3+).") var owner: String?

        func run() async throws {
            let lifetime = try TokenCommand.milliseconds(maxLifetimeMs, "--max-lifetime-ms")
            let result = try await connection.withClient { client in
                try await TokenCommand.item(owner ?? "token") {
                    try await KafkaAdmin(client: client).createDelegationToken(renewers: renewers, maxLifetime: lifetime, owner: owner)
                }
            }
            try output.report([result], text: { _, t in TokenCommand.text(t) }, object: TokenCommand.object)
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "renew", abstract: "Renew a token (as its owner, requester or a renewer).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "The token's HMAC, base64.") var hmac: String
        @Option(name: .customLong("period-ms"), help: "Expire this long from now (default: the broker's renew interval).") var periodMs: Int64?

        func run() async throws {
            let bytes = try TokenCommand.hmac(hmac)
            let period = try TokenCommand.milliseconds(periodMs, "--period-ms")
            let result = try await connection.withClient { client in
                try await TokenCommand.item(hmac) { try await KafkaAdmin(client: client).renewDelegationToken(hmac: bytes, renewPeriod: period) }
            }
            try output.report([result], text: { n, e in "renewed \(n) expires \(e)" }, object: { ["expiryTimestamp": $0] })
        }
    }

    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "expire", abstract: "Expire a token now, or --period-ms from now.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Argument(help: "The token's HMAC, base64.") var hmac: String
        @Option(name: .customLong("period-ms"), help: "Expire this long from now (default: now).") var periodMs: Int64?

        func run() async throws {
            let bytes = try TokenCommand.hmac(hmac)
            let period = try TokenCommand.milliseconds(periodMs, "--period-ms")
            let result = try await connection.withClient { client in
                try await TokenCommand.item(hmac) { try await KafkaAdmin(client: client).expireDelegationToken(hmac: bytes, expiryPeriod: period) }
            }
            try output.report([result], text: { n, e in "expired \(n) at \(e)" }, object: { ["expiryTimestamp": $0] })
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe", abstract: "Print the tokens of the owners (every owner's without any).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(name: .customLong("owner"), help: "Only this owner's tokens, User:NAME (repeatable).") var owners: [String] = []

        func run() async throws {
            let result = try await connection.withClient { client in
                try await TokenCommand.item(owners.isEmpty ? "tokens" : owners.joined(separator: ",")) {
                    try await KafkaAdmin(client: client).describeDelegationTokens(owners: owners.isEmpty ? nil : owners)
                }
            }
            // One item per token; a refusal is the one failed item.
            let items: [AdminResult<DelegationToken>] = switch result.result {
            case .success(let tokens): tokens.map { AdminResult($0.tokenId, .success($0)) }
            case .failure(let e): [AdminResult(result.name, .failure(e))]
            }
            try output.report(items, text: { _, t in TokenCommand.text(t) }, object: TokenCommand.object)
        }
    }
}
