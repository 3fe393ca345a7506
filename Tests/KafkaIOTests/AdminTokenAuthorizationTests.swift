import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// Delegation tokens against FakeCluster with an authorizer on (KIP-373): creating a token
/// for another owner needs CREATE_TOKENS on that owner's USER resource; descriptions list the
/// caller's own tokens, and others' only with DESCRIBE_TOKENS on the owner (or DESCRIBE on
/// the token); renewal stays the owner's, requester's and renewers' whatever the ACLs.
@Suite struct AdminTokenAuthorizationTests {
    static func server() throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], users: ["alice", "bob", "admin"].map {
            .init(mechanism: .plain, name: $0, password: "pw-\($0)")
        })
        config.autoCreateTopics = false
        config.authorization = true
        config.superUsers = ["User:admin"]
        return try FakeClusterServer.start(config)
    }

    static func admin(_ server: FakeClusterServer, as user: String) throws -> KafkaAdmin {
        KafkaAdmin(client: try KafkaClient(configuration: AuthorizationTests.configuration(server, as: user), logger: TestEnvironment.logger))
    }

    static func allowAlice(_ root: KafkaAdmin, _ type: AclResourceType, _ name: String, _ op: AclOperation) async throws {
        let acl = AclBinding(type, name, patternType: .literal, principal: "User:alice", operation: op)
        #expect(AdminTests.outcomes(try await root.createACLs([acl])) == ["\(acl): ok"])
    }

    @Test func creatingForAnotherOwnerNeedsCreateTokensOnThatUser() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let root = try Self.admin(server, as: "admin"), alice = try Self.admin(server, as: "alice")
        defer { Task { [root, alice] in await root.client.close(); await alice.client.close() } }

        // For herself alice needs no ACL; for bob she is refused until granted on User:bob.
        let own = try await alice.createDelegationToken()
        #expect(own.owner == "User:alice")
        await #expect(throws: KafkaAdminError.broker(.delegationTokenAuthorizationFailed, message: nil)) {
            try await alice.createDelegationToken(owner: "User:bob")
        }
        // A grant on another user does not help.
        try await Self.allowAlice(root, .user, "User:carol", .createTokens)
        await #expect(throws: KafkaAdminError.broker(.delegationTokenAuthorizationFailed, message: nil)) {
            try await alice.createDelegationToken(owner: "User:bob")
        }
        try await Self.allowAlice(root, .user, "User:bob", .createTokens)
        let forBob = try await alice.createDelegationToken(owner: "User:bob")
        #expect(forBob.owner == "User:bob" && forBob.requester == "User:alice")
        // The super user needs no ACL.
        #expect(try await root.createDelegationToken(owner: "User:dave").owner == "User:dave")
    }

    @Test func descriptionsNeedOwnershipOrDescribeTokens() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let root = try Self.admin(server, as: "admin"), alice = try Self.admin(server, as: "alice")
        let bob = try Self.admin(server, as: "bob")
        defer { Task { [root, alice, bob] in for a in [root, alice, bob] { await a.client.close() } } }

        let alices = try await alice.createDelegationToken()
        let bobs = try await bob.createDelegationToken()
        let bobsForAlice = try await bob.createDelegationToken(renewers: ["User:alice"])
        let carols = try await root.createDelegationToken(owner: "User:carol")

        // Her own and the one she may renew; not bob's other token nor carol's.
        #expect(try await alice.describeDelegationTokens().map(\.tokenId) == [alices.tokenId, bobsForAlice.tokenId])
        #expect(try await alice.describeDelegationTokens(owners: ["User:carol"]).isEmpty)
        // A renewer that is not the owner still may not renew a token not listing it.
        await #expect(throws: KafkaAdminError.broker(.delegationTokenOwnerMismatch, message: nil)) {
            try await alice.renewDelegationToken(hmac: bobs.hmac)
        }

        try await Self.allowAlice(root, .user, "User:bob", .describeTokens)
        #expect(try await alice.describeDelegationTokens().map(\.tokenId) == [alices.tokenId, bobs.tokenId, bobsForAlice.tokenId])
        // DESCRIBE_TOKENS lets her see bob's tokens, not renew them.
        await #expect(throws: KafkaAdminError.broker(.delegationTokenOwnerMismatch, message: nil)) {
            try await alice.renewDelegationToken(hmac: bobs.hmac)
        }

        // DESCRIBE on one token (a DELEGATION_TOKEN resource named by its id) shows that one.
        try await Self.allowAlice(root, .delegationToken, carols.tokenId, .describe)
        #expect(try await alice.describeDelegationTokens(owners: ["User:carol"]).map(\.tokenId) == [carols.tokenId])
        // The super user sees every token.
        #expect(try await root.describeDelegationTokens().count == 4)
    }
}
