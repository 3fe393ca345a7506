/// An Apache Kafka release and the version range of each API key a broker of that release
/// serves to clients. One table for the whole library: the client pins to it, guesses a
/// broker's release from it, and FakeCluster emulates it.
///
/// The table is written as the changes each release made, from Kafka's protocol guide, each
/// API's JSON history and the KIPs; releases between two rows serve what the earlier row
/// gives. Up to 3.9 the rows describe a ZooKeeper-mode broker (so they list the inter-broker
/// keys 4–7); 4.x rows describe a KRaft broker, which no longer lists the ZooKeeper-only and
/// controller-only keys and raised some minimum versions (KIP-896).
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
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        guard (2 ... 3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 0 }) else { return nil }
        self.init(parts[0]!, parts[1]!, parts.count == 3 ? parts[2]! : 0)
    }

    public static func < (a: Self, b: Self) -> Bool { (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch) }
    public var description: String { "\(major).\(minor).\(patch)" }

    /// How Kafka names the release: "0.10.2" before 1.0, "2.8" after (patches left out).
    public var name: String { major == 0 ? "0.\(minor).\(patch)" : "\(major).\(minor)" }

    /// Every release the table has a row for, oldest first.
    public static let all: [KafkaRelease] = table.map(\.release)

    /// The release of the table with this name ("0.9.0", "2.8", "4.0"), nil if there is none.
    public static func named(_ name: String) -> KafkaRelease? {
        guard let r = KafkaRelease(name) else { return nil }
        return all.contains(r) ? r : nil
    }

    /// A 3.9 broker: the newest release that still serves the oldest versions (4.0 dropped
    /// them, see `v4_0`).
    public static let latest = KafkaRelease(3, 9)
    public static let v4_0 = KafkaRelease(4, 0)

    /// 0.8 and 0.9 brokers have no ApiVersions: they close the connection on it.
    public var hasApiVersions: Bool { self >= KafkaRelease(0, 10) }

    /// The version range this release serves for `key`, nil if it has no such API.
    public func versions(_ key: ApiKey) -> ClosedRange<Int16>? { row?.ranges[key.rawValue] }

    /// Every API key this release serves, in key order.
    public var apiKeys: [ApiKey] { (row?.ranges.keys.sorted() ?? []).map { ApiKey($0) } }

    /// Every (key, range) this release serves, in key order.
    public var ranges: [(key: ApiKey, range: ClosedRange<Int16>)] {
        guard let row else { return [] }
        return row.ranges.keys.sorted().map { (ApiKey($0), row.ranges[$0]!) }
    }

    /// The keys brokers list or hide depending on their mode or configuration (inter-broker
    /// and controller APIs, telemetry): leave them out when telling releases apart.
    public static let keysIgnoredByGuess: Set<Int16> = [4, 5, 6, 7, 27, 56, 57, 58, 67, 71, 72]

    /// The newest release whose every key (ignoring `keysIgnoredByGuess`) `served` gives at
    /// least at that release's maximum: a broker is "at least" that release. nil when it
    /// does not even match 0.8.0.
    public static func guess(served: (ApiKey) -> ClosedRange<Int16>?) -> KafkaRelease? {
        for row in table.reversed() {
            let matches = row.ranges.allSatisfy { key, range in
                if keysIgnoredByGuess.contains(key) { return true }
                guard let r = served(ApiKey(key)) else { return false }
                return r.upperBound >= range.upperBound
            }
            if matches { return row.release }
        }
        return nil
    }

    private var row: Row? { Self.table.last { $0.release <= self } }

    private struct Row {
        var release: KafkaRelease
        var ranges: [Int16: ClosedRange<Int16>]
    }

    /// One release's changes: new maxima (a key first listed is new, minimum 0), keys it no
    /// longer serves, and raised minimums.
    private struct Change {
        var release: KafkaRelease
        var max: [(Int16, Int16)]
        var removed: [Int16] = []
        var min: [(Int16, Int16)] = []
    }

    private static let table: [Row] = {
        var ranges: [Int16: ClosedRange<Int16>] = [:]
        var rows: [Row] = []
        for change in changes {
            for key in change.removed { ranges[key] = nil }
            for (key, v) in change.max { ranges[key] = (ranges[key]?.lowerBound ?? 0) ... v }
            for (key, v) in change.min { ranges[key] = v ... ranges[key]!.upperBound }
            rows.append(Row(release: change.release, ranges: ranges))
        }
        return rows
    }()

    // Keys by number: 0 Produce, 1 Fetch, 2 ListOffsets, 3 Metadata, 4 LeaderAndIsr,
    // 5 StopReplica, 6 UpdateMetadata, 7 ControlledShutdown, 8 OffsetCommit, 9 OffsetFetch,
    // 10 FindCoordinator, 11 JoinGroup, 12 Heartbeat, 13 LeaveGroup, 14 SyncGroup,
    // 15 DescribeGroups, 16 ListGroups, 17 SaslHandshake, 18 ApiVersions, 19 CreateTopics,
    // 20 DeleteTopics, 21 DeleteRecords, 22 InitProducerId, 23 OffsetForLeaderEpoch,
    // 24 AddPartitionsToTxn, 25 AddOffsetsToTxn, 26 EndTxn, 27 WriteTxnMarkers,
    // 28 TxnOffsetCommit, 29-31 Describe/Create/DeleteAcls, 32 DescribeConfigs,
    // 33 AlterConfigs, 34 AlterReplicaLogDirs, 35 DescribeLogDirs, 36 SaslAuthenticate,
    // 37 CreatePartitions, 38-41 delegation tokens, 42 DeleteGroups, 43 ElectLeaders,
    // 44 IncrementalAlterConfigs, 45-46 partition reassignments, 47 OffsetDelete,
    // 48-49 client quotas, 50-51 SCRAM credentials, 55 DescribeQuorum, 56 AlterPartition,
    // 57 UpdateFeatures, 58 Envelope, 60 DescribeCluster, 61 DescribeProducers,
    // 64 UnregisterBroker, 65 DescribeTransactions, 66 ListTransactions,
    // 67 AllocateProducerIds, 68 ConsumerGroupHeartbeat, 69 ConsumerGroupDescribe,
    // 74 ListClientMetricsResources, 75 DescribeTopicPartitions, 76-79 share groups,
    // 80-81 raft voters, 83-87 share group state, 90-92 share group offsets.
    private static let changes: [Change] = [
        Change(release: KafkaRelease(0, 8, 0), max: [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0)]),
        Change(release: KafkaRelease(0, 8, 1), max: [(8, 0), (9, 0)]),
        Change(release: KafkaRelease(0, 8, 2), max: [(8, 1), (9, 1), (10, 0), (11, 0), (12, 0)]),
        Change(release: KafkaRelease(0, 9, 0), max: [(0, 1), (1, 1), (6, 1), (7, 1), (8, 2), (13, 0), (14, 0), (15, 0), (16, 0)]),
        Change(release: KafkaRelease(0, 10, 0), max: [(0, 2), (1, 2), (3, 1), (6, 2), (17, 0), (18, 0)]),
        Change(release: KafkaRelease(0, 10, 1), max: [(1, 3), (2, 1), (3, 2), (11, 1), (19, 0), (20, 0)]),
        // OffsetFetch v2 (KIP-88, fetch all of a group's offsets) shipped in 0.10.2.
        Change(release: KafkaRelease(0, 10, 2), max: [(6, 3), (9, 2), (19, 1)]),
        Change(release: KafkaRelease(0, 11, 0), max: [
            (0, 3), (1, 5), (2, 2), (3, 4), (8, 3), (9, 3), (10, 1), (11, 2), (12, 1), (13, 1), (14, 1), (15, 1),
            (16, 1), (18, 1), (19, 2), (20, 1), (21, 0), (22, 0), (23, 0), (24, 0), (25, 0), (26, 0), (27, 0),
            (28, 0), (29, 0), (30, 0), (31, 0), (32, 0), (33, 0),
        ]),
        Change(release: KafkaRelease(1, 0, 0), max: [(0, 5), (1, 6), (3, 5), (4, 1), (6, 4), (17, 1), (34, 0), (35, 0), (36, 0), (37, 0)]),
        Change(release: KafkaRelease(1, 1, 0), max: [(1, 7), (32, 1), (38, 0), (39, 0), (40, 0), (41, 0), (42, 0)]),
        Change(release: KafkaRelease(2, 0, 0), max: [
            (0, 6), (1, 8), (2, 3), (3, 6), (8, 4), (9, 4), (10, 2), (11, 3), (12, 2), (13, 2), (14, 2), (15, 2),
            (16, 2), (18, 2), (19, 3), (20, 2), (21, 1), (22, 1), (23, 1), (24, 1), (25, 1), (26, 1), (28, 1),
            (29, 1), (30, 1), (31, 1), (32, 2), (33, 1), (34, 1), (35, 1), (37, 1), (38, 1), (39, 1), (40, 1),
            (41, 1), (42, 1),
        ]),
        Change(release: KafkaRelease(2, 1, 0), max: [(0, 7), (1, 10), (2, 4), (3, 7), (8, 6), (9, 5), (20, 3), (23, 2), (28, 2)]),
        Change(release: KafkaRelease(2, 2, 0), max: [(2, 5), (4, 2), (5, 1), (6, 5), (7, 2), (11, 4), (36, 1), (43, 0)]),
        Change(release: KafkaRelease(2, 3, 0), max: [(1, 11), (3, 8), (8, 7), (11, 5), (12, 3), (14, 3), (15, 3), (23, 3), (44, 0)]),
        Change(release: KafkaRelease(2, 4, 0), max: [
            (0, 8), (3, 9), (4, 4), (5, 2), (6, 6), (7, 3), (8, 8), (9, 6), (10, 3), (11, 6), (12, 4), (13, 4),
            (14, 4), (15, 5), (16, 3), (18, 3), (19, 5), (20, 4), (22, 2), (38, 2), (42, 2), (43, 2), (44, 1),
            (45, 0), (46, 0), (47, 0),
        ]),
        Change(release: KafkaRelease(2, 5, 0), max: [
            (9, 7), (11, 7), (14, 5), (22, 3), (28, 3), (29, 2), (30, 2), (31, 2), (36, 2), (37, 2), (39, 2), (40, 2),
            (41, 2),
        ]),
        Change(release: KafkaRelease(2, 6, 0), max: [(5, 3), (16, 4), (21, 2), (32, 3), (35, 2), (48, 0), (49, 0)]),
        Change(release: KafkaRelease(2, 7, 0), max: [
            (1, 12), (19, 6), (20, 5), (22, 4), (24, 2), (25, 2), (26, 2), (37, 3), (50, 0), (51, 0), (56, 0), (57, 0),
        ]),
        Change(release: KafkaRelease(2, 8, 0), max: [
            (0, 9), (2, 6), (3, 11), (4, 5), (6, 7), (19, 7), (20, 6), (23, 4), (24, 3), (25, 3), (26, 3), (27, 1),
            (32, 4), (33, 2), (34, 2), (48, 1), (49, 1), (60, 0), (61, 0),
        ]),
        Change(release: KafkaRelease(3, 0, 0), max: [(2, 7), (9, 8), (10, 4), (65, 0), (66, 0), (67, 0)]),
        Change(release: KafkaRelease(3, 1, 0), max: [(1, 13), (3, 12)]),
        Change(release: KafkaRelease(3, 2, 0), max: [(4, 6), (11, 9), (13, 5), (35, 3), (56, 1)]),
        Change(release: KafkaRelease(3, 3, 0), max: [(29, 3), (30, 3), (31, 3), (35, 4), (38, 3), (41, 3), (56, 2), (57, 1)]),
        Change(release: KafkaRelease(3, 4, 0), max: [(4, 7), (5, 4), (6, 8), (58, 0)]),
        Change(release: KafkaRelease(3, 5, 0), max: [(1, 15), (2, 8), (56, 3)]),
        Change(release: KafkaRelease(3, 6, 0), max: [(24, 4)]),
        // KIP-848's ConsumerGroupHeartbeat (3.7) and ConsumerGroupDescribe (3.8) were early access,
        // off by default (unstable API versions / group.coordinator.rebalance.protocols): only
        // 4.0 advertises them out of the box.
        Change(release: KafkaRelease(3, 7, 0), max: [(0, 10), (1, 16), (8, 9), (9, 9), (60, 1)]),
        Change(release: KafkaRelease(3, 8, 0), max: [
            (0, 11), (10, 5), (16, 5), (22, 5), (24, 5), (25, 4), (26, 4), (28, 4), (66, 1),
        ]),
        Change(release: KafkaRelease(3, 9, 0), max: [(1, 17), (2, 9), (10, 6), (18, 4)]),
        // A KRaft broker: no ZooKeeper or controller-only keys; the KRaft broker keys that a
        // 3.9 KRaft broker already listed; KIP-896 removed the versions older than 2.1's.
        Change(release: KafkaRelease(4, 0, 0), max: [
            (0, 12), (2, 10), (3, 13), (15, 6), (26, 5), (28, 5), (55, 2), (57, 2), (60, 2), (64, 0), (68, 1), (69, 1),
            (74, 0), (75, 0), (80, 0), (81, 0),
        ], removed: [4, 5, 6, 7, 56, 58, 67], min: [
            (0, 3), (1, 4), (2, 1), (8, 2), (9, 1), (11, 2), (19, 2), (20, 1), (23, 2), (27, 1), (29, 1), (30, 1),
            (31, 1), (32, 1), (34, 1), (35, 1), (38, 1), (39, 1), (40, 1), (41, 1),
        ]),
        Change(release: KafkaRelease(4, 1, 0), max: [
            (0, 13), (1, 18), (45, 1), (66, 2), (74, 1), (76, 1), (77, 1), (78, 1), (79, 1), (83, 0), (84, 0), (85, 0),
            (86, 0), (87, 0), (90, 0), (91, 0), (92, 0),
        ]),
    ]
}
