import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin's client-quota calls against FakeCluster's TCP listener: set and remove on
/// named and default entities, per-entity refusals beside the changes applied, and
/// DescribeClientQuotas' exact/default/any matching with and without strict.
@Suite struct AdminQuotaTests {
    @Test func quotasAlteredAndDescribedByFilter() async throws {
        let server = try AdminTests.server()
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }

        let alice = ClientQuotaEntity.user("alice")
        let defaultUser = ClientQuotaEntity.user(nil)
        // Given client-id first: kept in Kafka's order (user, client-id).
        let aliceApp = ClientQuotaEntity([QuotaEntityComponent(.clientId, "app"), QuotaEntityComponent(.user, "alice")])
        let ip = ClientQuotaEntity.ip("10.0.0.1")
        let altered = try await admin.alterClientQuotas([
            ClientQuotaAlteration(alice, [.set("producer_byte_rate", 1024), .set("consumer_byte_rate", 2048)]),
            ClientQuotaAlteration(defaultUser, [.set("request_percentage", 50)]),
            ClientQuotaAlteration(aliceApp, [.set("producer_byte_rate", 512)]),
            ClientQuotaAlteration(ip, [.set("connection_creation_rate", 10)]),
            ClientQuotaAlteration(.clientId("x"), [.set("producer_byte_rate", -1)]),
            ClientQuotaAlteration(ClientQuotaEntity([QuotaEntityComponent(.ip, "1.2.3.4"), QuotaEntityComponent(.user, "u")]), [.remove("a")]),
            ClientQuotaAlteration(.user("bob"), []),
            ClientQuotaAlteration(.clientId("y"), [.set("not_a_quota", 1)]),
            ClientQuotaAlteration(.ip("10.0.0.2"), [.set("producer_byte_rate", 1)]),
        ])
        #expect(AdminTests.outcomes(altered) == [
            "user=alice: ok", "user=<default>: ok", "user=alice,client-id=app: ok", "ip=10.0.0.1: ok",
            "client-id=x: client-id=x: quota producer_byte_rate must be a positive number",
            "user=u,ip=1.2.3.4: user=u,ip=1.2.3.4: an ip entity stands alone",
            "user=bob: user=bob: no operations",
            // The broker's refusals: an unknown key, a client key on an ip.
            "client-id=y: INVALID_REQUEST: Invalid configuration key not_a_quota",
            "ip=10.0.0.2: INVALID_REQUEST: Invalid configuration key producer_byte_rate",
        ])
        #expect(aliceApp.description == "user=alice,client-id=app")

        let all = try await admin.describeClientQuotas([])
        #expect(all.map(\.entity) == [alice, defaultUser, aliceApp, ip])
        #expect(all[0].values == ["producer_byte_rate": 1024, "consumer_byte_rate": 2048])
        #expect(try await admin.describeClientQuotas([ClientQuotaFilter(.user, .exact("alice"))]).map(\.entity) == [alice, aliceApp])
        #expect(try await admin.describeClientQuotas([ClientQuotaFilter(.user, .exact("alice"))], strict: true).map(\.entity) == [alice])
        #expect(try await admin.describeClientQuotas([ClientQuotaFilter(.user, .defaultEntity)]).map(\.entity) == [defaultUser])
        #expect(try await admin.describeClientQuotas([ClientQuotaFilter(.user, .any), ClientQuotaFilter(.clientId, .any)]).map(\.entity) == [aliceApp])
        #expect(try await admin.describeClientQuotas([ClientQuotaFilter(.ip, .any)]).map(\.entity) == [ip])
        await #expect(throws: KafkaAdminError.invalidArgument("describeClientQuotas", reason: "each entity type is filtered at most once")) {
            _ = try await admin.describeClientQuotas([ClientQuotaFilter(.user, .any), ClientQuotaFilter(.user, .defaultEntity)])
        }

        // Removing one key keeps the others; removing the last drops the entity. validateOnly changes nothing.
        #expect(AdminTests.outcomes(try await admin.alterClientQuotas([ClientQuotaAlteration(ip, [.remove("connection_creation_rate")])],
                                                                      validateOnly: true)) == ["ip=10.0.0.1: ok"])
        let removed = try await admin.alterClientQuotas([
            ClientQuotaAlteration(alice, [.remove("consumer_byte_rate"), .set("producer_byte_rate", 4096)]),
            ClientQuotaAlteration(defaultUser, [.remove("request_percentage")]),
        ])
        #expect(AdminTests.outcomes(removed) == ["user=alice: ok", "user=<default>: ok"])
        let after = try await admin.describeClientQuotas([ClientQuotaFilter(.user, .any)], strict: true)
        #expect(after.map(\.entity) == [alice])
        #expect(after[0].values == ["producer_byte_rate": 4096])
        #expect(try await admin.describeClientQuotas([ClientQuotaFilter(.ip, .exact("10.0.0.1"))]).map(\.values) == [["connection_creation_rate": 10]])
    }

    /// Client quota APIs are Kafka 2.6+.
    @Test func aBrokerBeforeQuotaAPIsIsToldByRelease() async throws {
        let server = try AdminTests.server(brokers: 1, release: KafkaRelease(2, 5))
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        await #expect(throws: KafkaAdminError.unsupportedByBroker(call: "describeClientQuotas", api: .describeClientQuotas, version: 0, release: KafkaRelease(2, 6))) {
            _ = try await admin.describeClientQuotas([])
        }
    }
}
