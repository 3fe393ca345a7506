import KafkaProtocol

/// Why group-protocol bytes (a JoinGroup member's metadata, a SyncGroup assignment, a
/// balancer's user data) or a balancer's plan were refused.
public enum GroupProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The bytes begin with a negative consumer-protocol version.
    case negativeVersion(Int16)
    /// The bytes do not parse (too short, a length past the end, bad UTF-8 ...).
    case malformed(what: String, detail: String)
    /// A value this side cannot encode (a string longer than 32767 bytes).
    case unencodable(what: String, detail: String)
    /// Plan checks (`validate`): a member the plan names is not in the group.
    case unknownMember(String)
    /// Plan checks: a partition that does not exist (unknown topic, or past its count).
    case unknownPartition(member: String, TopicPartition)
    /// Plan checks: a partition of a topic the member did not subscribe to.
    case notSubscribed(member: String, TopicPartition)
    /// Plan checks: a partition given to two members (or twice to one).
    case assignedTwice(TopicPartition, first: String, second: String)

    public var description: String {
        switch self {
        case .negativeVersion(let v): "consumer protocol: negative version \(v)"
        case .malformed(let what, let detail): "\(what): malformed bytes: \(detail)"
        case .unencodable(let what, let detail): "\(what): cannot encode: \(detail)"
        case .unknownMember(let m): "plan names member \(m), which is not in the group"
        case .unknownPartition(let m, let tp): "plan gives \(m) the partition \(tp), which does not exist"
        case .notSubscribed(let m, let tp): "plan gives \(m) the partition \(tp) of a topic it did not subscribe to"
        case .assignedTwice(let tp, let a, let b): "plan gives \(tp) to both \(a) and \(b)"
        }
    }
}

/// Kafka's consumer protocol (the bytes a classic consumer group carries in JoinGroup
/// metadata and SyncGroup assignments): an int16 version, then a
/// ConsumerProtocolSubscription / ConsumerProtocolAssignment body of that version.
///
/// A version above the newest we know (3) is read as 3: newer versions only append fields,
/// and Kafka's own reader does the same, so trailing bytes after a v3 body are ignored.
public enum ConsumerProtocol {
    /// The newest version of both schemas this codec knows.
    public static let newestVersion: Int16 = 3

    /// A member's subscription bytes. Topics are sent sorted without duplicates, `owned`
    /// grouped by topic (topics and partitions sorted), so the bytes never depend on the
    /// caller's collection order; fields the version does not carry are dropped (owned before v1,
    /// generation before v2, rack before v3). A version outside 0...3 is clamped into it.
    public static func encodeSubscription(topics: [String], userData: [UInt8]?, owned: [TopicPartition] = [],
                                          generation: Int32 = -1, rack: String? = nil,
                                          version: Int16 = 3) throws(GroupProtocolError) -> [UInt8] {
        let v = min(max(version, 0), newestVersion)
        var s = ConsumerProtocolSubscription()
        s.topics = sortedUnique(topics)
        s.userData = userData
        s.ownedPartitions = grouped(owned).map { topic, partitions in
            var t = ConsumerProtocolSubscription.TopicPartition()
            t.topic = topic
            t.partitions = partitions
            return t
        }
        s.generationId = generation
        s.rackId = rack
        var w = ByteWriter()
        w.writeInt16(v)
        do {
            try s.encode(into: &w, version: v)
        } catch {
            throw .unencodable(what: "consumer protocol subscription", detail: error.description)
        }
        return w.bytes
    }

    /// Decodes a member's JoinGroup metadata. Topics come out sorted without duplicates,
    /// owned partitions sorted without duplicates; a generation the version does not carry
    /// is -1, and an empty rack is no rack.
    public static func decodeSubscription(memberId: String, instanceId: String?, bytes: [UInt8]) throws(GroupProtocolError) -> GroupSubscription {
        var r = ByteReader(bytes)
        let v = try readVersion(&r, what: "consumer protocol subscription")
        let s: ConsumerProtocolSubscription
        do {
            s = try ConsumerProtocolSubscription(from: &r, version: v)
        } catch {
            throw .malformed(what: "consumer protocol subscription", detail: error.description)
        }
        var owned: [TopicPartition] = []
        for t in s.ownedPartitions {
            for p in t.partitions { owned.append(TopicPartition(t.topic, p)) }
        }
        var rack = s.rackId
        if rack?.isEmpty == true { rack = nil }
        return GroupSubscription(memberId: memberId, instanceId: instanceId, topics: sortedUnique(s.topics),
                                 userData: s.userData, ownedPartitions: sortedUnique(owned),
                                 generation: v >= 2 ? s.generationId : -1, rack: rack)
    }

    /// A member's assignment bytes (what the leader puts in SyncGroup). Versions 0-3 share
    /// one layout; we send 3, as Java's consumer does when every member speaks it, and
    /// readers of any version parse it.
    public static func encodeAssignment(partitions: [TopicPartition], userData: [UInt8]?,
                                        version: Int16 = 3) throws(GroupProtocolError) -> [UInt8] {
        let v = min(max(version, 0), newestVersion)
        var a = ConsumerProtocolAssignment()
        a.assignedPartitions = grouped(partitions).map { topic, partitions in
            var t = ConsumerProtocolAssignment.TopicPartition()
            t.topic = topic
            t.partitions = partitions
            return t
        }
        a.userData = userData
        var w = ByteWriter()
        w.writeInt16(v)
        do {
            try a.encode(into: &w, version: v)
        } catch {
            throw .unencodable(what: "consumer protocol assignment", detail: error.description)
        }
        return w.bytes
    }

    /// Decodes a SyncGroup assignment. Empty bytes are an empty assignment: a member the
    /// leader gave nothing may receive zero bytes. Partitions come out sorted, unique.
    public static func decodeAssignment(_ bytes: [UInt8]) throws(GroupProtocolError) -> (partitions: [TopicPartition], userData: [UInt8]?) {
        if bytes.isEmpty { return ([], nil) }
        var r = ByteReader(bytes)
        let v = try readVersion(&r, what: "consumer protocol assignment")
        let a: ConsumerProtocolAssignment
        do {
            a = try ConsumerProtocolAssignment(from: &r, version: v)
        } catch {
            throw .malformed(what: "consumer protocol assignment", detail: error.description)
        }
        var out: [TopicPartition] = []
        for t in a.assignedPartitions {
            for p in t.partitions { out.append(TopicPartition(t.topic, p)) }
        }
        return (sortedUnique(out), a.userData)
    }

    /// The leading version, clamped to the newest we know; negative is an error.
    private static func readVersion(_ r: inout ByteReader, what: String) throws(GroupProtocolError) -> Int16 {
        let v: Int16
        do {
            v = try r.readInt16("version")
        } catch {
            throw .malformed(what: what, detail: error.description)
        }
        guard v >= 0 else { throw .negativeVersion(v) }
        return min(v, newestVersion)
    }

    /// Partitions grouped by topic: topics sorted, partitions sorted and unique.
    static func grouped(_ partitions: [TopicPartition]) -> [(String, [Int32])] {
        var out: [(String, [Int32])] = []
        for tp in sortedUnique(partitions) {
            if let last = out.last, last.0 == tp.topic {
                out[out.count - 1].1.append(tp.partition)
            } else {
                out.append((tp.topic, [tp.partition]))
            }
        }
        return out
    }
}

/// Sorted, without duplicates.
func sortedUnique<T: Comparable>(_ values: [T]) -> [T] {
    var out: [T] = []
    out.reserveCapacity(values.count)
    for v in values.sorted() where out.last != v { out.append(v) }
    return out
}
