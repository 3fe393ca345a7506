import KafkaProtocol

/// Kafka's "range" balancer (eager). Topic by topic, the topic's partitions in order are
/// cut into contiguous ranges over the members subscribed to it, in `balancerOrder`
/// (static members by instance id, then member id): with n partitions over m members, each
/// gets n / m and the first n % m get one more.
///
/// KIP-881 rack awareness: when members name racks and the input knows the racks of a
/// topic's replicas, each member still gets exactly the same number of that topic's
/// partitions, but first takes partitions with a replica on its own rack (in partition
/// order, members in order), and only then the partitions left over, in order. When every
/// partition has a replica on every member's rack this is the plain range plan.
public struct RangeBalancer: GroupBalancer {
    public init() {}
    public var protocolName: String { "range" }
    public var isCooperative: Bool { false }
    public func userData(owned: [TopicPartition], generation: Int32) -> [UInt8]? { nil }

    public func assign(_ input: BalanceInput) throws -> BalancePlan {
        let members = input.orderedMembers
        var plan = emptyPlan(members)
        var subscribers: [String: [Int]] = [:]
        for (i, m) in members.enumerated() {
            for topic in sortedUnique(m.topics) { subscribers[topic, default: []].append(i) }
        }
        for topic in subscribers.keys.sorted() {
            let count = Int(input.partitionCount(topic))
            guard count > 0, let subs = subscribers[topic] else { continue }
            let quotas = Self.quotas(count, over: subs.count)
            let owner = rackAware(topic: topic, count: count, subs: subs, quotas: quotas, members: members, input: input)
                ?? Self.plainRanges(count: count, quotas: quotas)
            for p in 0 ..< count {
                plan[members[subs[owner[p]]].memberId]!.append(TopicPartition(topic, Int32(p)))
            }
        }
        return plan
    }

    /// How many partitions each of `members` subscribers gets: n / m, the first n % m one more.
    static func quotas(_ n: Int, over members: Int) -> [Int] {
        (0 ..< members).map { n / members + ($0 < n % members ? 1 : 0) }
    }

    /// Partition p's subscriber index, in contiguous ranges.
    static func plainRanges(count: Int, quotas: [Int]) -> [Int] {
        var owner: [Int] = []
        owner.reserveCapacity(count)
        for (i, q) in quotas.enumerated() { owner.append(contentsOf: repeatElement(i, count: q)) }
        return owner
    }

    /// KIP-881: nil when racks are unknown for this topic or its members.
    private func rackAware(topic: String, count: Int, subs: [Int], quotas: [Int],
                           members: [GroupSubscription], input: BalanceInput) -> [Int]? {
        guard !input.partitionRacks.isEmpty, subs.contains(where: { members[$0].rack != nil }) else { return nil }
        var racks: [[String]] = []
        racks.reserveCapacity(count)
        var anyKnown = false
        for p in 0 ..< count {
            let r = input.partitionRacks[TopicPartition(topic, Int32(p))] ?? []
            anyKnown = anyKnown || !r.isEmpty
            racks.append(r)
        }
        guard anyKnown else { return nil }
        var left = quotas
        var owner = [Int](repeating: -1, count: count)
        // First: each partition to the first member (in order) on one of its replicas'
        // racks that still has room.
        for p in 0 ..< count where !racks[p].isEmpty {
            for (i, m) in subs.enumerated() where left[i] > 0 {
                if let rack = members[m].rack, racks[p].contains(rack) {
                    owner[p] = i
                    left[i] -= 1
                    break
                }
            }
        }
        // Then: what is left, in order, to members with room, in order.
        var i = 0
        for p in 0 ..< count where owner[p] < 0 {
            while left[i] == 0 { i += 1 }
            owner[p] = i
            left[i] -= 1
        }
        return owner
    }
}
