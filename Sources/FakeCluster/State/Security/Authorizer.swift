/// Kafka's ACL authorizer (StandardAuthorizer's rules, as documented for
/// `allow.everyone.if.no.acl.found=false`): a super user may do anything; otherwise an
/// operation on a resource is allowed when an ALLOW ACL matches it and no DENY ACL does.
/// An ACL matches when its resource matches (literal name, literal "*", or a prefix of the
/// name), its principal is the caller's or "User:*", its host is "*" or the caller's, and its
/// operation is the one asked or ALL. An ALLOW of READ, WRITE, DELETE or ALTER also allows
/// DESCRIBE, and an ALLOW of ALTER_CONFIGS allows DESCRIBE_CONFIGS (DENY implies nothing).
struct Authorizer: Sendable, Equatable {
    enum Operation: Int8, Sendable {
        case all = 2, read, write, create, delete, alter, describe, clusterAction, describeConfigs, alterConfigs
        case idempotentWrite, createTokens, describeTokens
    }

    enum ResourceType: Int8, Sendable {
        case topic = 2, group, cluster, transactionalId, delegationToken, user
    }

    static let deny: Int8 = 2
    static let allow: Int8 = 3
    /// The principal of a connection that has not authenticated (Kafka's).
    static let anonymous = "User:ANONYMOUS"
    /// The client host every in-process connection is taken to come from.
    static let clientHost = "127.0.0.1"

    var superUsers: Set<String>

    func allows(_ principal: String, _ op: Operation, _ type: ResourceType, _ name: String, acls: AclStore) -> Bool {
        if superUsers.contains(principal) { return true }
        var allowed = false
        for a in acls.acls where a.resourceType == type.rawValue && Self.resourceMatches(a, name)
            && (a.principal == principal || a.principal == "User:*") && (a.host == "*" || a.host == Self.clientHost) {
            if a.permission == Self.deny, a.operation == op.rawValue || a.operation == Operation.all.rawValue { return false }
            if a.permission == Self.allow, Self.grants(a.operation, op) { allowed = true }
        }
        return allowed
    }

    /// The operations Kafka reports for a resource type in authorized-operations fields
    /// (KIP-430): ALL and ANY are never reported.
    static func reportedOperations(_ type: ResourceType) -> [Operation] {
        switch type {
        case .topic: return [.read, .write, .create, .delete, .alter, .describe, .describeConfigs, .alterConfigs]
        case .group: return [.read, .describe, .delete]
        case .cluster: return [.create, .clusterAction, .describeConfigs, .alterConfigs, .idempotentWrite, .alter, .describe]
        case .transactionalId: return [.describe, .write]
        case .delegationToken: return [.describe]
        case .user: return [.createTokens, .describeTokens]
        }
    }

    /// KIP-430's bit field: bit `op` set for each reported operation `principal` may do.
    func authorizedOperations(_ principal: String, _ type: ResourceType, _ name: String, acls: AclStore) -> Int32 {
        Self.reportedOperations(type).reduce(Int32(0)) { bits, op in
            allows(principal, op, type, name, acls: acls) ? bits | (Int32(1) << Int32(op.rawValue)) : bits
        }
    }

    /// What an authorized-operations field holds when the client did not ask.
    static let operationsNotAsked = Int32.min

    static func resourceMatches(_ a: AclStore.Acl, _ name: String) -> Bool {
        a.patternType == AclStore.prefixed ? name.hasPrefix(a.resourceName) : (a.resourceName == name || a.resourceName == "*")
    }

    /// Whether an ALLOW of `granted` allows `op`.
    static func grants(_ granted: Int8, _ op: Operation) -> Bool {
        if granted == op.rawValue || granted == Operation.all.rawValue { return true }
        switch op {
        case .describe:
            return [Operation.read, .write, .delete, .alter].contains { $0.rawValue == granted }
        case .describeConfigs:
            return granted == Operation.alterConfigs.rawValue
        default:
            return false
        }
    }
}
