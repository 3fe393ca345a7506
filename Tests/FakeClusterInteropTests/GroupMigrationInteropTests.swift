import FakeCluster
import FakeClusterTCP
import Foundation
import Testing

/// KIP-848 online migration with librdkafka 2.16 (Scripts/group_migration.py) against a 4.0
/// FakeClusterTCP: three confluent-kafka members replaced one at a time by members of the other
/// protocol while records keep coming; every record read, no two owners, and the group the
/// coordinator holds at the end is of the new type.
@Suite struct GroupMigrationInteropTests {
    @Test(arguments: [("cooperative-sticky", "consumer"), ("range", "consumer"), ("consumer", "cooperative-sticky")])
    func librdkafkaRollsTheGroupToTheOtherProtocol(from: String, to: String) async throws {
        let group = "mig-\(from)-\(to)"
        try await withServer(brokers: 1, { $0.release = .v4_0; $0.topics = [.init(name: "mig", partitions: 6)] }) { server, bootstrap in
            let r = try await Peers.script("group_migration.py", [bootstrap, group, "mig", "6", from, to], timeout: 240)
            #expect(r.status == 0 && r.stdout.hasPrefix("OK"), "\(r.stdout)\(r.stderr.suffix(3000))")
            let type = try server.withCluster { c, _ in
                (c.describeConsumerGroup(group) != nil ? "consumer" : c.describeGroup(group) != nil ? "classic" : "none", [])
            }.wait()
            #expect(type == (to == "consumer" ? "consumer" : "classic"))
        }
    }
}
