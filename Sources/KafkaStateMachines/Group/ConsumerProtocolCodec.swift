import KafkaProtocol

// TEMPORARY bridge until the balancers branch lands its codec.
enum ConsumerProtocolCodec {
    static func encodeSubscription(topics: [String], userData: [UInt8]?, owned: [TopicPartition], generation: Int32, rack: String?) -> [UInt8] {
        var s = ConsumerProtocolSubscription()
        s.topics = topics
        s.userData = userData
        var ps: [ConsumerProtocolSubscription.TopicPartition] = []
        for tp in owned.sorted() {
            if ps.last?.topic != tp.topic { var t = ConsumerProtocolSubscription.TopicPartition(); t.topic = tp.topic; ps.append(t) }
            ps[ps.count - 1].partitions.append(tp.partition)
        }
        s.ownedPartitions = ps
        s.generationId = generation
        s.rackId = rack
        var w = ByteWriter()
        w.writeInt16(3)
        try? s.encode(into: &w, version: 3)
        return w.bytes
    }

    static func decodeSubscription(memberId: String, instanceId: String?, bytes: [UInt8]) throws -> GroupSubscription {
        var r = ByteReader(bytes)
        let v = try r.readInt16("version")
        let s = try ConsumerProtocolSubscription(from: &r, version: min(max(v, 0), 3))
        var owned: [TopicPartition] = []
        for t in s.ownedPartitions { for p in t.partitions { owned.append(TopicPartition(t.topic, p)) } }
        return GroupSubscription(memberId: memberId, instanceId: instanceId, topics: Array(Set(s.topics)).sorted(), userData: s.userData,
                                 ownedPartitions: owned.sorted(), generation: s.generationId, rack: s.rackId)
    }

    static func encodeAssignment(partitions: [TopicPartition], userData: [UInt8]?) -> [UInt8] {
        var a = ConsumerProtocolAssignment()
        var ps: [ConsumerProtocolAssignment.TopicPartition] = []
        for tp in partitions.sorted() {
            if ps.last?.topic != tp.topic { var t = ConsumerProtocolAssignment.TopicPartition(); t.topic = tp.topic; ps.append(t) }
            ps[ps.count - 1].partitions.append(tp.partition)
        }
        a.assignedPartitions = ps
        a.userData = userData
        var w = ByteWriter()
        w.writeInt16(3)
        try? a.encode(into: &w, version: 3)
        return w.bytes
    }

    static func decodeAssignment(_ bytes: [UInt8]) throws -> (partitions: [TopicPartition], userData: [UInt8]?) {
        if bytes.isEmpty { return ([], nil) }
        var r = ByteReader(bytes)
        let v = try r.readInt16("version")
        let a = try ConsumerProtocolAssignment(from: &r, version: min(max(v, 0), 3))
        var out: [TopicPartition] = []
        for t in a.assignedPartitions { for p in t.partitions { out.append(TopicPartition(t.topic, p)) } }
        return (out.sorted(), a.userData)
    }
}

// TEMPORARY: plan checks until the balancers branch lands.
enum BalancePlanCheck {
    struct Invalid: Error, CustomStringConvertible { var description: String }

    static func validate(_ plan: BalancePlan, input: BalanceInput) throws {
        let members = Dictionary(uniqueKeysWithValues: input.members.map { ($0.memberId, Set($0.topics)) })
        var seen = Set<TopicPartition>()
        for m in plan.keys.sorted() {
            guard let topics = members[m] else { throw Invalid(description: "plan names unknown member \(m)") }
            for tp in plan[m]! {
                guard topics.contains(tp.topic) else { throw Invalid(description: "\(m) is given \(tp.topic), which it does not subscribe to") }
                guard let n = input.partitionCounts[tp.topic], tp.partition >= 0, tp.partition < n else {
                    throw Invalid(description: "\(tp.topic)/\(tp.partition) does not exist")
                }
                guard seen.insert(tp).inserted else { throw Invalid(description: "\(tp.topic)/\(tp.partition) is given twice") }
            }
        }
    }

    static func cooperativeAdjusted(_ plan: BalancePlan, members: [GroupSubscription]) -> BalancePlan {
        var owner: [TopicPartition: String] = [:]
        for m in members { for tp in m.ownedPartitions { owner[tp] = m.memberId } }
        var out = plan
        for (m, parts) in plan {
            out[m] = parts.filter { owner[$0] == nil || owner[$0] == m }
        }
        return out
    }
}

struct TemporaryRangeBalancer: GroupBalancer {
    var protocolName: String { "range" }
    var isCooperative: Bool { false }
    func userData(owned: [TopicPartition], generation: Int32) -> [UInt8]? { nil }
    func assign(_ input: BalanceInput) throws -> BalancePlan {
        var plan: BalancePlan = [:]
        for m in input.members { plan[m.memberId] = [] }
        for topic in input.partitionCounts.keys.sorted() {
            let ms = input.members.filter { $0.topics.contains(topic) }.map(\.memberId).sorted()
            guard !ms.isEmpty else { continue }
            let n = Int(input.partitionCounts[topic]!)
            for p in 0 ..< n { plan[ms[p * ms.count / max(n, 1)], default: []].append(TopicPartition(topic, Int32(p))) }
        }
        return plan
    }
}

// TEMPORARY until the balancers branch lands.
enum BuiltInBalancers {
    static func named(_ name: String) -> (any GroupBalancer)? { name == "range" ? TemporaryRangeBalancer() : nil }
}
