import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin's ACL calls against FakeCluster's TCP listener: per-item refusals beside the
/// ACLs stored, Kafka's filter matching (ANY, MATCH against literal, "*" and prefixed
/// ACLs), deletes reporting what each filter removed, and a broker too old for pattern types.
@Suite struct AdminACLTests {
    static let alice = "User:alice", bob = "User:bob"

    @Test func aclsCreatedDescribedByFilterAndDeleted() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }

        let readOrders = AclBinding(.topic, "orders", principal: Self.alice, operation: .read)
        let writeOrdersPrefix = AclBinding(.topic, "ord", patternType: .prefixed, principal: Self.bob, operation: .write)
        let denyAll = AclBinding(.topic, "*", principal: Self.bob, host: "10.0.0.1", operation: .all, permission: .deny)
        let groupRead = AclBinding(.group, "g1", principal: Self.alice, operation: .read)
        let clusterBad = AclBinding(.cluster, "other", principal: Self.alice, operation: .alter)
        let created = try await admin.createACLs([
            readOrders, writeOrdersPrefix, denyAll, groupRead,
            AclBinding(.topic, "orders", principal: "alice", operation: .read),
            AclBinding(.any, "x", principal: Self.alice, operation: .read),
            AclBinding(.topic, "x", patternType: .match, principal: Self.alice, operation: .read),
            AclBinding(.topic, "x", principal: Self.alice, operation: .any),
            readOrders,
            clusterBad,
        ])
        #expect(AdminTests.outcomes(created) == [
            "\(readOrders): ok", "\(writeOrdersPrefix): ok", "\(denyAll): ok", "\(groupRead): ok",
            "ALLOW alice@* READ TOPIC:LITERAL:orders: ALLOW alice@* READ TOPIC:LITERAL:orders: principal \"alice\" is not of the form Type:name (User:alice)",
            "ALLOW User:alice@* READ ANY:LITERAL:x: ALLOW User:alice@* READ ANY:LITERAL:x: an ACL names one resource type, not ANY",
            "ALLOW User:alice@* READ TOPIC:MATCH:x: ALLOW User:alice@* READ TOPIC:MATCH:x: an ACL's pattern type is LITERAL or PREFIXED",
            "ALLOW User:alice@* ANY TOPIC:LITERAL:x: ALLOW User:alice@* ANY TOPIC:LITERAL:x: an ACL names one operation (or ALL), not ANY",
            "\(readOrders): \(readOrders) named more than once",
            // The broker's own refusal, beside the others stored.
            "\(clusterBad): INVALID_REQUEST: The only valid name for the CLUSTER resource is kafka-cluster",
        ])
        // Creating an ACL that exists succeeds and stores it once.
        #expect(AdminTests.outcomes(try await admin.createACLs([readOrders])) == ["\(readOrders): ok"])

        #expect(try await admin.describeACLs() == [readOrders, writeOrdersPrefix, denyAll, groupRead])
        #expect(try await admin.describeACLs(AclFilter(.topic)) == [readOrders, writeOrdersPrefix, denyAll])
        // A name with ANY (or a named pattern type) is matched exactly.
        #expect(try await admin.describeACLs(AclFilter(.topic, "orders")) == [readOrders])
        #expect(try await admin.describeACLs(AclFilter(.topic, "orders", patternType: .prefixed)) == [])
        #expect(try await admin.describeACLs(AclFilter(.topic, "ord", patternType: .prefixed)) == [writeOrdersPrefix])
        // MATCH: every ACL that applies to the name: literal, wildcard and prefixes.
        #expect(try await admin.describeACLs(AclFilter(.topic, "orders", patternType: .match)) == [readOrders, writeOrdersPrefix, denyAll])
        #expect(try await admin.describeACLs(AclFilter(.topic, "other", patternType: .match)) == [denyAll])
        #expect(try await admin.describeACLs(AclFilter(.any, "g1", patternType: .match)) == [denyAll, groupRead])
        #expect(try await admin.describeACLs(AclFilter(patternType: .literal)) == [readOrders, denyAll, groupRead])
        #expect(try await admin.describeACLs(AclFilter(principal: Self.bob, host: "10.0.0.1")) == [denyAll])
        #expect(try await admin.describeACLs(AclFilter(operation: .write, permission: .allow)) == [writeOrdersPrefix])
        #expect(try await admin.describeACLs(AclFilter(permission: .deny)) == [denyAll])
        await #expect(throws: KafkaAdminError.invalidArgument(AclFilter(principal: "bob").description,
                                                              reason: "principal \"bob\" is not of the form Type:name (User:alice)")) {
            _ = try await admin.describeACLs(AclFilter(principal: "bob"))
        }

        // Each ACL is reported under the first filter that matches it; a bad filter fails alone.
        let deleted = try await admin.deleteACLs([
            AclFilter(principal: Self.alice, operation: .read),
            AclFilter(.topic, "orders", patternType: .match),
            AclFilter(principal: "nobody"),
            AclFilter(.user, "x"),
        ])
        #expect(AdminTests.outcomes(deleted).map { $0.hasSuffix(": ok") } == [true, true, false, true])
        #expect(deleted[0].value == [readOrders, groupRead])
        #expect(deleted[1].value == [writeOrdersPrefix, denyAll])
        #expect(deleted[3].value == [])
        #expect(try await admin.describeACLs() == [])
    }

    /// What was created stays across a broker's restart (the cluster's state, not a broker's).
    @Test func aclsSurviveABrokerRestart() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        let acl = AclBinding(.transactionalId, "tx-", patternType: .prefixed, principal: Self.alice, operation: .write)
        #expect(AdminTests.outcomes(try await admin.createACLs([acl])) == ["\(acl): ok"])
        try await server.withCluster { cluster, now in ((), cluster.stopBroker(1, now: now) + cluster.restartBroker(1, now: now)) }.get()
        #expect(try await admin.describeACLs(AclFilter(.transactionalId)) == [acl])
    }

    /// Pattern types (KIP-290) need CreateAcls v1, Kafka 2.0.
    @Test func aBrokerBeforePatternTypesIsToldByRelease() async throws {
        let server = try AdminTests.server(brokers: 1, release: KafkaRelease(1, 1))
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        await #expect(throws: KafkaAdminError.unsupportedByBroker(call: "createACLs", api: .createAcls, version: 1, release: KafkaRelease(2, 0))) {
            _ = try await admin.createACLs([AclBinding(.topic, "t", principal: Self.alice, operation: .read)])
        }
    }
}
