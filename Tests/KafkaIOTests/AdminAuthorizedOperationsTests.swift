import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KIP-430's authorized operations through KafkaAdmin against FakeCluster with an
/// authorizer on: nil unless asked for; when asked, what the caller's ACLs allow (implied
/// operations included), changing as the super user grants more.
@Suite struct AdminAuthorizedOperationsTests {
    @Test func bitFieldDecoding() {
        #expect(AclOperation.operations(authorizedBits: Int32.min) == nil)
        #expect(AclOperation.operations(authorizedBits: 0) == [])
        #expect(AclOperation.operations(authorizedBits: (1 << 3) | (1 << 8)) == [.read, .describe])
        // Bits naming no operation (0, 15, 30) are ignored.
        #expect(AclOperation.operations(authorizedBits: 1 | (1 << 15) | (1 << 30) | (1 << 13)) == [.createTokens])
    }

    @Test func topicOperationsFollowTheAcls() async throws {
        let server = try AdminAuthorizationTests.server()
        defer { try? server.shutdown() }
        let a = try AdminAuthorizationTests.admins(server)
        try await AdminAuthorizationTests.allow(a.root, .topic, "orders", .describe)
        let plain = try #require(try await a.alice.describeTopics(["orders"]).first?.value)
        #expect(plain.authorizedOperations == nil)
        #expect(try await a.alice.describeTopics(["orders"], includeAuthorizedOperations: true).first?.value?.authorizedOperations == [.describe])
        try await AdminAuthorizationTests.allow(a.root, .topic, "orders", .write)
        try await AdminAuthorizationTests.allow(a.root, .topic, "orders", .alterConfigs)
        #expect(try await a.alice.describeTopics(["orders"], includeAuthorizedOperations: true).first?.value?.authorizedOperations
            == [.describe, .write, .alterConfigs, .describeConfigs])
        // A topic alice may not describe is still refused, operations or not.
        #expect(AdminAuthorizationTests.codes(try await a.alice.describeTopics(["logs"], includeAuthorizedOperations: true))
            == ["logs: TOPIC_AUTHORIZATION_FAILED"])
        let all = try #require(try await a.root.describeTopics(["logs"], includeAuthorizedOperations: true).first?.value?.authorizedOperations)
        #expect(all == [.read, .write, .create, .delete, .alter, .describe, .describeConfigs, .alterConfigs])
        await AdminAuthorizationTests.close(a)
    }

    @Test func clusterOperationsFollowTheAcls() async throws {
        let server = try AdminAuthorizationTests.server()
        defer { try? server.shutdown() }
        let a = try AdminAuthorizationTests.admins(server)
        let plain = try await a.alice.describeCluster()
        #expect(plain.authorizedOperations == nil)
        let none = try await a.alice.describeCluster(includeAuthorizedOperations: true)
        #expect(none.authorizedOperations == [] && none.brokers.map(\.id) == plain.brokers.map(\.id) && none.clusterId == plain.clusterId)
        try await AdminAuthorizationTests.allow(a.root, .cluster, "kafka-cluster", .alter)
        #expect(try await a.alice.describeCluster(includeAuthorizedOperations: true).authorizedOperations == [.alter, .describe])
        #expect(try await a.root.describeCluster(includeAuthorizedOperations: true).authorizedOperations
            == [.create, .clusterAction, .describeConfigs, .alterConfigs, .idempotentWrite, .alter, .describe])
        await AdminAuthorizationTests.close(a)
    }

    @Test func groupOperationsFollowTheAcls() async throws {
        let server = try AdminAuthorizationTests.server()
        defer { try? server.shutdown() }
        let a = try AdminAuthorizationTests.admins(server)
        // Nothing on the group: refused (its coordinator cannot even be found).
        let refused: Result<[AdminResult<GroupDescription>], KafkaAdminError>
        do { refused = .success(try await a.alice.describeGroups(["g"], includeAuthorizedOperations: true)) } catch { refused = .failure(error) }
        #expect(AdminAuthorizationTests.failureCode(refused) == .groupAuthorizationFailed, "\(refused)")
        try await AdminAuthorizationTests.allow(a.root, .group, "g", .describe)
        #expect(try await a.alice.describeGroups(["g"]).first?.value?.authorizedOperations == nil)
        #expect(try await a.alice.describeGroups(["g"], includeAuthorizedOperations: true).first?.value?.authorizedOperations == [.describe])
        try await AdminAuthorizationTests.allow(a.root, .group, "g", .read)
        #expect(try await a.alice.describeGroups(["g"], includeAuthorizedOperations: true).first?.value?.authorizedOperations == [.describe, .read])
        #expect(try await a.root.describeGroups(["g"], includeAuthorizedOperations: true).first?.value?.authorizedOperations
            == [.read, .describe, .delete])
        await AdminAuthorizationTests.close(a)
    }
}
