/// Named Apache Kafka releases and the highest version of each API key each one accepts.
/// Used to talk to brokers that predate ApiVersions (0.8, 0.9), to pin a client to a
/// release, and to guess a broker's release from its ApiVersions answer.
///
/// Each release is written as the change from the one before it (the API keys it added or
/// bumped), which is how the Kafka release notes and KIPs describe them.
public struct KafkaRelease: Equatable, Sendable, CustomStringConvertible {
    public let name: String
    public let versions: BrokerVersions
    public var description: String { name }

    /// Every known release, oldest first.
    public static let all: [KafkaRelease] = build()

    public static func named(_ name: String) -> KafkaRelease? { all.first { $0.name == name } }

    /// The newest release whose every API key (at its maximum version) the broker supports:
    /// a broker is "at least" that release. nil when it does not even match 0.8.0. The
    /// inter-broker keys 4–7 are ignored: KRaft brokers no longer list them to clients.
    public static func guess(from broker: BrokerVersions) -> KafkaRelease? {
        for release in all.reversed() {
            let matches = release.versions.ranges.allSatisfy { entry in
                if (4 ... 7).contains(entry.key.rawValue) { return true }
                guard let r = broker.range(for: entry.key) else { return false }
                return r.upperBound >= entry.range.upperBound
            }
            if matches { return release }
        }
        return nil
    }

    // (release name, [(api key, new max version)]); a key not listed keeps its previous
    // maximum, a key first listed is new in that release (minimum version 0).
    private static let deltas: [(String, [(Int16, Int16)])] = [
        ("0.8.0", [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (7, 0)]),
        ("0.8.1", [(8, 0), (9, 0)]),
        ("0.8.2", [(8, 1), (9, 1), (10, 0), (11, 0), (12, 0)]),
        ("0.9.0", [(0, 1), (1, 1), (6, 1), (7, 1), (8, 2), (13, 0), (14, 0), (15, 0), (16, 0)]),
        ("0.10.0", [(0, 2), (1, 2), (3, 1), (6, 2), (17, 0), (18, 0)]),
        ("0.10.1", [(1, 3), (2, 1), (3, 2), (11, 1), (19, 0), (20, 0)]),
        ("0.10.2", [(6, 3), (19, 1)]),
        ("0.11.0", [(0, 3), (1, 5), (2, 2), (3, 4), (8, 3), (9, 3), (10, 1), (11, 2), (12, 1), (13, 1),
                    (14, 1), (15, 1), (16, 1), (18, 1), (19, 2), (20, 1), (21, 0), (22, 0), (23, 0),
                    (24, 0), (25, 0), (26, 0), (27, 0), (28, 0), (29, 0), (30, 0), (31, 0), (32, 0), (33, 0)]),
        ("1.0", [(0, 5), (1, 6), (3, 5), (4, 1), (6, 4), (17, 1), (34, 0), (35, 0), (36, 0), (37, 0)]),
        ("1.1", [(1, 7), (32, 1), (38, 0), (39, 0), (40, 0), (41, 0), (42, 0)]),
        ("2.0", [(0, 6), (1, 8), (2, 3), (3, 6), (8, 4), (9, 4), (10, 2), (11, 3), (12, 2), (13, 2),
                 (14, 2), (15, 2), (16, 2), (18, 2), (19, 3), (20, 2), (21, 1), (22, 1), (23, 1), (24, 1),
                 (25, 1), (26, 1), (28, 1), (29, 1), (30, 1), (31, 1), (32, 2), (33, 1), (34, 1), (35, 1),
                 (37, 1), (38, 1), (39, 1), (40, 1), (41, 1), (42, 1)]),
        ("2.1", [(0, 7), (1, 10), (2, 4), (3, 7), (8, 6), (9, 5), (20, 3), (23, 2), (28, 2)]),
        ("2.2", [(2, 5), (4, 2), (5, 1), (6, 5), (7, 2), (11, 4), (36, 1), (43, 0)]),
        ("2.3", [(1, 11), (3, 8), (8, 7), (11, 5), (12, 3), (14, 3), (15, 3), (23, 3), (44, 0)]),
        ("2.4", [(0, 8), (3, 9), (4, 4), (5, 2), (6, 6), (7, 3), (8, 8), (9, 6), (10, 3), (11, 6), (12, 4),
                 (13, 4), (14, 4), (15, 5), (16, 3), (18, 3), (19, 5), (20, 4), (22, 2), (38, 2), (42, 2),
                 (43, 2), (44, 1), (45, 0), (46, 0), (47, 0)]),
        ("2.5", [(9, 7), (11, 7), (14, 5), (22, 3), (28, 3), (29, 2), (30, 2), (31, 2), (36, 2), (37, 2),
                 (39, 2), (40, 2), (41, 2)]),
        ("2.6", [(5, 3), (16, 4), (21, 2), (32, 3), (35, 2), (48, 0), (49, 0)]),
        ("2.7", [(1, 12), (19, 6), (20, 5), (22, 4), (24, 2), (25, 2), (26, 2), (37, 3), (50, 0), (51, 0), (56, 0), (57, 0)]),
        ("2.8", [(0, 9), (2, 6), (3, 11), (4, 5), (6, 7), (19, 7), (20, 6), (23, 4), (24, 3), (25, 3), (26, 3), (27, 1),
                 (32, 4), (33, 2), (34, 2), (48, 1), (49, 1), (60, 0), (61, 0)]),
    ]

    private static func build() -> [KafkaRelease] {
        var maxima: [Int16: Int16] = [:]
        var out: [KafkaRelease] = []
        for (name, changes) in deltas {
            for (key, v) in changes { maxima[key] = v }
            let ranges = maxima.keys.sorted().map { (key: ApiKey($0), range: Int16(0) ... maxima[$0]!) }
            out.append(KafkaRelease(name: name, versions: BrokerVersions(ranges)))
        }
        return out
    }
}
