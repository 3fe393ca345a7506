import ArgumentParser
import Foundation
import KafkaIO

/// `kgo quota describe|alter` over KafkaAdmin's client-quota calls. An entity is
/// TYPE=NAME with TYPE user, client-id or ip, and NAME `<default>` for the default entity.
struct QuotaCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota", abstract: "Describe and alter client quotas.",
        subcommands: [Describe.self, Alter.self])

    static let defaultName = "<default>"

    static func type(_ text: String) throws -> QuotaEntityType {
        guard let t = QuotaEntityType(rawValue: text) else { throw ValidationError("unknown entity type \(text) (user, client-id, ip)") }
        return t
    }

    static func entry(_ e: ClientQuotaEntry) -> (text: String, object: [String: Any]) {
        let keys = e.values.keys.sorted()
        let text = "\(e.entity) " + keys.map { "\($0)=\(Self.number(e.values[$0]!))" }.joined(separator: " ")
        let entity = e.entity.components.map { c -> [String: Any] in ["type": c.type.rawValue, "name": c.name.map { $0 as Any } ?? NSNull()] }
        return (text, ["entity": entity, "values": e.values])
    }

    /// 1024 rather than 1024.0.
    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "describe", 
            abstract: "Print the quotas of the entities that match: TYPE=NAME, TYPE=<default>, or TYPE for any (none: every entity).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Flag(help: "Only entities with exactly the filtered types.") var strict = false
        @Argument(help: "Filters: user=alice, client-id=<default>, ip.") var filters: [String] = []

        func run() async throws {
            let parsed = try filters.map { f -> ClientQuotaFilter in
                guard let eq = f.firstIndex(of: "=") else { return ClientQuotaFilter(try QuotaCommand.type(f), .any) }
                let name = String(f[f.index(after: eq)...])
                return ClientQuotaFilter(try QuotaCommand.type(String(f[..<eq])), name == QuotaCommand.defaultName ? .defaultEntity : .exact(name))
            }
            let entries = try await connection.withClient { try await KafkaAdmin(client: $0).describeClientQuotas(parsed, strict: strict) }
            if output.json { try output.printJSON(entries.map { QuotaCommand.entry($0).object }) } else { for e in entries { print(QuotaCommand.entry(e).text) } }
        }
    }

    struct Alter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "alter", abstract: "Set and remove one entity's quotas.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "TYPE=NAME (NAME <default> for the default entity); repeat for user and client-id together.") var entity: [String]
        @Option(help: "KEY=VALUE, e.g. producer_byte_rate=1048576; repeatable.") var set: [String] = []
        @Option(help: "A quota to remove; repeatable.") var remove: [String] = []

        func validate() throws {
            if entity.isEmpty { throw ValidationError("give --entity") }
            if set.isEmpty && remove.isEmpty { throw ValidationError("give --set or --remove") }
        }

        func run() async throws {
            let parts = try entity.map { e -> QuotaEntityComponent in
                guard let eq = e.firstIndex(of: "=") else { throw ValidationError("\(e): expected TYPE=NAME") }
                let name = String(e[e.index(after: eq)...])
                return QuotaEntityComponent(try QuotaCommand.type(String(e[..<eq])), name == QuotaCommand.defaultName ? nil : name)
            }
            let values = try keyValues(set)
            var ops: [QuotaOperation] = []
            for k in values.keys.sorted() {
                guard let v = Double(values[k]!) else { throw ValidationError("\(k)=\(values[k]!): expected a number") }
                ops.append(.set(k, v))
            }
            ops += remove.map { .remove($0) }
            let alteration = ClientQuotaAlteration(ClientQuotaEntity(parts), ops)
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).alterClientQuotas([alteration]) }
            try output.report(results, text: { n, _ in "altered \(n)" }, object: { _ in [:] })
        }
    }
}
