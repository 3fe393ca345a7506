import Testing
@testable import KafkaSimulation
@testable import KafkaStateMachines

/// KIP-848 in the group simulation: the directives that put consumer-protocol members in a
/// run, the `coordinator-owned` invariant fed bad histories, and short runs that show the
/// members really speak the consumer protocol and a protocol switch really happens.
@Suite struct GroupConsumerProtocolTests {
    let a = TopicPartition("t", 0), b = TopicPartition("t", 1)

    @Test func parsesTheConsumerProtocolDirectives() throws {
        let plan = try GroupScenario.parse("""
            group g
            protocol consumer
            assignor range
            switch-protocol count 2 until 10s
            at 3s switch-protocol
            at 4s inject-group-error g consumer-group-heartbeat NOT_COORDINATOR count 2
            """)
        #expect(plan.groupProtocol == .consumer && plan.serverAssignor == "range" && !plan.assignorRandom)
        #expect(plan.randomSwitches?.count == 2 && plan.randomSwitches?.untilMs == 10_000)
        #expect(plan.switches == [3_000] && plan.usesConsumerProtocol)
        #expect(plan.faults.map(\.fault) == [.injectGroupError(group: "g", api: "consumer-group-heartbeat", error: "NOT_COORDINATOR", count: 2)])
        let random = try GroupScenario.parse("group g\nassignor random\ninvariant coordinator-owned\n")
        #expect(random.assignorRandom && random.serverAssignor == nil && random.groupProtocol == .classic)
        #expect(!random.usesConsumerProtocol && random.invariants == ["coordinator-owned"])
    }

    @Test func refusesBadConsumerProtocolDirectives() {
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("group g\nprotocol share\n") }
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("group g\nassignor sticky\n") }
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("group g\nswitch-protocol 2\n") }
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("group g\nat 1s switch-protocol now\n") }
    }

    /// `assignor random` draws per member slot from the seed, and the same seed the same.
    @Test func randomAssignorsFollowTheSeed() throws {
        var plan = try GroupScenario.parse("group g\nprotocol consumer\nassignor random\nmembers 6\n")
        let x = GroupSimulation(plan), y = GroupSimulation(plan)
        #expect(x.assignors == y.assignors && x.assignors.count == 6)
        #expect(x.assignors.allSatisfy { $0 == "uniform" || $0 == "range" })
        var seen = Set<String>()
        for s in UInt64(1) ... 8 {
            plan.seed = s
            for n in GroupSimulation(plan).assignors { seen.insert(n ?? "") }
        }
        #expect(seen == ["uniform", "range"])
    }

    @Test func coordinatorOwnedFiresForRecordsOfAPartitionTheCoordinatorDoesNotGive() {
        var c = GroupChecker()
        // A member the coordinator does not count (fenced, not told yet): not checked.
        c.consumerFetched(member: 0, a, coordinatorGives: nil, atMs: 1)
        // Assigned, or still being revoked: allowed.
        c.consumerFetched(member: 0, a, coordinatorGives: [a], atMs: 2)
        #expect(c.violations.isEmpty)
        c.consumerFetched(member: 1, b, coordinatorGives: [a], atMs: 3)
        #expect(c.violations.count == 1 && c.violations[0].hasPrefix("coordinator-owned: member 1 was given records of t/1"))
    }

    @Test func coordinatorOwnedFiresWhenASettledMemberDisagreesWithTheCoordinator() {
        var c = GroupChecker()
        c.consumerSettled(member: 0, owned: [a], coordinator: (assigned: [a], pendingRevocation: []))
        #expect(c.violations.isEmpty)
        c.consumerSettled(member: 0, owned: [a, b], coordinator: (assigned: [a], pendingRevocation: []))
        c.consumerSettled(member: 1, owned: [b], coordinator: (assigned: [b], pendingRevocation: [a]))
        c.consumerSettled(member: 2, owned: [], coordinator: nil)
        #expect(c.violations.count == 3 && c.violations.allSatisfy { $0.hasPrefix("coordinator-owned: after settling") })
    }

    /// Generation numbers start again when a switch makes the group anew: the same
    /// generation in two eras is two generations.
    @Test func generationFetchKeepsErasApart() {
        var c = GroupChecker()
        c.fetched(member: 0, generation: 1, era: 0, a, owns: true, offsets: [0], atMs: 1)
        c.fetched(member: 1, generation: 1, era: 1, a, owns: true, offsets: [1], atMs: 2)
        #expect(c.violations.isEmpty)
        c.fetched(member: 2, generation: 1, era: 1, a, owns: true, offsets: [2], atMs: 3)
        #expect(c.violations.count == 1 && c.violations[0].hasPrefix("generation-fetch:"))
    }

    /// A consumer-protocol run: every invariant holds, the members joined with the
    /// consumer protocol (the coordinator holds a consumer group), and the run is
    /// deterministic.
    @Test func consumerProtocolMembersSettle() throws {
        let plan = try GroupScenario.parse("""
            group kc
            protocol consumer
            assignor uniform
            topic g partitions 4
            records 10
            members 3
            at 2s join 3
            at 4s leave 0
            session 4s
            rebalance 6s
            duration 20s
            settle 12s
            """)
        var sim = GroupSimulation(plan)
        let r = sim.run()
        #expect(r.ok, "\(r.violations.prefix(3))")
        #expect(r.delivered == 40 && r.rebalances >= 4)
        let g = sim.cluster.describeConsumerGroup("kc")
        #expect(g?.assignor == "uniform" && g?.members.count == 3)
        #expect(sim.cluster.describeGroup("kc") == nil)
        let again = GroupSeedCheck.run(plan)
        #expect(again.ok && again.secondHash == r.hash)
    }

    /// A switch empties the group and brings the members back speaking the other protocol;
    /// two switches end where the run began, the committed offsets carried across.
    @Test func protocolSwitchesHappenAndKeepTheInvariants() throws {
        let plan = try GroupScenario.parse("""
            group ks
            protocol classic
            topic g partitions 4
            records 10
            members 2
            at 2s switch-protocol
            session 3s
            rebalance 5s
            duration 30s
            settle 15s
            """)
        var sim = GroupSimulation(plan)
        let r = sim.run()
        #expect(r.ok, "\(r.violations.prefix(3))\n\(sim.log.suffix(20).joined(separator: "\n"))")
        #expect(sim.switchesDone == 1 && sim.groupProtocol == .consumer)
        #expect(sim.cluster.describeConsumerGroup("ks")?.members.count == 2)
        #expect(sim.log.contains { $0.contains("members start again speaking consumer") })
    }
}
