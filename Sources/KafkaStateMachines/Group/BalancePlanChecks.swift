import KafkaProtocol

// What every balancer shares: the one member order, and the leader's checks and
// adjustments of a plan after a balancer produced it.

/// The order balancers deal partitions in, whatever order the coordinator listed members:
/// static members (KIP-345) first by instance id, then dynamic members by member id (as
/// Java's assignors order them, so a static member keeps its place across restarts that
/// give it a new member id). Ties — two members claiming one instance id — fall back to
/// the member id, so the order is total.
func balancerOrder(_ a: GroupSubscription, _ b: GroupSubscription) -> Bool {
    switch (a.instanceId, b.instanceId) {
    case let (x?, y?) where x != y: return x < y
    case (.some, nil): return true
    case (nil, .some): return false
    default: return a.memberId < b.memberId
    }
}

extension BalanceInput {
    /// Members in `balancerOrder`.
    var orderedMembers: [GroupSubscription] { members.sorted(by: balancerOrder) }

    /// The partition count of a topic that exists, else 0.
    func partitionCount(_ topic: String) -> Int32 { max(partitionCounts[topic] ?? 0, 0) }
}

/// An empty list for every member, so that each appears in the plan.
func emptyPlan(_ members: [GroupSubscription]) -> BalancePlan {
    var plan: BalancePlan = [:]
    for m in members { plan[m.memberId] = [] }
    return plan
}

/// Checks a plan against its input before the leader sends it: every member it names is in
/// the group, every partition exists, belongs to a topic its member subscribed to, and is
/// given once. Members the plan leaves out simply get nothing. Errors name the first
/// problem in member-id order, so the same bad plan always reports the same error.
public func validate(_ plan: BalancePlan, input: BalanceInput) throws(GroupProtocolError) {
    var subscriptions: [String: Set<String>] = [:]
    for m in input.members { subscriptions[m.memberId] = Set(m.topics) }
    var givenTo: [TopicPartition: String] = [:]
    for memberId in plan.keys.sorted() {
        guard let topics = subscriptions[memberId] else { throw .unknownMember(memberId) }
        for tp in plan[memberId] ?? [] {
            guard tp.partition >= 0, tp.partition < input.partitionCount(tp.topic) else {
                throw .unknownPartition(member: memberId, tp)
            }
            guard topics.contains(tp.topic) else { throw .notSubscribed(member: memberId, tp) }
            if let first = givenTo[tp] { throw .assignedTwice(tp, first: first, second: memberId) }
            givenTo[tp] = memberId
        }
    }
}

/// KIP-429's leader step for cooperative protocols: a partition the plan gives to member B
/// while a different member A still owns it (A's subscription lists it) is taken out of B's
/// assignment this round. A, not given it, revokes it and rejoins; the next rebalance finds
/// it unowned and gives it to B. So a move never makes two members own one partition.
/// Every other partition stays as planned: unowned ones, and ones B owns itself — also when
/// another member lists it too (a stale claim of an older generation, KIP-341: that member
/// is not given it, so it revokes it, and B keeps working on it).
public func cooperativeAdjusted(_ plan: BalancePlan, members: [GroupSubscription]) -> BalancePlan {
    var owners: [TopicPartition: [String]] = [:]
    for m in members {
        for tp in m.ownedPartitions { owners[tp, default: []].append(m.memberId) }
    }
    var out: BalancePlan = [:]
    for (memberId, partitions) in plan {
        out[memberId] = partitions.filter { tp in
            guard let o = owners[tp] else { return true }
            return o.contains(memberId)
        }
    }
    return out
}

/// The built-in balancers by protocol name.
public enum BuiltInBalancers {
    /// Every built-in balancer (the order of preference in JoinGroup is the caller's).
    public static let all: [any GroupBalancer] = [
        RangeBalancer(), RoundRobinBalancer(), StickyBalancer(), CooperativeStickyBalancer(),
    ]

    /// The balancer with this protocol name ("range", "roundrobin", "sticky",
    /// "cooperative-sticky"), or nil.
    public static func named(_ name: String) -> (any GroupBalancer)? {
        switch name {
        case "range": RangeBalancer()
        case "roundrobin": RoundRobinBalancer()
        case "sticky": StickyBalancer()
        case "cooperative-sticky": CooperativeStickyBalancer()
        default: nil
        }
    }
}
