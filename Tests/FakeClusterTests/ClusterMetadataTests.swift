import Testing
@testable import FakeCluster

@Suite struct ClusterMetadataTests {
    func cluster(_ n: Int32 = 3, racks: [String?]? = nil) -> ClusterMetadata {
        ClusterMetadata(brokers: (0 ..< n).map { i in
            .init(nodeId: 100 + i, host: "b\(i)", port: 9092, rack: racks?[Int(i)])
        })
    }

    @Test func createTopicPlacesReplicasDeterministically() throws {
        var rng1 = SeededGenerator(seed: 42), rng2 = SeededGenerator(seed: 42)
        var a = cluster(), b = cluster()
        let t1 = try a.createTopic(name: "orders", partitions: 4, replicationFactor: 2, using: &rng1).get()
        let t2 = try b.createTopic(name: "orders", partitions: 4, replicationFactor: 2, using: &rng2).get()
        #expect(t1 == t2)
        #expect(t1.id != .zero)
        #expect(t1.partitions.count == 4)
        for p in t1.partitions {
            #expect(p.replicas.count == 2)
            #expect(Set(p.replicas).count == 2)
            #expect(p.leader == p.replicas[0])
            #expect(p.isr == p.replicas)
            #expect(p.leaderEpoch == 0)
        }
        // Leaders spread round robin.
        #expect(Set(t1.partitions.map(\.leader)).count == 3)
        #expect(a.topic(id: t1.id)?.name == "orders")
    }

    @Test func createTopicErrors() {
        var rng = SeededGenerator(seed: 1)
        var c = cluster()
        #expect(c.createTopic(name: "bad name", using: &rng) == .failure(.invalidTopicException))
        #expect(c.createTopic(name: "t", partitions: 0, using: &rng) == .failure(.invalidPartitions))
        #expect(c.createTopic(name: "t", replicationFactor: 4, using: &rng) == .failure(.invalidReplicationFactor))
        _ = c.createTopic(name: "t", using: &rng)
        #expect(c.createTopic(name: "t", using: &rng) == .failure(.topicAlreadyExists))
        #expect(c.deleteTopic("t") == .noError)
        #expect(c.deleteTopic("t") == .unknownTopicOrPartition)
    }

    @Test func explicitAssignmentsAndAddPartitions() throws {
        var rng = SeededGenerator(seed: 1)
        var c = cluster()
        let t = try c.createTopic(name: "t", assignments: [[102, 100]], using: &rng).get()
        #expect(t.partitions[0].leader == 102)
        let added = try c.addPartitions(topic: "t", totalCount: 3, using: &rng).get()
        #expect(added.map(\.index) == [1, 2])
        #expect(added.allSatisfy { $0.replicas.count == 2 })
        #expect(c.addPartitions(topic: "t", totalCount: 2, using: &rng) == .failure(.invalidPartitions))
        #expect(c.addPartitions(topic: "nope", totalCount: 2, using: &rng) == .failure(.unknownTopicOrPartition))
    }

    @Test func moveLeaderBumpsEpoch() throws {
        var rng = SeededGenerator(seed: 1)
        var c = cluster()
        _ = c.createTopic(name: "t", assignments: [[100, 101, 102]], using: &rng)
        let change = try c.moveLeader(tp("t", 0), to: 102).get()
        #expect(change == .init(topicPartition: tp("t", 0), newLeader: 102, epoch: 1))
        #expect(c.partition(tp("t", 0))?.leader == 102)
        let next = try c.moveLeader(tp("t", 0)).get()   // next live ISR member in replica order
        #expect(next.newLeader == 100 && next.epoch == 2)
        _ = c.setISR(tp("t", 0), [100, 101])
        #expect(c.moveLeader(tp("t", 0), to: 102) == .failure(.notLeaderOrFollower))
    }

    @Test func stopBrokerMovesLeadersOrGoesOffline() throws {
        var rng = SeededGenerator(seed: 1)
        var c = cluster()
        _ = c.createTopic(name: "t", assignments: [[100, 101], [100]], using: &rng)
        let changes = try c.stopBroker(100).get()
        #expect(changes == [.init(topicPartition: tp("t", 0), newLeader: 101, epoch: 1),
                            .init(topicPartition: tp("t", 1), newLeader: -1, epoch: 1)])
        #expect(c.partition(tp("t", 0))?.isr == [101])
        #expect(c.partition(tp("t", 1))?.isr == [100])       // last ISR member kept
        #expect(c.partition(tp("t", 0))?.offlineReplicas == [100])
        #expect(c.controllerId == 101)
        let back = try c.restartBroker(100).get()
        #expect(back == [.init(topicPartition: tp("t", 1), newLeader: 100, epoch: 2)])
        #expect(c.partition(tp("t", 0))?.leader == 101)       // no preferred-leader election
        c.addToISR(tp("t", 0), 100)
        #expect(c.partition(tp("t", 0))?.isr == [100, 101])
    }

    @Test func setReplicasElectsWhenLeaderRemoved() throws {
        var rng = SeededGenerator(seed: 1)
        var c = cluster()
        _ = c.createTopic(name: "t", assignments: [[100, 101]], using: &rng)
        let change = try c.setReplicas(tp("t", 0), replicas: [101, 102], isr: [102, 101]).get()
        #expect(change?.newLeader == 101)
        #expect(c.partition(tp("t", 0))?.isr == [101, 102])
        #expect(c.setReplicas(tp("t", 0), replicas: [101], isr: [102]) == .failure(.invalidRequest))
    }

    @Test func preferredReadReplicaByRack() throws {
        var rng = SeededGenerator(seed: 1)
        var c = cluster(racks: ["a", "b", "c"])
        _ = c.createTopic(name: "t", assignments: [[100, 101, 102]], using: &rng)
        #expect(c.preferredReadReplica(tp("t", 0), clientRack: "b") == 101)
        #expect(c.preferredReadReplica(tp("t", 0), clientRack: "a") == nil)   // leader's rack
        #expect(c.preferredReadReplica(tp("t", 0), clientRack: "z") == nil)
        #expect(c.preferredReadReplica(tp("t", 0), clientRack: nil) == nil)
        _ = c.stopBroker(101)
        #expect(c.preferredReadReplica(tp("t", 0), clientRack: "b") == nil)
    }
}
