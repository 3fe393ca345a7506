import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Testing

/// `kgo group describe` (the built binary) against FakeClusterTCP: a KIP-848 consumer group is
/// described by ConsumerGroupDescribe (member epochs, assignment and target, assignor) and a
/// classic group by DescribeGroups, on a 4.0 cluster and on one without the KIP-848 APIs.
@Suite(.serialized) struct KgoGroupCommandTests {
    typealias Group = ConsumerProtocolGroupTests

    static func describe(_ server: FakeClusterServer, _ group: String) async throws -> (status: Int32, output: String) {
        try await KgoCommandTests.kgo(["group", "describe", "-b", KgoCommandTests.bootstrap(server), group])
    }

    /// `kgo group describe --json`, parsed.
    static func describeJSON(_ server: FakeClusterServer, _ group: String) async throws -> [String: Any] {
        let (status, output) = try await KgoCommandTests.kgo(["group", "describe", "--json", "-b", KgoCommandTests.bootstrap(server), group])
        #expect(status == 0, "\(output)")
        let object = try JSONSerialization.jsonObject(with: Data(output.utf8))
        return try #require(object as? [String: Any], "\(output)")
    }

    static func list(_ tps: [TopicPartition]) -> String {
        tps.isEmpty ? "(none)" : tps.sorted().map { "\($0.topic)/\($0.partition)" }.joined(separator: ",")
    }

    @Test func aConsumerGroupShowsEpochsAssignmentsTargetsAndTheAssignor() async throws {
        try await Group.run(try Group.server()) { server, tally in
            try await Group.produce(server, count: 5)
            let a = try Group.Member("A", server, tally: tally) { $0.serverAssignor = "range" }
            let b = try Group.Member("B", server, tally: tally) { $0.serverAssignor = "range"; $0.instanceId = "b-pod" }
            try await Group.waitUntil("A and B to own three each", tally) { tally.split(["A", "B"], each: 3, total: 6) }
            try await Group.waitUntil("every record read", tally) { tally.missing("t", partitions: 6, perPartition: 5) == 0 }
            _ = try await a.consumer.commit()
            _ = try await b.consumer.commit()
            let snap = try #require(try await Group.snapshot(server))
            let (status, output) = try await Self.describe(server, "g")
            #expect(status == 0, "\(output)")
            #expect(output.hasPrefix("group g: consumer protocol (KIP-848), state \(snap.state), group epoch \(snap.groupEpoch), assignment epoch \(snap.assignmentEpoch), assignor range, 2 members\n"),
                    "\(output)")
            for m in snap.members {
                let line = output.split(separator: "\n").first { $0.contains("member \(m.memberId)") }.map(String.init) ?? ""
                #expect(line.contains("epoch \(m.memberEpoch) subscribed t: \(Self.list(m.assigned)), target \(Self.list(m.target))"), "\(line)\n\(snap)")
                #expect(line.contains(m.instanceId.map { "instance \($0) client B" } ?? "client A"), "\(line)")
            }
            #expect(output.contains("t 0 5 5 0\n") && output.contains("total lag 0\n"), "\(output)")
            // The same facts as JSON.
            let json = try await Self.describeJSON(server, "g")
            #expect(json["groupProtocol"] as? String == "consumer" && json["assignor"] as? String == "range")
            #expect(json["groupEpoch"] as? Int == Int(snap.groupEpoch) && json["totalLag"] as? Int == 0, "\(json)")
            let members = json["members"] as? [[String: Any]] ?? []
            #expect(members.count == 2)
            for m in snap.members {
                let member = members.first { $0["memberId"] as? String == m.memberId }
                #expect(member?["memberEpoch"] as? Int == Int(m.memberEpoch), "\(members)")
                #expect((member?["assignment"] as? [[String: Any]])?.count == m.assigned.count, "\(members)")
            }
            let offsets = json["offsets"] as? [[String: Any]] ?? []
            #expect(offsets.count == 6 && offsets.allSatisfy { $0["committed"] as? Int == 5 && $0["lag"] as? Int == 0 }, "\(offsets)")
            await a.leave()
            await b.leave()
        }
    }

    /// A classic group on the same 4.0 cluster (ConsumerGroupDescribe: not a consumer group)
    /// and on a 3.6 cluster (no ConsumerGroupDescribe at all): DescribeGroups' view.
    @Test(arguments: [true, false])
    func aClassicGroupIsDescribedByDescribeGroups(fourZero: Bool) async throws {
        let server = fourZero ? try Group.server()
            : try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)], release: KafkaRelease(3, 6),
                                                            topics: [.init(name: "t", partitions: 6)]))
        try await Group.run(server) { server, tally in
            let a = try Group.Member("A", server, tally: tally, groupId: "old") { $0.groupProtocol = .classic; $0.sessionTimeout = .seconds(6) }
            try await Group.waitUntil("A to own all six", tally) { tally.split(["A"], each: 6, total: 6) }
            let (status, output) = try await Self.describe(server, "old")
            #expect(status == 0, "\(output)")
            #expect(output.hasPrefix("group old: state Stable, protocol type consumer, protocol cooperative-sticky, 1 members\n"), "\(output)")
            #expect(output.contains("client A") && output.contains(": t/0,t/1,t/2,t/3,t/4,t/5\n"), "\(output)")
            #expect(!output.contains("KIP-848"))
            let json = try await Self.describeJSON(server, "old")
            #expect(json["groupProtocol"] as? String == "classic" && json["state"] as? String == "Stable" && json["protocol"] as? String == "cooperative-sticky")
            let members = json["members"] as? [[String: Any]] ?? []
            #expect(members.count == 1 && members.first?["clientId"] as? String == "A", "\(members)")
            #expect((members.first?["assignment"] as? [[String: Any]])?.count == 6, "\(members)")
            await a.leave()
        }
    }
}
