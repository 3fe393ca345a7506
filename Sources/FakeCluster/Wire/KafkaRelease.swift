/// Which API versions each Apache Kafka release serves, so the fake can behave like that
/// release (ApiVersions answers, and requests above a release's maxima are refused).
///
/// Self-contained on purpose: the client's version pinning needs the same facts and this
/// file is meant to move into KafkaProtocol then. The table is written as the changes each
/// release made (cumulative), from the Kafka protocol guide and each API's JSON history;
/// releases between two rows serve what the earlier row gives.
public struct KafkaRelease: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// Parses "2.8", "0.10.2", "3.9.1".
    public init?(_ text: String) {
        let parts = text.split(separator: ".").map { Int($0) }
        guard (2 ... 3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        self.init(parts[0]!, parts[1]!, parts.count == 3 ? parts[2]! : 0)
    }

    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch) }
    public var description: String { "\(major).\(minor).\(patch)" }

    /// A 3.9 broker: every version of every API the fake implements (3.9 still serves the
    /// oldest versions; 4.0 dropped them, see `v4_0`).
    public static let latest = KafkaRelease(3, 9)
    public static let v4_0 = KafkaRelease(4, 0)

    /// 0.8 and 0.9 brokers have no ApiVersions: they close the connection on it.
    public var hasApiVersions: Bool { self >= KafkaRelease(0, 10) }

    /// The version range this release serves for `key`, nil if it has no such API.
    public func versions(_ key: ApiKey) -> ClosedRange<Int16>? {
        var maxV: Int16?
        for step in Self.steps where step.release <= self {
            if let v = step.max[key.rawValue] { maxV = v }
        }
        guard let maxV else { return nil }
        var minV: Int16 = 0
        if self >= Self.v4_0, let m = Self.minimumsFrom4_0[key.rawValue] { minV = m }
        return minV ... maxV
    }

    /// Every API key this release serves, in key order.
    public var apiKeys: [ApiKey] {
        var keys: [ApiKey] = []
        for raw in Int16(0) ... 100 where versions(ApiKey(raw)) != nil { keys.append(ApiKey(raw)) }
        return keys
    }

    private struct Step {
        var release: KafkaRelease
        var max: [Int16: Int16]
    }

    // API keys by number, to keep the table compact: 0 Produce, 1 Fetch, 2 ListOffsets,
    // 3 Metadata, 8 OffsetCommit, 9 OffsetFetch, 10 FindCoordinator, 11 JoinGroup,
    // 12 Heartbeat, 13 LeaveGroup, 14 SyncGroup, 15 DescribeGroups, 16 ListGroups,
    // 17 SaslHandshake, 18 ApiVersions, 19 CreateTopics, 20 DeleteTopics, 21 DeleteRecords,
    // 22 InitProducerId, 23 OffsetForLeaderEpoch, 24 AddPartitionsToTxn, 25 AddOffsetsToTxn,
    // 26 EndTxn, 28 TxnOffsetCommit, 32 DescribeConfigs, 33 AlterConfigs,
    // 36 SaslAuthenticate, 37 CreatePartitions, 42 DeleteGroups, 44 IncrementalAlterConfigs,
    // 47 OffsetDelete, 60 DescribeCluster.
    private static let steps: [Step] = [
        Step(release: KafkaRelease(0, 8, 0), max: [0: 0, 1: 0, 2: 0, 3: 0]),
        Step(release: KafkaRelease(0, 8, 1), max: [8: 0, 9: 0]),
        Step(release: KafkaRelease(0, 8, 2), max: [8: 1, 9: 1, 10: 0]),
        Step(release: KafkaRelease(0, 9, 0), max: [0: 1, 1: 1, 8: 2, 11: 0, 12: 0, 13: 0, 14: 0, 15: 0, 16: 0]),
        Step(release: KafkaRelease(0, 10, 0), max: [0: 2, 1: 2, 3: 1, 17: 0, 18: 0]),
        Step(release: KafkaRelease(0, 10, 1), max: [1: 3, 2: 1, 3: 2, 11: 1, 19: 0, 20: 0]),
        Step(release: KafkaRelease(0, 10, 2), max: [9: 2, 19: 1]),
        Step(release: KafkaRelease(0, 11, 0), max: [
            0: 3, 1: 5, 2: 2, 3: 4, 8: 3, 9: 3, 10: 1, 11: 2, 12: 1, 13: 1, 14: 1, 15: 1, 16: 1, 18: 1,
            19: 2, 20: 1, 21: 0, 22: 0, 23: 0, 24: 0, 25: 0, 26: 0, 28: 0, 32: 0, 33: 0,
        ]),
        Step(release: KafkaRelease(1, 0, 0), max: [0: 5, 1: 6, 3: 5, 17: 1, 32: 1, 36: 0, 37: 0]),
        Step(release: KafkaRelease(1, 1, 0), max: [1: 7, 42: 0]),
        Step(release: KafkaRelease(2, 0, 0), max: [
            0: 6, 1: 8, 2: 3, 3: 6, 8: 4, 9: 4, 10: 2, 11: 3, 12: 2, 13: 2, 14: 2, 15: 2, 16: 2, 18: 2,
            19: 3, 20: 2, 21: 1, 22: 1, 23: 1, 24: 1, 25: 1, 26: 1, 28: 1, 32: 2, 33: 1, 36: 1, 37: 1, 42: 1,
        ]),
        Step(release: KafkaRelease(2, 1, 0), max: [0: 7, 1: 10, 2: 4, 3: 7, 8: 6, 9: 5, 23: 2, 28: 2]),
        Step(release: KafkaRelease(2, 2, 0), max: [2: 5, 11: 4]),
        Step(release: KafkaRelease(2, 3, 0), max: [1: 11, 3: 8, 8: 7, 11: 5, 12: 3, 13: 3, 14: 3, 15: 3, 23: 3, 44: 0]),
        Step(release: KafkaRelease(2, 4, 0), max: [
            0: 8, 3: 9, 8: 8, 9: 6, 10: 3, 11: 6, 12: 4, 13: 4, 14: 4, 15: 5, 16: 3, 18: 3, 19: 5, 20: 4,
            22: 2, 36: 2, 37: 2, 42: 2, 44: 1, 47: 0,
        ]),
        Step(release: KafkaRelease(2, 5, 0), max: [9: 7, 11: 7, 14: 5, 22: 3, 28: 3]),
        Step(release: KafkaRelease(2, 7, 0), max: [0: 9, 1: 12, 2: 6, 16: 4, 19: 6, 20: 5, 22: 4, 24: 2, 25: 2, 26: 2, 37: 3]),
        Step(release: KafkaRelease(2, 8, 0), max: [3: 11, 9: 8, 10: 4, 20: 6, 32: 4, 60: 0]),
        Step(release: KafkaRelease(3, 0, 0), max: [1: 13, 2: 7, 3: 12, 23: 4, 24: 3, 25: 3, 26: 3, 28: 3, 19: 7]),
        Step(release: KafkaRelease(3, 1, 0), max: [1: 13]),
        Step(release: KafkaRelease(3, 3, 0), max: [11: 9]),
        Step(release: KafkaRelease(3, 5, 0), max: [1: 15, 2: 8]),
        Step(release: KafkaRelease(3, 7, 0), max: [0: 10, 1: 16, 8: 9, 9: 9, 10: 5, 16: 5, 22: 5, 24: 4, 25: 4, 26: 4, 28: 4, 60: 1]),
        Step(release: KafkaRelease(3, 8, 0), max: [0: 11, 1: 17, 2: 9, 24: 5, 26: 5]),
        Step(release: KafkaRelease(3, 9, 0), max: [2: 10, 10: 6]),
    ]

    /// KIP-896: Kafka 4.0 removed protocol versions older than 2.1's.
    private static let minimumsFrom4_0: [Int16: Int16] = [
        0: 3, 1: 4, 2: 1, 8: 2, 9: 1, 11: 2, 15: 0, 19: 2, 20: 1, 21: 0, 22: 0, 23: 2, 24: 0, 26: 0, 28: 0, 32: 1,
        33: 0, 36: 0, 37: 0, 42: 0,
    ]
}
