import KafkaProtocol

/// Kafka's "sticky" balancer (KIP-54, eager, with KIP-341's generations). Members send
/// their previous assignment and its generation in Java's StickyAssignorUserData v1; a
/// member without readable user data is taken to own its subscription's owned partitions.
/// The plan is `StickyPlanner`'s: balanced first, then as sticky as possible.
public struct StickyBalancer: GroupBalancer {
    public init() {}
    public var protocolName: String { "sticky" }
    public var isCooperative: Bool { false }

    public func userData(owned: [TopicPartition], generation: Int32) -> [UInt8]? {
        StickyUserData.encodeSticky(owned: owned, generation: generation)
    }

    public func assign(_ input: BalanceInput) throws -> BalancePlan {
        StickyPlanner.plan(input) { m in
            if let data = m.userData, let decoded = StickyUserData.decodeSticky(data) {
                return (decoded.partitions, decoded.generation ?? m.generation)
            }
            return (m.ownedPartitions, m.generation)
        }
    }
}

/// Kafka's "cooperative-sticky" balancer (KIP-429): the same plan as "sticky", from the
/// owned partitions in members' subscriptions; the generation is the subscription's (v2+)
/// or, from older members, the INT32 in the user data.
///
/// `assign` returns the target plan. The leader applies `cooperativeAdjusted` to the plan
/// of any cooperative balancer before sending it, so that a partition changing hands is
/// first revoked by its owner and only given out in the next rebalance.
public struct CooperativeStickyBalancer: GroupBalancer {
    public init() {}
    public var protocolName: String { "cooperative-sticky" }
    public var isCooperative: Bool { true }

    public func userData(owned: [TopicPartition], generation: Int32) -> [UInt8]? {
        StickyUserData.encodeCooperative(generation: generation)
    }

    public func assign(_ input: BalanceInput) throws -> BalancePlan {
        StickyPlanner.plan(input) { m in
            var generation = m.generation
            if generation < 0, let data = m.userData, let g = StickyUserData.decodeCooperative(data) {
                generation = g
            }
            return (m.ownedPartitions, generation)
        }
    }
}

/// The sticky plan, our own algorithm (not Java's or franz-go's). Guarantees:
///
/// 1. Valid: every partition of every subscribed, existing topic goes to exactly one member
///    subscribed to its topic (a topic with no partitions, or claims of partitions that do
///    not exist or that the member no longer subscribes to, are ignored).
/// 2. Balanced in KIP-54's sense: if member A has two or more partitions fewer than member
///    B, none of B's partitions is of a topic A subscribes to. With identical subscriptions
///    that is: counts differ by at most one.
/// 3. Sticky: a member keeps what it validly claims unless balance needs it elsewhere; only
///    the fewest moves the balancing steps below need are made. KIP-341: when several
///    members claim one partition, the claim of the highest generation wins; claims tied at
///    the highest generation are all dropped (the partition is then dealt as unowned).
/// 4. Deterministic: members are taken in `balancerOrder`, topics by name, partitions by
///    number; the order of `input.members` and hashing play no part.
///
/// Steps: (a) keep valid winning claims; (b) deal unowned partitions — topics with the
/// fewest eligible members first — each to the eligible member with the fewest partitions
/// (ties: earlier member); (c) until nothing moves: take members from most to fewest
/// partitions (ties: later member first) and move their partitions — those they did not
/// claim first, then the highest-numbered — to the least loaded eligible member whenever
/// that one has two or more fewer. Each move lowers the sum of squared counts, so (c) ends;
/// where it ends is guarantee 2. Cost: O(partitions x eligible members) per pass of (c),
/// and passes after the first are rare (1,000 members x 10,000 partitions: about 0.1 s in
/// a release build, fresh, after a member left, or with one member claiming everything).
enum StickyPlanner {
    static func plan(_ input: BalanceInput,
                     claims claimOf: (GroupSubscription) -> (partitions: [TopicPartition], generation: Int32)) -> BalancePlan {
        let members = input.orderedMembers
        var plan = emptyPlan(members)
        let m = members.count
        guard m > 0 else { return plan }

        // Topics someone subscribes to that have partitions, by name; partition indices
        // run topic by topic, so index order is (topic, partition) order.
        var subscribedTopics: [Set<String>] = []
        subscribedTopics.reserveCapacity(m)
        for member in members { subscribedTopics.append(Set(member.topics)) }
        let topics = sortedUnique(members.flatMap(\.topics)).filter { input.partitionCount($0) > 0 }
        var topicIndex: [String: Int] = [:]
        var base: [Int] = []
        var eligible: [[Int]] = []
        var total = 0
        for (t, topic) in topics.enumerated() {
            topicIndex[topic] = t
            base.append(total)
            total += Int(input.partitionCount(topic))
            eligible.append((0 ..< m).filter { subscribedTopics[$0].contains(topic) })
        }
        var topicOf = [Int](repeating: 0, count: total)
        for t in 0 ..< topics.count {
            let end = t + 1 < topics.count ? base[t + 1] : total
            for p in base[t] ..< end { topicOf[p] = t }
        }

        // (a) Claims: the highest generation wins; a tie at the top drops the partition.
        let noClaim = -1, contested = -2
        var claimant = [Int](repeating: noClaim, count: total)
        var claimGeneration = [Int32](repeating: .min, count: total)
        for (i, member) in members.enumerated() {
            let claim = claimOf(member)
            for tp in claim.partitions {
                guard let t = topicIndex[tp.topic], tp.partition >= 0,
                      tp.partition < input.partitionCount(tp.topic),
                      subscribedTopics[i].contains(tp.topic) else { continue }
                let p = base[t] + Int(tp.partition)
                if claim.generation > claimGeneration[p] {
                    claimGeneration[p] = claim.generation
                    claimant[p] = i
                } else if claim.generation == claimGeneration[p], claimant[p] != i {
                    claimant[p] = contested
                }
            }
        }
        var owner = [Int](repeating: -1, count: total)
        var count = [Int](repeating: 0, count: m)
        for p in 0 ..< total where claimant[p] >= 0 {
            owner[p] = claimant[p]
            count[claimant[p]] += 1
        }

        /// The eligible member for topic t with the fewest partitions (ties: earliest),
        /// other than `excluding`; -1 when there is none.
        func leastLoaded(_ t: Int, excluding: Int) -> Int {
            var best = -1
            for e in eligible[t] where e != excluding {
                if best < 0 || count[e] < count[best] { best = e }
            }
            return best
        }

        // (b) Unowned partitions: topics with the fewest eligible members first.
        let dealOrder = (0 ..< topics.count).sorted {
            (eligible[$0].count, $0) < (eligible[$1].count, $1)
        }
        for t in dealOrder {
            let end = t + 1 < topics.count ? base[t + 1] : total
            for p in base[t] ..< end where owner[p] < 0 {
                let to = leastLoaded(t, excluding: -1)
                owner[p] = to
                count[to] += 1
            }
        }

        // (c) Balance by single moves from loaded members to lighter eligible ones.
        while true {
            var moved = false
            var lists = [[Int]](repeating: [], count: m)
            for p in 0 ..< total { lists[owner[p]].append(p) }
            let floor = count.min() ?? 0   // no count drops below it during a pass
            let order = (0 ..< m).sorted { count[$0] != count[$1] ? count[$0] > count[$1] : $0 > $1 }
            for h in order where count[h] >= floor + 2 {
                let list = lists[h]
                let candidates = list.reversed().filter { claimant[$0] != h } + list.reversed().filter { claimant[$0] == h }
                var cachedTopic = -1, target = -1
                for p in candidates where owner[p] == h {
                    if count[h] < floor + 2 { break }
                    let t = topicOf[p]
                    if t != cachedTopic {
                        cachedTopic = t
                        target = leastLoaded(t, excluding: h)
                    }
                    guard target >= 0, count[target] + 2 <= count[h] else { continue }
                    owner[p] = target
                    count[h] -= 1
                    count[target] += 1
                    moved = true
                    target = leastLoaded(t, excluding: h)
                }
            }
            if !moved { break }
        }

        for p in 0 ..< total {
            let t = topicOf[p]
            plan[members[owner[p]].memberId]!.append(TopicPartition(topics[t], Int32(p - base[t])))
        }
        return plan
    }
}
