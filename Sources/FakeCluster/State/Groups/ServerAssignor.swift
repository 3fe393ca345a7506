/// KIP-848 server-side assignors: `uniform` (the default) and `range`, as chosen by the
/// members' ServerAssignor field. Both are deterministic: members are taken in member-id
/// order, topics in name order, partitions in index order.
enum ServerAssignor: String, Sendable, CaseIterable {
    case uniform, range

    struct Subscriber: Sendable, Equatable {
        var memberId: String
        /// Existing topics only, sorted.
        var topics: [String]
    }

    /// The target assignment: member id → partitions. Every partition of a subscribed topic
    /// goes to exactly one member subscribed to that topic.
    func assign(_ subscribers: [Subscriber], image: TopicImage,
                previous: [String: Set<TopicIdPartition>]) -> [String: Set<TopicIdPartition>] {
        let sorted = subscribers.sorted { $0.memberId < $1.memberId }
        switch self {
        case .range: return Self.range(sorted, image: image)
        case .uniform: return Self.uniform(sorted, image: image, previous: previous)
        }
    }

    /// Per topic, its subscribers in member-id order get contiguous ranges; the first
    /// `partitions % subscribers` get one more.
    private static func range(_ subscribers: [Subscriber], image: TopicImage) -> [String: Set<TopicIdPartition>] {
        var out: [String: Set<TopicIdPartition>] = [:]
        for s in subscribers { out[s.memberId] = [] }
        for name in image.names {
            guard let topic = image.byName[name] else { continue }
            let members = subscribers.filter { $0.topics.contains(name) }
            guard !members.isEmpty else { continue }
            let count = Int(topic.partitions), per = count / members.count, extra = count % members.count
            var next = 0
            for (i, m) in members.enumerated() {
                let n = per + (i < extra ? 1 : 0)
                for p in next ..< next + n { out[m.memberId]!.insert(TopicIdPartition(topicId: topic.id, partition: Int32(p))) }
                next += n
            }
        }
        return out
    }

    /// Sticky and balanced: each member keeps the partitions of its previous target it is
    /// still subscribed to, the rest go one by one (topic name, then index order) to the
    /// eligible member holding fewest (ties: lowest member id), then partitions move from
    /// the fullest eligible holder to the emptiest until no member holds two more than
    /// another that could take one of its partitions.
    private static func uniform(_ subscribers: [Subscriber], image: TopicImage,
                                previous: [String: Set<TopicIdPartition>]) -> [String: Set<TopicIdPartition>] {
        var all: [(TopicIdPartition, String)] = []
        for name in image.names {
            guard let topic = image.byName[name], subscribers.contains(where: { $0.topics.contains(name) }) else { continue }
            for p in 0 ..< topic.partitions { all.append((TopicIdPartition(topicId: topic.id, partition: p), name)) }
        }
        let topicOf = Dictionary(uniqueKeysWithValues: all.map { ($0.0, $0.1) })
        var out: [String: Set<TopicIdPartition>] = [:]
        var taken: Set<TopicIdPartition> = []
        for s in subscribers {
            var kept: Set<TopicIdPartition> = []
            for tp in (previous[s.memberId] ?? []).sorted() {
                guard let name = topicOf[tp], s.topics.contains(name), !taken.contains(tp) else { continue }
                kept.insert(tp)
                taken.insert(tp)
            }
            out[s.memberId] = kept
        }
        for (tp, name) in all where !taken.contains(tp) {
            let eligible = subscribers.filter { $0.topics.contains(name) }
            guard let best = eligible.min(by: { (out[$0.memberId]!.count, $0.memberId) < (out[$1.memberId]!.count, $1.memberId) })
            else { continue }
            out[best.memberId]!.insert(tp)
        }
        // Balance: move while some member holds two more than an eligible taker.
        while true {
            var moved = false
            let byLoad = subscribers.sorted { (out[$0.memberId]!.count, $1.memberId) > (out[$1.memberId]!.count, $0.memberId) }
            search: for giver in byLoad {
                for taker in byLoad.reversed() where out[giver.memberId]!.count > out[taker.memberId]!.count + 1 {
                    if let tp = out[giver.memberId]!.sorted().last(where: { taker.topics.contains(topicOf[$0]!) }) {
                        out[giver.memberId]!.remove(tp)
                        out[taker.memberId]!.insert(tp)
                        moved = true
                        break search
                    }
                }
            }
            if !moved { break }
        }
        return out
    }
}
