import Testing
@testable import KafkaStateMachines

/// "t0p1" -> TopicPartition("t0", 1): the notation of Kafka's assignor docs and KIPs.
private func tp(_ s: String) -> TopicPartition {
    let i = s.lastIndex(of: "p")!
    return TopicPartition(String(s[..<i]), Int32(s[s.index(after: i)...])!)
}

private func tps(_ s: String) -> [TopicPartition] {
    s.split(separator: " ").map { tp(String($0)) }.sorted()
}

private func member(_ id: String, _ topics: [String], owned: String = "", generation: Int32 = -1,
                    instance: String? = nil, rack: String? = nil, userData: [UInt8]? = nil) -> GroupSubscription {
    GroupSubscription(memberId: id, instanceId: instance, topics: topics.sorted(), userData: userData,
                      ownedPartitions: tps(owned), generation: generation, rack: rack)
}

/// The plan with each member's partitions sorted (balancers may list them in any order).
private func sorted(_ plan: BalancePlan) -> BalancePlan { plan.mapValues { $0.sorted() } }

private func expected(_ pairs: KeyValuePairs<String, String>) -> BalancePlan {
    var out: BalancePlan = [:]
    for (m, s) in pairs { out[m] = tps(s) }
    return out
}

/// The members again, each owning what `plan` gave it, in `generation`: for "sticky" in its
/// user data, for "cooperative-sticky" in the subscription.
private func rejoin(_ members: [GroupSubscription], plan: BalancePlan, generation: Int32,
                   balancer: any GroupBalancer) -> [GroupSubscription] {
    members.map { m in
        var m = m
        let owned = plan[m.memberId] ?? []
        if balancer.isCooperative {
            m.ownedPartitions = owned
            m.generation = generation
        } else {
            m.ownedPartitions = []
            m.generation = -1
        }
        m.userData = balancer.userData(owned: owned, generation: generation)
        return m
    }
}

private let stickies: [any GroupBalancer] = [StickyBalancer(), CooperativeStickyBalancer()]

@Suite struct ConsumerProtocolCodecTests {
    @Test func subscriptionRoundTripsAtEveryVersion() throws {
        for v: Int16 in 0 ... 3 {
            let bytes = try ConsumerProtocol.encodeSubscription(
                topics: ["b", "a", "b"], userData: [1, 2, 3], owned: tps("bp1 ap2 ap0 bp1"),
                generation: 7, rack: "r1", version: v)
            #expect(Array(bytes.prefix(2)) == [0, UInt8(v)])
            let s = try ConsumerProtocol.decodeSubscription(memberId: "m", instanceId: "i", bytes: bytes)
            #expect(s.memberId == "m" && s.instanceId == "i")
            #expect(s.topics == ["a", "b"])
            #expect(s.userData == [1, 2, 3])
            #expect(s.ownedPartitions == (v >= 1 ? tps("ap0 ap2 bp1") : []))
            #expect(s.generation == (v >= 2 ? 7 : -1))
            #expect(s.rack == (v >= 3 ? "r1" : nil))
        }
    }

    @Test func subscriptionWithNullUserDataAndNoRack() throws {
        let bytes = try ConsumerProtocol.encodeSubscription(topics: ["t"], userData: nil)
        let s = try ConsumerProtocol.decodeSubscription(memberId: "m", instanceId: nil, bytes: bytes)
        #expect(s == GroupSubscription(memberId: "m", topics: ["t"]))
    }

    @Test func newerVersionIsReadAsVersion3AndItsAppendedFieldsIgnored() throws {
        var bytes = try ConsumerProtocol.encodeSubscription(topics: ["t"], userData: [9], owned: tps("tp3"),
                                                            generation: 4, rack: "r")
        bytes[1] = 7   // version 7, a future one ...
        bytes += [0xDE, 0xAD, 0xBE, 0xEF]   // ... with fields we do not know
        let s = try ConsumerProtocol.decodeSubscription(memberId: "m", instanceId: nil, bytes: bytes)
        #expect(s == GroupSubscription(memberId: "m", topics: ["t"], userData: [9], ownedPartitions: tps("tp3"),
                                       generation: 4, rack: "r"))

        var assignment = try ConsumerProtocol.encodeAssignment(partitions: tps("tp1 tp0"), userData: nil)
        assignment[1] = 9
        assignment += [1, 2]
        #expect(try ConsumerProtocol.decodeAssignment(assignment).partitions == tps("tp0 tp1"))
    }

    @Test func negativeVersionIsATypedError() {
        #expect(throws: GroupProtocolError.negativeVersion(-1)) {
            try ConsumerProtocol.decodeSubscription(memberId: "m", instanceId: nil, bytes: [0xFF, 0xFF, 0, 0, 0, 0])
        }
        #expect(throws: GroupProtocolError.negativeVersion(-2)) {
            try ConsumerProtocol.decodeAssignment([0xFF, 0xFE, 0, 0, 0, 0])
        }
    }

    @Test func everyTruncationIsATypedError() throws {
        let sub = try ConsumerProtocol.encodeSubscription(topics: ["t"], userData: [1, 2], owned: tps("tp0 tp5"),
                                                          generation: 3, rack: "rack")
        for n in 0 ..< sub.count {
            #expect(throws: GroupProtocolError.self) {
                try ConsumerProtocol.decodeSubscription(memberId: "m", instanceId: nil, bytes: Array(sub.prefix(n)))
            }
        }
        let asg = try ConsumerProtocol.encodeAssignment(partitions: tps("tp0 tp5"), userData: [1])
        for n in 1 ..< asg.count {   // zero bytes is the empty assignment
            #expect(throws: GroupProtocolError.self) { try ConsumerProtocol.decodeAssignment(Array(asg.prefix(n))) }
        }
    }

    @Test func hugeCountsAreRefusedBeforeAllocating() {
        // Version 0, then a topic count of 2^31 - 1 with nothing behind it.
        #expect(throws: GroupProtocolError.self) {
            try ConsumerProtocol.decodeSubscription(memberId: "m", instanceId: nil, bytes: [0, 0, 0x7F, 0xFF, 0xFF, 0xFF])
        }
        #expect(throws: GroupProtocolError.self) { try ConsumerProtocol.decodeAssignment([0, 3, 0x7F, 0xFF, 0xFF, 0xFF]) }
    }

    @Test func garbageNeverCrashes() {
        var rng = SeededGenerator(seed: 42)
        for _ in 0 ..< 2000 {
            let n = Int.random(in: 0 ..< 40, using: &rng)
            var bytes = (0 ..< n).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            if n >= 2, Bool.random(using: &rng) { bytes[0] = 0; bytes[1] = UInt8.random(in: 0 ... 4, using: &rng) }
            _ = try? ConsumerProtocol.decodeSubscription(memberId: "m", instanceId: nil, bytes: bytes)
            _ = try? ConsumerProtocol.decodeAssignment(bytes)
            _ = StickyUserData.decodeSticky(bytes)
        }
    }

    @Test func assignmentRoundTripsAtEveryVersion() throws {
        for v: Int16 in 0 ... 3 {
            let bytes = try ConsumerProtocol.encodeAssignment(partitions: tps("bp0 ap1 ap0"), userData: [5], version: v)
            #expect(Array(bytes.prefix(2)) == [0, UInt8(v)])
            let a = try ConsumerProtocol.decodeAssignment(bytes)
            #expect(a.partitions == tps("ap0 ap1 bp0"))
            #expect(a.userData == [5])
        }
        // Versions 0-3 share one layout: the bodies are identical.
        let v0 = try ConsumerProtocol.encodeAssignment(partitions: tps("ap0"), userData: nil, version: 0)
        let v3 = try ConsumerProtocol.encodeAssignment(partitions: tps("ap0"), userData: nil)
        #expect(v0.dropFirst(2) == v3.dropFirst(2))
    }

    @Test func emptyBytesAreAnEmptyAssignment() throws {
        let a = try ConsumerProtocol.decodeAssignment([])
        #expect(a.partitions.isEmpty && a.userData == nil)
    }

    @Test func stickyUserDataInJavasLayouts() {
        // StickyAssignorUserData v1: [topic, [partition]], then the generation.
        let v1 = StickyUserData.encodeSticky(owned: tps("tp2 tp0"), generation: 3)
        #expect(v1 == [0, 0, 0, 1, 0, 1, UInt8(ascii: "t"), 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3])
        let d = StickyUserData.decodeSticky(v1)
        #expect(d?.partitions == tps("tp0 tp2") && d?.generation == 3)
        // v0: the array alone.
        let v0 = Array(v1.dropLast(4))
        let d0 = StickyUserData.decodeSticky(v0)
        #expect(d0?.partitions == tps("tp0 tp2") && d0?.generation == nil)
        #expect(StickyUserData.decodeSticky([0, 0, 0, 5]) == nil)
        // cooperative-sticky: the generation alone.
        #expect(StickyUserData.encodeCooperative(generation: 5) == [0, 0, 0, 5])
        #expect(StickyUserData.decodeCooperative([0, 0, 1, 0]) == 256)
        #expect(StickyUserData.decodeCooperative([0, 0]) == nil)
    }
}

@Suite struct GroupBalancerTests {
    // MARK: range — RangeAssignor's documentation

    @Test func rangeDocumentedExample() throws {
        let input = BalanceInput(members: [member("C1", ["t0", "t1"]), member("C0", ["t0", "t1"])],
                                 partitionCounts: ["t0": 3, "t1": 3])
        #expect(sorted(try RangeBalancer().assign(input)) == expected(["C0": "t0p0 t0p1 t1p0 t1p1", "C1": "t0p2 t1p2"]))
    }

    @Test func rangeOrdersStaticMembersByInstanceId() throws {
        // RangeAssignor's static-membership example: after a rolling bounce gives new member
        // ids (C0 -> C3, C1 -> C2), instance ids keep the plan where it was.
        let input = BalanceInput(members: [member("C3", ["t0", "t1"], instance: "I0"),
                                           member("C2", ["t0", "t1"], instance: "I1")],
                                 partitionCounts: ["t0": 3, "t1": 3])
        #expect(sorted(try RangeBalancer().assign(input)) == expected(["C3": "t0p0 t0p1 t1p0 t1p1", "C2": "t0p2 t1p2"]))
    }

    @Test func rangeSkipsTopicsWithoutPartitionsAndMembersNotSubscribed() throws {
        let input = BalanceInput(members: [member("A", ["t", "gone"]), member("B", ["t", "u"]), member("C", ["empty"])],
                                 partitionCounts: ["t": 3, "u": 2, "empty": 0])
        #expect(sorted(try RangeBalancer().assign(input)) == expected(["A": "tp0 tp1", "B": "tp2 up0 up1", "C": ""]))
    }

    @Test func rangeRackAwareKeepsCountsAndPrefersLocalReplicas() throws {
        // KIP-881: same counts per member as plain range, local partitions first.
        let members = [member("A", ["t"], rack: "r1"), member("B", ["t"], rack: "r2")]
        let racks: [TopicPartition: [String]] = [tp("tp0"): ["r2"], tp("tp1"): ["r2"], tp("tp2"): ["r1"], tp("tp3"): ["r1"]]
        let input = BalanceInput(members: members, partitionCounts: ["t": 4], partitionRacks: racks)
        #expect(sorted(try RangeBalancer().assign(input)) == expected(["A": "tp2 tp3", "B": "tp0 tp1"]))

        // Not enough local partitions: counts win (A gets 2 of 3 although none is local).
        let r2Only: [TopicPartition: [String]] = [tp("tp0"): ["r2"], tp("tp1"): ["r2"], tp("tp2"): ["r2"]]
        let skewed = BalanceInput(members: members, partitionCounts: ["t": 3], partitionRacks: r2Only)
        #expect(sorted(try RangeBalancer().assign(skewed)) == expected(["A": "tp1 tp2", "B": "tp0"]))

        // Every partition on every rack: the plain plan.
        let everywhere = Dictionary(uniqueKeysWithValues: (0 ..< 4).map { (TopicPartition("t", Int32($0)), ["r1", "r2"]) })
        let plain = BalanceInput(members: members, partitionCounts: ["t": 4], partitionRacks: everywhere)
        #expect(sorted(try RangeBalancer().assign(plain)) == expected(["A": "tp0 tp1", "B": "tp2 tp3"]))
    }

    // MARK: roundrobin — RoundRobinAssignor's documentation

    @Test func roundRobinDocumentedExamples() throws {
        let same = BalanceInput(members: [member("C0", ["t0", "t1"]), member("C1", ["t0", "t1"])],
                                partitionCounts: ["t0": 3, "t1": 3])
        #expect(sorted(try RoundRobinBalancer().assign(same)) == expected(["C0": "t0p0 t0p2 t1p1", "C1": "t0p1 t1p0 t1p2"]))

        let differing = BalanceInput(members: [member("C2", ["t0", "t1", "t2"]), member("C0", ["t0"]), member("C1", ["t0", "t1"])],
                                     partitionCounts: ["t0": 1, "t1": 2, "t2": 3])
        #expect(sorted(try RoundRobinBalancer().assign(differing))
            == expected(["C0": "t0p0", "C1": "t1p0", "C2": "t1p1 t2p0 t2p1 t2p2"]))
    }

    // MARK: sticky — KIP-54's examples (also StickyAssignor's documentation)

    @Test(arguments: [0, 1]) func stickyKip54Example1(which: Int) throws {
        let balancer = stickies[which]
        let all = ["t0", "t1", "t2", "t3"]
        let counts: [String: Int32] = ["t0": 2, "t1": 2, "t2": 2, "t3": 2]
        let members = [member("C0", all), member("C1", all), member("C2", all)]
        let first = try balancer.assign(BalanceInput(members: members, partitionCounts: counts))
        #expect(sorted(first) == expected(["C0": "t0p0 t1p1 t3p0", "C1": "t0p1 t2p0 t3p1", "C2": "t1p0 t2p1"]))

        // C1 leaves: the sticky plan keeps everything C0 and C2 had.
        let rest = rejoin(members, plan: first, generation: 1, balancer: balancer).filter { $0.memberId != "C1" }
        let second = try balancer.assign(BalanceInput(members: rest, partitionCounts: counts))
        #expect(sorted(second) == expected(["C0": "t0p0 t1p1 t3p0 t2p0", "C2": "t1p0 t2p1 t0p1 t3p1"]))
    }

    @Test(arguments: [0, 1]) func stickyKip54Example2(which: Int) throws {
        let balancer = stickies[which]
        let counts: [String: Int32] = ["t0": 1, "t1": 2, "t2": 3]
        let members = [member("C0", ["t0"]), member("C1", ["t0", "t1"]), member("C2", ["t0", "t1", "t2"])]
        let first = try balancer.assign(BalanceInput(members: members, partitionCounts: counts))
        #expect(sorted(first) == expected(["C0": "t0p0", "C1": "t1p0 t1p1", "C2": "t2p0 t2p1 t2p2"]))

        let rest = rejoin(members, plan: first, generation: 1, balancer: balancer).filter { $0.memberId != "C0" }
        let second = try balancer.assign(BalanceInput(members: rest, partitionCounts: counts))
        #expect(sorted(second) == expected(["C1": "t1p0 t1p1 t0p0", "C2": "t2p0 t2p1 t2p2"]))
    }

    @Test(arguments: [0, 1]) func stickyKip54Example3(which: Int) throws {
        let balancer = stickies[which]
        let counts: [String: Int32] = ["t0": 2, "t1": 2]
        let members = [member("C0", ["t0", "t1"]), member("C1", ["t0", "t1"])]
        let first = try balancer.assign(BalanceInput(members: members, partitionCounts: counts))
        #expect(sorted(first) == expected(["C0": "t0p0 t1p0", "C1": "t0p1 t1p1"]))

        // C2 joins: one partition moves to it, three stay.
        let joined = rejoin(members, plan: first, generation: 1, balancer: balancer) + [member("C2", ["t0", "t1"])]
        let second = try balancer.assign(BalanceInput(members: joined, partitionCounts: counts))
        #expect(sorted(second) == expected(["C0": "t0p0 t1p0", "C1": "t0p1", "C2": "t1p1"]))
    }

    @Test(arguments: [0, 1]) func stickyKip341StaleClaimLosesToNewerGeneration(which: Int) throws {
        // KIP-341 (KAFKA-7026): C0 pauses, the group moves on without it (generation 2 gives
        // its partitions to C1 and C2), then C0 comes back still reporting its generation-1
        // assignment. The newer claims win; no partition is given twice; the plan is balanced.
        let balancer = stickies[which]
        let counts: [String: Int32] = ["t": 6]
        let gen1: BalancePlan = ["C0": tps("tp0 tp1")]
        let gen2: BalancePlan = ["C1": tps("tp0 tp2 tp3"), "C2": tps("tp1 tp4 tp5")]
        let members = rejoin([member("C0", ["t"])], plan: gen1, generation: 1, balancer: balancer)
            + rejoin([member("C1", ["t"]), member("C2", ["t"])], plan: gen2, generation: 2, balancer: balancer)
        let input = BalanceInput(members: members, partitionCounts: counts)
        let plan = try balancer.assign(input)
        try validate(plan, input: input)
        #expect(plan["C1"]!.contains(tp("tp0")) && plan["C2"]!.contains(tp("tp1")))
        #expect(plan.values.map(\.count).sorted() == [2, 2, 2])
        #expect(sorted(plan) == expected(["C0": "tp3 tp5", "C1": "tp0 tp2", "C2": "tp1 tp4"]))
    }

    @Test(arguments: [0, 1]) func stickyClaimsTiedAtOneGenerationAreDropped(which: Int) throws {
        // Two members claim tp0 in the same generation: neither claim is trusted.
        let balancer = stickies[which]
        let members = rejoin([member("A", ["t"])], plan: ["A": tps("tp0 tp1")], generation: 3, balancer: balancer)
            + rejoin([member("B", ["t"])], plan: ["B": tps("tp0 tp2")], generation: 3, balancer: balancer)
        let input = BalanceInput(members: members, partitionCounts: ["t": 4])
        let plan = try balancer.assign(input)
        try validate(plan, input: input)
        #expect(plan["A"]!.contains(tp("tp1")) && plan["B"]!.contains(tp("tp2")))
        #expect(plan.values.map(\.count) == [2, 2])
    }

    @Test(arguments: [0, 1]) func stickyIgnoresClaimsOfGoneTopicsAndUnsubscribedTopics(which: Int) throws {
        let balancer = stickies[which]
        var a = rejoin([member("A", ["t"])], plan: ["A": tps("tp0 gonep0 up0 tp9")], generation: 1, balancer: balancer)[0]
        a.topics = ["t"]
        let b = member("B", ["t", "u", "empty"])
        let input = BalanceInput(members: [a, b], partitionCounts: ["t": 2, "u": 1, "empty": 0])
        let plan = try balancer.assign(input)
        try validate(plan, input: input)
        #expect(sorted(plan) == expected(["A": "tp0 tp1", "B": "up0"]))
    }

    // MARK: cooperative-sticky — KIP-429

    @Test func cooperativeJoinRevokesOnlyWhatMoves() throws {
        // KIP-429's member-join flow: A and B own t's six partitions; C joins. The first
        // rebalance gives C nothing yet and tells A and B to give up only the partitions that
        // move; the second, after they revoked them, gives those to C.
        let balancer = CooperativeStickyBalancer()
        let counts: [String: Int32] = ["t": 6]
        var members = rejoin([member("A", ["t"]), member("B", ["t"])],
                             plan: ["A": tps("tp0 tp1 tp2"), "B": tps("tp3 tp4 tp5")], generation: 1, balancer: balancer)
            + [member("C", ["t"])]
        let target = try balancer.assign(BalanceInput(members: members, partitionCounts: counts))
        #expect(sorted(target) == expected(["A": "tp0 tp1", "B": "tp3 tp4", "C": "tp2 tp5"]))
        let round1 = cooperativeAdjusted(target, members: members)
        #expect(sorted(round1) == expected(["A": "tp0 tp1", "B": "tp3 tp4", "C": ""]))

        // A revoked tp2, B revoked tp5; everyone rejoins owning what round 1 gave them.
        members = rejoin(members, plan: round1, generation: 2, balancer: balancer)
        let target2 = try balancer.assign(BalanceInput(members: members, partitionCounts: counts))
        let round2 = cooperativeAdjusted(target2, members: members)
        #expect(sorted(round2) == expected(["A": "tp0 tp1", "B": "tp3 tp4", "C": "tp2 tp5"]))
    }

    @Test func cooperativeStaleOwnerDoesNotTakeAPartitionFromItsCurrentOwner() throws {
        // KIP-341's stale member under the cooperative protocol: C0 still lists tp0 from
        // generation 1; C1 owns it in generation 2 and keeps it through the adjustment,
        // while C0, not given it, revokes it.
        let balancer = CooperativeStickyBalancer()
        let members = rejoin([member("C0", ["t"])], plan: ["C0": tps("tp0 tp1")], generation: 1, balancer: balancer)
            + rejoin([member("C1", ["t"])], plan: ["C1": tps("tp0 tp2")], generation: 2, balancer: balancer)
        let target = try balancer.assign(BalanceInput(members: members, partitionCounts: ["t": 4]))
        #expect(sorted(target) == expected(["C0": "tp1 tp3", "C1": "tp0 tp2"]))
        #expect(sorted(cooperativeAdjusted(target, members: members)) == sorted(target))
    }

    // MARK: validate, lookup

    @Test func validateNamesEachKindOfBadPlan() throws {
        let input = BalanceInput(members: [member("A", ["t"]), member("B", ["t", "u"])], partitionCounts: ["t": 2, "u": 1])
        try validate(["A": tps("tp0"), "B": tps("tp1 up0")], input: input)
        try validate([:], input: input)
        #expect(throws: GroupProtocolError.unknownMember("Z")) { try validate(["Z": []], input: input) }
        #expect(throws: GroupProtocolError.unknownPartition(member: "A", tp("tp2"))) { try validate(["A": tps("tp2")], input: input) }
        #expect(throws: GroupProtocolError.unknownPartition(member: "A", tp("xp0"))) { try validate(["A": tps("xp0")], input: input) }
        #expect(throws: GroupProtocolError.notSubscribed(member: "A", tp("up0"))) { try validate(["A": tps("up0")], input: input) }
        #expect(throws: GroupProtocolError.assignedTwice(tp("tp0"), first: "A", second: "B")) {
            try validate(["A": tps("tp0"), "B": tps("tp0")], input: input)
        }
        #expect(throws: GroupProtocolError.assignedTwice(tp("tp0"), first: "A", second: "A")) {
            try validate(["A": [tp("tp0"), tp("tp0")]], input: input)
        }
    }

    @Test func builtInBalancersByName() {
        for name in ["range", "roundrobin", "sticky", "cooperative-sticky"] {
            #expect(BuiltInBalancers.named(name)?.protocolName == name)
        }
        #expect(BuiltInBalancers.named("cooperative-sticky")?.isCooperative == true)
        #expect(BuiltInBalancers.named("sticky")?.isCooperative == false)
        #expect(BuiltInBalancers.named("uniform") == nil)
    }
}

// MARK: properties over seeded random inputs

@Suite struct GroupBalancerPropertyTests {
    static let all: [any GroupBalancer] = [RangeBalancer(), RoundRobinBalancer(), StickyBalancer(), CooperativeStickyBalancer()]

    /// A random group: up to 12 members, up to 6 topics of 0-12 partitions, each member
    /// subscribing to all topics (`identical`) or a random subset (plus, sometimes, a topic
    /// that does not exist), some owning random partitions (existing or not).
    static func randomInput(_ rng: inout SeededGenerator, identical: Bool) -> BalanceInput {
        let topicCount = Int.random(in: 1 ... 6, using: &rng)
        var counts: [String: Int32] = [:]
        for t in 0 ..< topicCount { counts["t\(t)"] = Int32.random(in: 0 ... 12, using: &rng) }
        let topics = (0 ..< topicCount).map { "t\($0)" }
        let memberCount = Int.random(in: 1 ... 12, using: &rng)
        var members: [GroupSubscription] = []
        for i in 0 ..< memberCount {
            var subscribed = identical ? topics : topics.filter { _ in Bool.random(using: &rng) }
            if !identical, Int.random(in: 0 ..< 5, using: &rng) == 0 { subscribed.append("missing") }
            var owned: [TopicPartition] = []
            if Bool.random(using: &rng) {
                for _ in 0 ..< Int.random(in: 0 ... 6, using: &rng) {
                    owned.append(TopicPartition("t\(Int.random(in: 0 ... topicCount, using: &rng))", Int32.random(in: 0 ... 13, using: &rng)))
                }
            }
            members.append(GroupSubscription(memberId: "m\(i)", instanceId: i % 3 == 0 ? "i\(memberCount - i)" : nil,
                                             topics: sortedUnique(subscribed), ownedPartitions: sortedUnique(owned),
                                             generation: Int32.random(in: -1 ... 3, using: &rng)))
        }
        return BalanceInput(members: members, partitionCounts: counts)
    }

    /// Every partition of every subscribed topic is assigned (validity is `validate`'s).
    static func assignsEverything(_ plan: BalancePlan, _ input: BalanceInput) -> Bool {
        let wanted = Set(input.members.flatMap(\.topics)).reduce(0) { $0 + Int(input.partitionCount($1)) }
        return plan.values.reduce(0) { $0 + $1.count } == wanted
    }

    @Test func plansAreValidCompleteAndIndependentOfMemberOrder() throws {
        var rng = SeededGenerator(seed: 1)
        for round in 0 ..< 300 {
            let input = Self.randomInput(&rng, identical: round % 2 == 0)
            var shuffled = input
            shuffled.members.shuffle(using: &rng)
            for balancer in Self.all {
                let plan = try balancer.assign(input)
                try validate(plan, input: input)
                #expect(Self.assignsEverything(plan, input), "\(balancer.protocolName) round \(round)")
                #expect(Set(plan.keys) == Set(input.members.map(\.memberId)))
                #expect(sorted(try balancer.assign(shuffled)) == sorted(plan), "\(balancer.protocolName) round \(round)")
            }
        }
    }

    @Test func stickyPlansAreBalanced() throws {
        var rng = SeededGenerator(seed: 2)
        for round in 0 ..< 300 {
            let identical = round % 2 == 0
            let input = Self.randomInput(&rng, identical: identical)
            for balancer in stickies + (identical ? [RoundRobinBalancer()] as [any GroupBalancer] : []) {
                let plan = try balancer.assign(input)
                let counts = plan.mapValues(\.count)
                if identical {
                    #expect(counts.values.max()! - counts.values.min()! <= 1, "\(balancer.protocolName) round \(round)")
                } else {
                    // KIP-54: a member with 2+ fewer partitions could take none of the other's.
                    for a in input.members {
                        for b in input.members where counts[a.memberId]! + 2 <= counts[b.memberId]! {
                            #expect(!plan[b.memberId]!.contains { a.topics.contains($0.topic) }, "round \(round)")
                        }
                    }
                }
            }
        }
    }

    @Test func stickyKeepsEverythingThatStaysWithASurvivor() throws {
        var rng = SeededGenerator(seed: 3)
        for round in 0 ..< 200 {
            var input = Self.randomInput(&rng, identical: true)
            guard input.members.count > 1 else { continue }
            for balancer in stickies {
                for i in input.members.indices { input.members[i].ownedPartitions = [] }
                let first = try balancer.assign(input)
                let leaving = input.members.randomElement(using: &rng)!.memberId
                let rest = rejoin(input.members, plan: first, generation: 5, balancer: balancer).filter { $0.memberId != leaving }
                let second = try balancer.assign(BalanceInput(members: rest, partitionCounts: input.partitionCounts))
                for m in rest {
                    #expect(Set(first[m.memberId]!).isSubset(of: Set(second[m.memberId]!)),
                            "\(balancer.protocolName) round \(round) \(m.memberId)")
                }
            }
        }
    }

    @Test func cooperativeAdjustedNeverGivesAnOwnedPartitionToAnother() throws {
        var rng = SeededGenerator(seed: 4)
        for round in 0 ..< 200 {
            let input = Self.randomInput(&rng, identical: round % 2 == 0)
            let target = try CooperativeStickyBalancer().assign(input)
            let adjusted = cooperativeAdjusted(target, members: input.members)
            try validate(adjusted, input: input)
            for (memberId, partitions) in adjusted {
                // Each partition given is unowned, or owned by its assignee already.
                let me = input.members.first { $0.memberId == memberId }!
                for p in partitions where !me.ownedPartitions.contains(p) {
                    #expect(input.members.allSatisfy { !$0.ownedPartitions.contains(p) })
                }
                // Only partitions are removed, never added.
                #expect(Set(partitions).isSubset(of: Set(target[memberId]!)))
            }
        }
    }

    @Test func largeGroupCompletesBalancedAndSticky() throws {
        // 100 members x 1,000 partitions (kept small for debug builds; 1,000 x 10,000
        // takes about 0.1 s in release, under 1 s in debug).
        let topics = (0 ..< 10).map { "topic-\($0)" }
        let counts = Dictionary(uniqueKeysWithValues: topics.map { ($0, Int32(100)) })
        let members = (0 ..< 100).map { member("member-\($0)", topics) }
        for balancer in stickies {
            let first = try balancer.assign(BalanceInput(members: members, partitionCounts: counts))
            #expect(first.values.allSatisfy { $0.count == 10 })
            let rest = rejoin(members, plan: first, generation: 1, balancer: balancer).filter { $0.memberId != "member-42" }
            let second = try balancer.assign(BalanceInput(members: rest, partitionCounts: counts))
            let sizes = second.values.map(\.count)
            #expect(sizes.max()! - sizes.min()! <= 1)
            for m in rest { #expect(Set(first[m.memberId]!).isSubset(of: Set(second[m.memberId]!))) }
        }
    }
}
