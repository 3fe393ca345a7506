import KafkaProtocol

/// Kafka's "roundrobin" balancer (eager): every partition of every subscribed topic, in
/// order (topic, then partition), is dealt to the members in `balancerOrder` in turn; a
/// member not subscribed to the partition's topic is skipped, and the deal continues after
/// the member that took the partition. With identical subscriptions counts differ by at
/// most one; with different ones the result can be uneven (Kafka documents the same).
public struct RoundRobinBalancer: GroupBalancer {
    public init() {}
    public var protocolName: String { "roundrobin" }
    public var isCooperative: Bool { false }
    public func userData(owned: [TopicPartition], generation: Int32) -> [UInt8]? { nil }

    public func assign(_ input: BalanceInput) throws -> BalancePlan {
        let members = input.orderedMembers
        var plan = emptyPlan(members)
        guard !members.isEmpty else { return plan }
        let subscribed = members.map { Set($0.topics) }
        let topics = sortedUnique(members.flatMap(\.topics))
        var next = 0
        for topic in topics {
            let count = input.partitionCount(topic)
            for p in 0 ..< count {
                while !subscribed[next].contains(topic) { next = (next + 1) % members.count }
                plan[members[next].memberId]!.append(TopicPartition(topic, p))
                next = (next + 1) % members.count
            }
        }
        return plan
    }
}
