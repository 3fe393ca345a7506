import Testing
@testable import KafkaSimulation
@testable import KafkaStateMachines

/// Consumer groups in simulation: several member engines against one FakeCluster, members
/// joining, leaving and crashing; every run checks ownership, delivery and commits.
@Suite struct GroupSimulationTests {
    static func plan(_ seed: UInt64, _ balancers: [any GroupBalancer] = [RangeBalancer()]) -> GroupSimulation.Plan {
        GroupSimulation.Plan(seed: seed, balancers: balancers)
    }

    @Test func membersSplitThePartitionsAndConsumeEverythingOnce() {
        var p = Self.plan(1)
        p.durationMs = 20_000
        var sim = GroupSimulation(p)
        let r = sim.run()
        #expect(r.violations == [])
        #expect(r.delivered == 6 * 40)
        #expect(r.duplicates == 0)
        // Every member got partitions (range over 3 members and 6 partitions: two each).
        #expect(sim.members.allSatisfy { $0.owned.count == 2 })
    }

    /// Copy mode, cooperative-sticky, no abort on purpose: a member crashes mid-copy, and
    /// once its session ends the two others rejoin keeping their partitions. Their
    /// transactions during the rejoin wait for the new generation to send their offsets
    /// instead of failing as not in the group: no transaction aborts at all.
    @Test func aCooperativeRejoinDoesNotAbortTheTransactionsOfKeptPartitions() {
        var p = Self.plan(5, [CooperativeStickyBalancer()])
        var copy = GroupSimulation.CopyPlan(topic: "out")
        copy.abortRatio = 0
        copy.recordsPerTxn = 2
        copy.thinkMs = 20 ... 20   // about 25 ms a transaction: the copy runs for seconds
        p.copy = copy
        p.autocommitMs = nil
        p.commitOnRevoke = false
        p.recordsPerPartition = 200
        p.sessionTimeoutMs = 1_000
        p.events = [(at: 3_000, event: .crash(1))]
        p.durationMs = 40_000
        var sim = GroupSimulation(p)
        let r = sim.run()
        #expect(r.violations == [])
        #expect(r.rebalances >= 5, "the initial rebalance and the rejoin after the crash")
        #expect(r.copyCommits > 0)
        #expect(r.copyAborts == 0, "\(sim.warnings.prefix(5))")
        #expect(sim.members[0].owned.count + sim.members[2].owned.count == 6)
    }

    @Test func aMemberLeavingHandsItsPartitionsOverWithoutDuplicates() {
        var p = Self.plan(2)
        p.events = [(at: 8_000, event: .leave(1))]
        p.durationMs = 30_000
        var sim = GroupSimulation(p)
        let r = sim.run()
        #expect(r.violations == [])
        #expect(r.duplicates == 0)
        #expect(sim.members[1].engine == nil)
        #expect(sim.members[0].owned.count + sim.members[2].owned.count == 6)
    }

    /// Leaving sends LeaveGroup: the coordinator drops the member at once, long before its
    /// (here one-minute) session could end.
    @Test func leavingRemovesTheMemberAtOnce() {
        var p = Self.plan(8)
        p.sessionTimeoutMs = 60_000
        p.rebalanceTimeoutMs = 60_000
        p.events = [(at: 8_000, event: .leave(1))]
        p.durationMs = 15_000
        var sim = GroupSimulation(p)
        let r = sim.run()
        #expect(r.violations == [])
        let g = sim.cluster.describeGroup("sim-group")
        #expect(g?.members.count == 2, "\(String(describing: g)) \(sim.warnings)")
    }

    @Test func aCrashedMembersPartitionsMoveAfterTheSessionTimeout() {
        var p = Self.plan(3)
        p.events = [(at: 8_000, event: .crash(2))]
        p.durationMs = 40_000
        var sim = GroupSimulation(p)
        let r = sim.run()
        #expect(r.violations == [])
        #expect(sim.members[0].owned.count + sim.members[1].owned.count == 6)
    }

    @Test func aJoiningMemberGetsAShare() {
        var p = Self.plan(4)
        p.initialMembers = 2
        p.events = [(at: 10_000, event: .join(2))]
        p.durationMs = 30_000
        var sim = GroupSimulation(p)
        let r = sim.run()
        #expect(r.violations == [])
        #expect(r.duplicates == 0)
        #expect(sim.members[2].owned.count == 2)
    }

    @Test func aSeedReplaysBitForBit() {
        var p = Self.plan(5)
        p.events = [(at: 5_000, event: .leave(0)), (at: 9_000, event: .join(3)), (at: 12_000, event: .crash(1))]
        var a = GroupSimulation(p)
        var b = GroupSimulation(p)
        let ra = a.run(), rb = b.run()
        #expect(ra.rebalances >= 4 && ra.delivered == 240)
        #expect(ra.hash == rb.hash)
        #expect(ra.violations == [])
    }

    /// Without commits, a partition handed over is read again from the start: the
    /// duplicate count the other tests expect to be zero does count.
    @Test func withoutCommitsAHandedOverPartitionIsReadAgain() {
        var p = Self.plan(6)
        p.autocommitMs = nil
        p.commitOnRevoke = false
        p.events = [(at: 8_000, event: .leave(1))]
        p.durationMs = 30_000
        var sim = GroupSimulation(p)
        let r = sim.run()
        #expect(r.violations == [])
        // Range is eager: every member gives everything up and starts again from nothing
        // committed, so all 240 records are read twice.
        #expect(r.duplicates == 6 * 40)
    }

    /// A balancer whose plan gives every partition to every member is refused; the group
    /// runs on a range plan instead and still has one owner per partition.
    @Test func anInvalidPlanIsReplacedNotObeyed() {
        var p = Self.plan(7, [GreedyBalancer()])
        p.durationMs = 20_000
        var sim = GroupSimulation(p)
        let r = sim.run()
        #expect(r.violations == [])
        #expect(sim.members.allSatisfy { $0.owned.count == 2 })
    }
}

extension GroupSimulationTests {
    /// Every built-in balancer through joins, a leave, a crash and a late join, over a few
    /// seeds: one owner per partition at every moment (cooperative) or after settling,
    /// everything delivered, commits never going back, and no duplicate without a crash.
    @Test(arguments: ["range", "roundrobin", "sticky", "cooperative-sticky"])
    func everyBalancerKeepsTheInvariantsThroughChurn(_ name: String) {
        for seed in UInt64(10) ..< 14 {
            var p = Self.plan(seed, [BuiltInBalancers.named(name)!])
            p.initialMembers = 3
            p.events = [(at: 6_000, event: .join(3)), (at: 12_000, event: .leave(0)), (at: 18_000, event: .join(4))]
            p.durationMs = 40_000
            var sim = GroupSimulation(p)
            let r = sim.run()
            #expect(r.violations == [], "\(name) seed \(seed)")
            #expect(r.duplicates == 0, "\(name) seed \(seed)")
        }
    }

    /// Cooperative-sticky moves only what must move: when a fourth member joins three that
    /// own two partitions each, at most two partitions change owner, so nothing is read twice
    /// even without commits on the partitions that stay.
    @Test func cooperativeStickyKeepsWhatDoesNotMove() {
        var p = Self.plan(20, [CooperativeStickyBalancer()])
        p.autocommitMs = nil
        p.events = [(at: 10_000, event: .join(3))]
        p.durationMs = 30_000
        var sim = GroupSimulation(p)
        let r = sim.run()
        #expect(r.violations == [])
        #expect(r.duplicates == 0)
        #expect(sim.members[3].owned.count >= 1)
    }
}


/// Gives every partition to every member: an invalid plan.
struct GreedyBalancer: GroupBalancer {
    var protocolName: String { "greedy" }
    var isCooperative: Bool { false }
    func userData(owned: [TopicPartition], generation: Int32) -> [UInt8]? { nil }
    func assign(_ input: BalanceInput) throws -> BalancePlan {
        var all: [TopicPartition] = []
        for (t, n) in input.partitionCounts { for p in 0 ..< n { all.append(TopicPartition(t, p)) } }
        var plan: BalancePlan = [:]
        for m in input.members { plan[m.memberId] = all }
        return plan
    }
}
