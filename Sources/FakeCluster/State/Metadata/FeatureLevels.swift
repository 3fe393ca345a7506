/// The cluster's feature flags (KIP-584): the level range every broker supports per
/// feature, and the finalized level of each, with the epoch that counts their changes.
/// Changed only through UpdateFeatures (Handlers/Features.swift), at the controller, as
/// KRaft does; every broker's ApiVersions then answers the new levels.
struct FeatureLevels: Sendable, Equatable {
    struct Supported: Sendable, Equatable {
        var name: String
        var minVersion: Int16
        var maxVersion: Int16
    }

    /// Sorted by name.
    private(set) var supported: [Supported]
    /// Finalized max levels, sorted by name; a feature at level 0 is not finalized (Kafka
    /// lists none at 0).
    private(set) var finalized: [(name: String, level: Int16)]
    /// -1 until a level is finalized (what ApiVersions calls an unknown epoch).
    private(set) var epoch: Int64

    init(supported: [String: ClosedRange<Int16>], finalized: [String: Int16]) {
        self.supported = supported.keys.sorted().map { Supported(name: $0, minVersion: supported[$0]!.lowerBound, maxVersion: supported[$0]!.upperBound) }
        self.finalized = finalized.keys.sorted().compactMap { finalized[$0]! > 0 ? ($0, finalized[$0]!) : nil }
        epoch = self.finalized.isEmpty ? -1 : 1
    }

    func level(_ name: String) -> Int16 { finalized.first { $0.name == name }?.level ?? 0 }

    func range(_ name: String) -> ClosedRange<Int16>? {
        supported.first { $0.name == name }.map { $0.minVersion ... $0.maxVersion }
    }

    /// How an update is asked for (UpdateFeatures' UpgradeType; v0's AllowDowngrade maps to
    /// a safe downgrade).
    enum Kind: Int8 { case upgrade = 1, safeDowngrade = 2, unsafeDowngrade = 3 }

    /// Why the controller refuses to set `name` to `level`, or nil.
    func problem(_ name: String, level: Int16, kind: Kind?) -> String? {
        guard let kind else { return "Unknown upgrade type for feature \(name)" }
        guard let range = range(name) else { return "The controller does not support the given feature \(name)" }
        if level < 0 { return "Invalid update version \(level) for feature \(name): below 0" }
        if level > 0 && !range.contains(level) {
            return "Invalid update version \(level) for feature \(name). Local controller supports versions \(range.lowerBound)-\(range.upperBound)"
        }
        let current = self.level(name)
        if level < current && kind == .upgrade {
            return "Invalid update version \(level) for feature \(name). Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade."
        }
        if level > current && kind != .upgrade {
            return "Invalid update version \(level) for feature \(name). Can't downgrade to a newer version."
        }
        return nil
    }

    /// Sets every level (0 removes the feature) and bumps the epoch once.
    mutating func apply(_ levels: [(name: String, level: Int16)]) {
        for (name, level) in levels {
            finalized.removeAll { $0.name == name }
            if level > 0 { finalized.append((name, level)) }
        }
        finalized.sort { $0.name < $1.name }
        epoch = max(epoch, 0) + 1
    }

    static func == (a: FeatureLevels, b: FeatureLevels) -> Bool {
        a.supported == b.supported && a.epoch == b.epoch
            && a.finalized.map(\.name) == b.finalized.map(\.name) && a.finalized.map(\.level) == b.finalized.map(\.level)
    }
}
