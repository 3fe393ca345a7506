@testable import FakeCluster
import Testing

/// The authorizer's rules (StandardAuthorizer's, allow.everyone.if.no.acl.found=false), one
/// per test: no ACL denies, DENY beats ALLOW, resource patterns, principal and host
/// wildcards, implied DESCRIBE / DESCRIBE_CONFIGS, super users.
@Suite struct AuthorizerTests {
    static func acl(_ name: String, _ op: Authorizer.Operation, principal: String = "User:alice", host: String = "*",
                    pattern: Int8 = AclStore.literal, type: Authorizer.ResourceType = .topic, deny: Bool = false) -> AclStore.Acl {
        AclStore.Acl(resourceType: type.rawValue, resourceName: name, patternType: pattern, principal: principal, host: host,
                     operation: op.rawValue, permission: deny ? Authorizer.deny : Authorizer.allow)
    }

    static func store(_ acls: [AclStore.Acl]) -> AclStore {
        var s = AclStore()
        for a in acls { s.add(a) }
        return s
    }

    let auth = Authorizer(superUsers: ["User:root"])

    @Test func noAclDeniesAndSuperUsersPass() {
        let s = Self.store([])
        #expect(!auth.allows("User:alice", .read, .topic, "t", acls: s))
        #expect(auth.allows("User:root", .alter, .cluster, "kafka-cluster", acls: s))
    }

    @Test func denyBeatsAllowAndAllCoversEveryOperation() {
        let s = Self.store([Self.acl("t", .all), Self.acl("t", .write, deny: true)])
        #expect(auth.allows("User:alice", .read, .topic, "t", acls: s))
        #expect(!auth.allows("User:alice", .write, .topic, "t", acls: s))
        let denyAll = Self.store([Self.acl("t", .read), Self.acl("*", .all, principal: "User:*", deny: true)])
        #expect(!auth.allows("User:alice", .read, .topic, "t", acls: denyAll))
    }

    @Test func literalWildcardAndPrefixedResources() {
        let s = Self.store([Self.acl("orders", .read), Self.acl("logs-", .write, pattern: AclStore.prefixed),
                            Self.acl("*", .describe, type: .group)])
        #expect(auth.allows("User:alice", .read, .topic, "orders", acls: s))
        #expect(!auth.allows("User:alice", .read, .topic, "orders2", acls: s))
        #expect(auth.allows("User:alice", .write, .topic, "logs-eu", acls: s))
        #expect(!auth.allows("User:alice", .write, .topic, "log", acls: s))
        #expect(auth.allows("User:alice", .describe, .group, "any-group", acls: s))
        // The resource type must match too.
        #expect(!auth.allows("User:alice", .read, .group, "orders", acls: s))
    }

    @Test func principalAndHostWildcards() {
        let s = Self.store([Self.acl("t", .read, principal: "User:*"), Self.acl("u", .read, host: "10.0.0.9"),
                            Self.acl("v", .read, host: Authorizer.clientHost)])
        #expect(auth.allows("User:bob", .read, .topic, "t", acls: s))
        #expect(auth.allows(Authorizer.anonymous, .read, .topic, "t", acls: s))
        #expect(!auth.allows("User:alice", .read, .topic, "u", acls: s))
        #expect(auth.allows("User:alice", .read, .topic, "v", acls: s))
        #expect(!auth.allows("User:bob", .read, .topic, "v", acls: s))
    }

    @Test func impliedDescribeOnlyFromAllow() {
        let s = Self.store([Self.acl("t", .write), Self.acl("c", .alterConfigs)])
        #expect(auth.allows("User:alice", .describe, .topic, "t", acls: s))
        #expect(!auth.allows("User:alice", .read, .topic, "t", acls: s))
        #expect(auth.allows("User:alice", .describeConfigs, .topic, "c", acls: s))
        #expect(!auth.allows("User:alice", .describe, .topic, "c", acls: s))
        // A DENY of READ does not deny DESCRIBE.
        let d = Self.store([Self.acl("t", .describe), Self.acl("t", .read, deny: true)])
        #expect(auth.allows("User:alice", .describe, .topic, "t", acls: d))
    }

    /// KIP-430's bit field: one bit per reported operation allowed (bit n: wire value n),
    /// implied operations included, ALL never reported; a super user gets every one.
    @Test func authorizedOperationsBitField() {
        let s = Self.store([Self.acl("t", .write), Self.acl("t", .alterConfigs), Self.acl("t", .delete, deny: true)])
        // WRITE (4), DESCRIBE implied by WRITE (8), ALTER_CONFIGS (11), DESCRIBE_CONFIGS implied by it (10).
        #expect(auth.authorizedOperations("User:alice", .topic, "t", acls: s) == (1 << 4) | (1 << 8) | (1 << 10) | (1 << 11))
        #expect(auth.authorizedOperations("User:alice", .topic, "u", acls: s) == 0)
        // ALL on a group: the group's three operations, not ALL's own bit.
        let g = Self.store([Self.acl("g", .all, type: .group)])
        #expect(auth.authorizedOperations("User:alice", .group, "g", acls: g) == (1 << 3) | (1 << 6) | (1 << 8))
        let cluster = Authorizer.reportedOperations(.cluster).reduce(Int32(0)) { $0 | (1 << Int32($1.rawValue)) }
        #expect(auth.authorizedOperations("User:root", .cluster, "kafka-cluster", acls: s) == cluster)
        #expect(cluster == 0b1_1111_1010_0000)
    }
}
