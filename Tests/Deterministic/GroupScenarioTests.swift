import Testing
@testable import KafkaSimulation
@testable import KafkaStateMachines

/// Every fixed-seed group scenario under scenarios/ replays green, twice, with equal hashes.
@Suite struct GroupScenarioReplayTests {
    @Test(arguments: ScenarioFiles.groupNames)
    func replay(_ name: String) throws {
        let plan = try ScenarioFiles.loadGroup(name)
        let outcome = GroupSeedCheck.run(plan)
        #expect(outcome.ok, "\(name): \(outcome.violations.prefix(5).joined(separator: "\n"))\nreplay: \(GroupSeedCheck.replayCommand(file: "scenarios/\(name)", seed: plan.seed))")
        #expect(outcome.secondHash == outcome.result.hash)
        #expect(outcome.result.rebalances > 0 && outcome.result.delivered > 0)
    }

    /// Fresh-window seeds that left a KIP-848 member stuck joining: a commit refused after
    /// the member had dropped out fenced it again while its join heartbeat was in flight,
    /// the join's answer was dropped as stale, and nothing sent another.
    @Test(arguments: [("group-consumer-slow-random.scenario", UInt64(2_883_332_675_000)),
                      ("group-consumer-coordinator-faults-random.scenario", UInt64(267_789_274_018))])
    func fencedWhileJoiningJoinsAgain(_ name: String, _ seed: UInt64) throws {
        var plan = try ScenarioFiles.loadGroup(name)
        plan.seed = seed
        let outcome = GroupSeedCheck.run(plan)
        #expect(outcome.ok, "\(name) seed \(seed): \(outcome.violations.prefix(5).joined(separator: "\n"))")
    }

    @Test func groupFilesAreFound() {
        #expect(!ScenarioFiles.groupNames.isEmpty)
        #expect(ScenarioFiles.allNames.filter { ScenarioFiles.isGroup($0) }.count >= ScenarioFiles.groupNames.count + 4)
    }
}

/// The group scenario format: what a file turns into, and what it refuses.
@Suite struct GroupScenarioFormatTests {
    @Test func parsesEveryDirective() throws {
        let plan = try GroupScenario.parse("""
            group g1   # the group
            seed 42
            brokers 4
            topic t partitions 5
            records 12
            members 2
            members random count 3 until 20s
            balancers range,cooperative-sticky
            balancers member 1 cooperative-sticky
            static 0,2
            session 3s
            rebalance 4s
            heartbeat 300ms
            autocommit off
            commit-on-revoke off
            slow-member 1
            revocation 1ms..9ms
            latency 2ms..4ms
            duration 50s
            settle 20s
            at 1s join 2
            at 2s leave 0
            at 3s crash 1
            at 4s restart 2
            at 5s move-coordinator g1 to 2
            at 6s add-partitions t count 2
            at 7s stop-coordinator g1
            at 8s restart-brokers
            faults random count 4 until 10s kinds heartbeat,partitions
            invariant delivered
            """)
        #expect(plan.group == "g1" && plan.seed == 42 && plan.brokers == 4 && plan.topic == "t" && plan.partitions == 5)
        #expect(plan.recordsPerPartition == 12 && plan.initialMembers == 2)
        #expect(plan.randomMembers?.count == 3 && plan.randomMembers?.untilMs == 20_000)
        #expect(plan.balancers.map(\.protocolName) == ["range", "cooperative-sticky"])
        #expect(plan.memberBalancers[1]?.map(\.protocolName) == ["cooperative-sticky"])
        #expect(plan.staticSome == [0, 2] && !plan.staticMembers)
        #expect(plan.sessionTimeoutMs == 3_000 && plan.rebalanceTimeoutMs == 4_000 && plan.heartbeatMs == 300)
        #expect(plan.autocommitMs == nil && !plan.commitOnRevoke && plan.slowMembers == [1])
        #expect(plan.revocationMs == 1 ... 9 && plan.latencyMs == 2 ... 4)
        #expect(plan.durationMs == 50_000 && plan.settleMs == 20_000)
        #expect(plan.events.map(\.event) == [.join(2), .leave(0), .crash(1), .restart(2)])
        #expect(plan.faults.map(\.fault) == [.moveCoordinator(group: "g1", to: 2), .addPartitions(topic: "t", count: 2),
                                             .stopCoordinator(group: "g1"), .restartBrokers])
        #expect(plan.randomFaults?.kinds == ["heartbeat", "partitions"])
        #expect(plan.invariants == ["delivered"])
    }

    @Test func refusesWhatItCannotRun() {
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("seed 1\ngroup g\n") }
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("group g\nbalancers nosuch\n") }
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("group g\nat 1s explode 2\n") }
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("group g\nfaults random count 2 until 1s kinds meteor\n") }
        #expect(throws: ScenarioError.self) { try GroupScenario.parse("group g\nduration 10s\nsettle 20s\n") }
        #expect(GroupScenario.isGroupScenario("# a comment\n\ngroup g\n"))
        #expect(!GroupScenario.isGroupScenario("seed 1\ntopic t partitions 1\n"))
    }

    /// Random members and faults are drawn from the seed: the same seed draws the same ones,
    /// another seed others.
    @Test func randomDrawsFollowTheSeed() throws {
        var plan = try GroupScenario.parse("group g\nmembers random count 6 until 20s\nfaults random count 6 until 20s\n")
        let a = GroupSimulation(plan), b = GroupSimulation(plan)
        #expect(a.faults == b.faults && a.events.map(\.event) == b.events.map(\.event) && a.events.count == 6)
        plan.seed = 2
        let c = GroupSimulation(plan)
        #expect(c.faults != a.faults || c.events.map(\.event) != a.events.map(\.event))
    }
}
