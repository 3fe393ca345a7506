/// The version range a broker accepts for each API key: from its ApiVersions response, or
/// from a pinned release table for brokers too old to answer ApiVersions (before 0.10).
package struct BrokerVersions: Equatable, Sendable {
    /// Sorted by key; at most one entry per key.
    public private(set) var ranges: [(key: ApiKey, range: ClosedRange<Int16>)]
    /// The cluster's finalized `transaction.version` feature level (ApiVersions v3+,
    /// KIP-890 part 2), 0 when the broker advertises none.
    public var transactionVersion: Int16 = 0

    public init(_ ranges: [(key: ApiKey, range: ClosedRange<Int16>)]) {
        var sorted = ranges.sorted { $0.key < $1.key }
        var i = 1
        while i < sorted.count { if sorted[i].key == sorted[i - 1].key { sorted.remove(at: i) } else { i += 1 } }
        self.ranges = sorted
    }

    init(_ response: ApiVersionsResponse) {
        self.init(response.apiKeys.compactMap { v in
            v.minVersion <= v.maxVersion ? (ApiKey(v.apiKey), v.minVersion ... v.maxVersion) : nil
        })
        if response.finalizedFeaturesEpoch >= 0,
           let tv = response.finalizedFeatures.first(where: { $0.name == "transaction.version" }) {
            transactionVersion = tv.maxVersionLevel
        }
    }

    public func range(for key: ApiKey) -> ClosedRange<Int16>? {
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if ranges[mid].key < key { lo = mid + 1 } else { hi = mid }
        }
        return lo < ranges.count && ranges[lo].key == key ? ranges[lo].range : nil
    }

    public static func == (a: BrokerVersions, b: BrokerVersions) -> Bool {
        a.transactionVersion == b.transactionVersion && a.ranges.count == b.ranges.count && zip(a.ranges, b.ranges).allSatisfy { $0.key == $1.key && $0.range == $1.range }
    }
}

/// User limits on the versions the engine may send, per API key. An unpinned key is limited
/// only by what this library and the broker support.
public struct VersionPins: Equatable, Sendable {
    private var pins: [ApiKey: ClosedRange<Int16>] = [:]
    public init() {}

    public subscript(key: ApiKey) -> ClosedRange<Int16>? {
        get { pins[key] }
        set { pins[key] = newValue }
    }

    /// Every pin, by API key.
    public var pinned: [(key: ApiKey, range: ClosedRange<Int16>)] {
        pins.keys.sorted().map { ($0, pins[$0]!) }
    }

    /// Pins every key to at most what `release` supported, so a client talking to a newer
    /// cluster behaves as if the cluster were that release.
    public static func maxRelease(_ release: KafkaRelease) -> VersionPins {
        var p = VersionPins()
        for entry in release.ranges { p[entry.key] = 0 ... entry.range.upperBound }
        return p
    }
}

/// Chooses the version to send: the highest version that we, the broker and the pin (a
/// per-request pin first, else the configured one) all accept.
public func negotiateVersion(ours: ClosedRange<Int16>, broker: ClosedRange<Int16>?, pin: ClosedRange<Int16>?) -> Int16? {
    guard let broker else { return nil }
    var lo = max(ours.lowerBound, broker.lowerBound)
    var hi = min(ours.upperBound, broker.upperBound)
    if let pin {
        lo = max(lo, pin.lowerBound)
        hi = min(hi, pin.upperBound)
    }
    return lo <= hi ? hi : nil
}
