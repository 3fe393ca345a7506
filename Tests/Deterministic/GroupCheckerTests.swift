import Testing
@testable import KafkaSimulation
import KafkaStateMachines

/// The group checkers fed bad histories: each one fires (and stays quiet on a good one), so
/// a green group sweep means something.
@Suite struct GroupCheckerTests {
    let a = TopicPartition("t", 0), b = TopicPartition("t", 1)

    @Test func exclusiveOwnerUnderCooperativeFiresWhileTheOwnerIsInTheGroup() {
        var c = GroupChecker()
        // Member 1 is a zombie (the coordinator dropped it): allowed.
        c.assigned(member: 0, [a], generation: 5, cooperative: true,
                   others: [.init(member: 1, owned: [a], generation: 4, inGroup: false)], atMs: 10)
        #expect(c.violations.isEmpty)
        // Member 2 still counts in the group and owns it: two owners at once.
        c.assigned(member: 0, [a, b], generation: 5, cooperative: true,
                   others: [.init(member: 2, owned: [b], generation: 4, inGroup: true)], atMs: 11)
        #expect(c.violations.count == 1)
        #expect(c.violations.first?.hasPrefix("exclusive-owner: t/1 assigned to member 0") == true)
    }

    @Test func exclusiveOwnerUnderEagerFiresWithinOneGeneration() {
        var c = GroupChecker()
        // Eager: an older generation's owner that has not revoked yet is not this check's business.
        c.assigned(member: 0, [a], generation: 5, cooperative: false,
                   others: [.init(member: 1, owned: [a], generation: 4, inGroup: true)], atMs: 10)
        #expect(c.violations.isEmpty)
        c.assigned(member: 0, [a], generation: 5, cooperative: false,
                   others: [.init(member: 1, owned: [a], generation: 5, inGroup: true)], atMs: 12)
        #expect(c.violations.count == 1 && c.violations[0].hasPrefix("exclusive-owner:"))
    }

    @Test func generationFetchFiresForTwoFetchersInOneGenerationAndForRecordsNotOwned() {
        var c = GroupChecker()
        c.fetched(member: 0, generation: 3, a, owns: true, offsets: [0, 1], atMs: 1)
        c.fetched(member: 1, generation: 4, a, owns: true, offsets: [2], atMs: 2)
        #expect(c.violations.isEmpty)
        c.fetched(member: 2, generation: 4, a, owns: true, offsets: [3], atMs: 3)
        #expect(c.violations.count == 1 && c.violations[0].contains("fetched by members 1 and 2 in generation 4"))
        c.fetched(member: 0, generation: 5, b, owns: false, offsets: [0], atMs: 4)
        #expect(c.violations.count == 2 && c.violations[1].hasPrefix("generation-fetch: member 0 was given records of t/1"))
    }

    @Test func commitsForwardFiresWhenAnOffsetGoesBack() {
        var c = GroupChecker()
        c.committed([a: 5, b: 3], by: "member 0", atMs: 1)
        c.committed([a: 5, b: 7], by: "read from the coordinator", atMs: 2)
        #expect(c.violations.isEmpty)
        c.committed([a: 4], by: "read from the coordinator", atMs: 3)
        #expect(c.violations == ["commits-forward: committed offset of t/0 went back from 5 to 4 (read from the coordinator), at 3 ms"])
    }

    @Test func settledOwnersFiresForNoOwnerTwoOwnersAndAnOwnerNotFetching() {
        var good = GroupChecker()
        good.settled(partitions: [a, b], live: [.init(member: 0, owned: [a], fetching: [a]), .init(member: 1, owned: [b], fetching: [b])])
        #expect(good.violations.isEmpty)
        var none = GroupChecker()
        none.settled(partitions: [a, b], live: [.init(member: 0, owned: [a], fetching: [a])])
        #expect(none.violations == ["settled-owners: after settling, t/1 is owned by 0 live members []"])
        var two = GroupChecker()
        two.settled(partitions: [a], live: [.init(member: 0, owned: [a], fetching: [a]), .init(member: 1, owned: [a], fetching: [a])])
        #expect(two.violations.count == 1 && two.violations[0].contains("owned by 2 live members [0, 1]"))
        var idle = GroupChecker()
        idle.settled(partitions: [a], live: [.init(member: 3, owned: [a], fetching: [])])
        #expect(idle.violations == ["settled-owners: after settling, member 3 owns t/0 but does not fetch it"])
    }

    @Test func deliveredFiresForAMissingRecordAndExactlyOnceForADuplicate() {
        var c = GroupChecker()
        c.fetched(member: 0, generation: 1, a, owns: true, offsets: [0, 1, 3], atMs: 1)
        c.delivered(records: [(a, 4)])
        #expect(c.violations == ["delivered: t/0: 1 records never delivered (first 2)"])
        c.fetched(member: 0, generation: 1, a, owns: true, offsets: [1], atMs: 2)
        #expect(c.duplicates == 1)
        c.exactlyOnce(applies: false)
        #expect(c.violations.count == 1, "a crash or a lost partition excuses the duplicate")
        c.exactlyOnce(applies: true)
        #expect(c.violations.count == 2 && c.violations[1].hasPrefix("exactly-once: 1 records delivered twice"))
    }

    @Test func memberFailedFires() {
        var c = GroupChecker()
        c.memberFailed(2, "join: FENCED_INSTANCE_ID", atMs: 7)
        #expect(c.violations == ["member-failed: member 2 failed: join: FENCED_INSTANCE_ID, at 7 ms"])
    }

    /// The determinism check compares two runs' hashes; a run whose plan differs (here by
    /// its seed) hashes differently, so equal hashes are not vacuous.
    @Test func differentRunsHashDifferently() {
        var p = GroupSimulation.Plan(seed: 1, balancers: [RangeBalancer()])
        p.durationMs = 5_000
        var x = GroupSimulation(p)
        p.seed = 2
        var y = GroupSimulation(p)
        #expect(x.run().hash != y.run().hash)
    }

    // Copy mode: OUT's committed view against the input.

    func rec(_ key: String, _ p: Int, _ o: Int) -> CopyLogRead.Record { .init(key: key, value: "p\(p)-o\(o)") }

    @Test func copiedAcceptsACompleteCopy() {
        var c = GroupChecker()
        c.abortedTransaction("m0-l1-t2")
        let out: [Int32: CopyLogRead] = [0: .init(visible: [rec("m0-l1-t1", 0, 0), rec("m0-l1-t3", 0, 1)], aborted: [rec("m0-l1-t2", 0, 1)]),
                                         1: .init(visible: [rec("m1-l1-t1", 1, 0)])]
        c.copied(input: [(a, 2), (b, 1)], output: out, committed: [a: 2, b: 1])
        #expect(c.violations.isEmpty, "\(c.violations)")
    }

    @Test func copiedOnceFiresForADuplicateAndAGapAndDisorder() {
        var c = GroupChecker()
        c.copied(input: [(a, 2)], output: [0: .init(visible: [rec("k1", 0, 0), rec("k2", 0, 0), rec("k2", 0, 1)])], committed: [a: 2])
        #expect(c.violations.contains { $0.hasPrefix("copied-once: input t/0") && $0.contains("1 duplicates") })
        var g = GroupChecker()
        g.copied(input: [(a, 3)], output: [0: .init(visible: [rec("k1", 0, 0), rec("k1", 0, 2)])], committed: [a: 2])
        #expect(g.violations.contains { $0.hasPrefix("copied-once: input t/0: 2 of 3 copied") })
        var d = GroupChecker()
        d.copied(input: [(a, 2)], output: [0: .init(visible: [rec("k1", 0, 1), rec("k1", 0, 0)])], committed: [a: 2])
        #expect(d.violations.count == 1 && d.violations[0].hasPrefix("copied-once:"))
    }

    @Test func abortedInvisibleFiresForARecordOfAnAbortedTransaction() {
        var c = GroupChecker()
        c.abortedTransaction("m2-l1-t4")
        c.copied(input: [(a, 1)], output: [0: .init(visible: [rec("m2-l1-t4", 0, 0)])], committed: [a: 1])
        #expect(c.violations.count == 1 && c.violations[0].hasPrefix("aborted-invisible: output partition 0 shows p0-o0"))
    }

    @Test func copyOffsetsFiresWhenTheCommittedOffsetDisagrees() {
        var c = GroupChecker()
        c.copied(input: [(a, 2)], output: [0: .init(visible: [rec("k", 0, 0), rec("k", 0, 1)])], committed: [a: 1])
        #expect(c.violations.count == 1 && c.violations[0].hasPrefix("copy-offsets: input t/0: committed 1, end 2"))
        var n = GroupChecker()
        n.copied(input: [(a, 1)], output: [0: .init(visible: [rec("k", 0, 0)])], committed: [:])
        #expect(n.violations.count == 1 && n.violations[0].contains("committed nothing"))
    }

    @Test func txnClosedFiresForATransactionLeftOpen() {
        var c = GroupChecker()
        c.copied(input: [(a, 1)], output: [0: .init(visible: [rec("k", 0, 0)], open: [rec("k2", 0, 0)])], committed: [a: 1])
        #expect(c.violations.count == 1 && c.violations[0].hasPrefix("txn-closed: output partition 0"))
    }

}
