import ArgumentParser
import Foundation
import KafkaIO

/// `kgo acl create|list|delete` over KafkaAdmin's ACL calls. Values are named as Kafka's
/// tools print them, in any case, with '-' or '_': topic, transactional-id, read,
/// describe-configs, literal, prefixed, match, allow, deny.
struct AclCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl", abstract: "Create, list and delete ACLs.",
        subcommands: [Create.self, List.self, Delete.self])

    static func parse<E: CaseIterable & CustomStringConvertible>(_ text: String, _ what: String) throws -> E {
        let norm = text.uppercased().replacingOccurrences(of: "-", with: "_")
        guard let v = E.allCases.first(where: { $0.description == norm }) else {
            let names = E.allCases.map { $0.description.lowercased().replacingOccurrences(of: "_", with: "-") }
            throw ValidationError("unknown \(what) \(text) (\(names.joined(separator: ", ")))")
        }
        return v
    }

    static func object(_ a: AclBinding) -> [String: Any] {
        ["resourceType": "\(a.resourceType)", "resourceName": a.resourceName, "patternType": "\(a.patternType)",
         "principal": a.principal, "host": a.host, "operation": "\(a.operation)", "permission": "\(a.permission)"]
    }

    /// The filter options of list and delete: each left out matches anything.
    struct FilterOptions: ParsableArguments {
        @Option(help: "Resource type (topic, group, cluster, transactional-id, delegation-token, user).") var type: String?
        @Option(help: "Resource name.") var name: String?
        @Option(help: "Pattern type: any, match (every ACL that applies to --name), literal, prefixed.") var pattern: String?
        @Option(help: "Principal, e.g. User:alice.") var principal: String?
        @Option(help: "Host.") var host: String?
        @Option(help: "Operation (read, write, all, describe, ...).") var operation: String?
        @Option(help: "allow or deny.") var permission: String?

        var isEmpty: Bool { [type, name, pattern, principal, host, operation, permission].allSatisfy { $0 == nil } }

        func filter() throws -> AclFilter {
            AclFilter(try type.map { try AclCommand.parse($0, "resource type") } ?? .any, name,
                      patternType: try pattern.map { try AclCommand.parse($0, "pattern type") } ?? .any,
                      principal: principal, host: host,
                      operation: try operation.map { try AclCommand.parse($0, "operation") } ?? .any,
                      permission: try permission.map { try AclCommand.parse($0, "permission") } ?? .any)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create ACLs: one per --operation.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @Option(help: "Resource type (topic, group, cluster, transactional-id, delegation-token, user).") var type: String
        @Option(help: "Resource name (kafka-cluster for the cluster; * for every resource).") var name: String
        @Option(help: "literal or prefixed.") var pattern = "literal"
        @Option(help: "Principal, e.g. User:alice.") var principal: String
        @Option(help: "Host (* for every host).") var host = "*"
        @Option(help: "Operation (read, write, all, describe, ...); repeatable.") var operation: [String]
        @Option(help: "allow or deny.") var permission = "allow"

        func validate() throws {
            if operation.isEmpty { throw ValidationError("give at least one --operation") }
        }

        func run() async throws {
            let t: AclResourceType = try AclCommand.parse(type, "resource type")
            let p: AclPatternType = try AclCommand.parse(pattern, "pattern type")
            let m: AclPermission = try AclCommand.parse(permission, "permission")
            let acls = try operation.map { o in
                AclBinding(t, name, patternType: p, principal: principal, host: host, operation: try AclCommand.parse(o, "operation"), permission: m)
            }
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).createACLs(acls) }
            try output.report(results, text: { n, _ in "created \(n)" }, object: { _ in [:] })
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the ACLs a filter matches (every ACL without one).")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @OptionGroup var filter: FilterOptions

        func run() async throws {
            let f = try filter.filter()
            let acls = try await connection.withClient { try await KafkaAdmin(client: $0).describeACLs(f) }
            if output.json { try output.printJSON(acls.map(AclCommand.object)) } else { for a in acls { print(a) } }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete the ACLs a filter matches.")
        @OptionGroup var connection: ConnectionOptions
        @OptionGroup var output: AdminOutput
        @OptionGroup var filter: FilterOptions
        @Flag(help: "Delete every ACL (required when no filter option is given).") var all = false

        func validate() throws {
            if filter.isEmpty && !all { throw ValidationError("give a filter option, or --all to delete every ACL") }
        }

        func run() async throws {
            let f = try filter.filter()
            let results = try await connection.withClient { try await KafkaAdmin(client: $0).deleteACLs([f]) }
            try output.report(results, text: { _, deleted in
                deleted.isEmpty ? "no ACL matched" : deleted.map { "deleted \($0)" }.joined(separator: "\n")
            }, object: { deleted in ["deleted": deleted.map(AclCommand.object)] })
        }
    }
}
