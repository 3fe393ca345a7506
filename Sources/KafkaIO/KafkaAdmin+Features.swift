import KafkaProtocol
import KafkaStateMachines

/// A feature's level range that the answering broker supports (KIP-584).
public struct SupportedFeature: Sendable, Equatable {
    /// The feature (`metadata.version`, `transaction.version`, …).
    public var name: String
    /// The lowest level the broker supports.
    public var minVersion: Int16
    /// The highest level the broker supports.
    public var maxVersion: Int16

    /// For tests of code that reads features.
    public init(name: String, minVersion: Int16, maxVersion: Int16) {
        self.name = name
        self.minVersion = minVersion
        self.maxVersion = maxVersion
    }
}

/// A feature's cluster-wide finalized level range.
public struct FinalizedFeature: Sendable, Equatable {
    /// The feature.
    public var name: String
    /// The lowest finalized level.
    public var minVersionLevel: Int16
    /// The finalized level in force.
    public var maxVersionLevel: Int16

    /// For tests of code that reads features.
    public init(name: String, minVersionLevel: Int16, maxVersionLevel: Int16) {
        self.name = name
        self.minVersionLevel = minVersionLevel
        self.maxVersionLevel = maxVersionLevel
    }
}

/// The features a broker supports and the cluster's finalized levels, from ApiVersions v3+.
public struct FeatureMetadata: Sendable, Equatable {
    /// By name.
    public var supported: [SupportedFeature]
    /// By name.
    public var finalized: [FinalizedFeature]
    /// The epoch of the finalized levels; nil when the broker knows none (-1 on the wire).
    public var finalizedEpoch: Int64?
}

/// One finalized feature level to set (UpdateFeatures). A level below the current one
/// needs a downgrade kind; level 0 removes the feature (a downgrade too).
public struct FeatureUpdate: Sendable, Hashable {
    /// UpdateFeatures' UpgradeType.
    public enum Kind: Int8, Sendable, Hashable, CustomStringConvertible {
        case upgrade = 1
        /// Only when no metadata is lost.
        case safeDowngrade = 2
        /// Even when metadata is lost.
        case unsafeDowngrade = 3

        /// The kind in words ("upgrade", "safe downgrade", "unsafe downgrade").
        public var description: String {
            switch self {
            case .upgrade: return "upgrade"
            case .safeDowngrade: return "safe downgrade"
            case .unsafeDowngrade: return "unsafe downgrade"
            }
        }
    }

    /// The feature to change.
    public var feature: String
    /// The level to finalize (0 removes the feature).
    public var maxVersionLevel: Int16
    /// Upgrade, or a downgrade (safe or unsafe).
    public var kind: Kind

    /// Sets `feature` to `maxVersionLevel`, an upgrade unless `kind` says otherwise.
    public init(_ feature: String, maxVersionLevel: Int16, kind: Kind = .upgrade) {
        self.feature = feature
        self.maxVersionLevel = maxVersionLevel
        self.kind = kind
    }

    /// Removes the finalized feature (level 0).
    public static func delete(_ feature: String, unsafe: Bool = false) -> FeatureUpdate {
        FeatureUpdate(feature, maxVersionLevel: 0, kind: unsafe ? .unsafeDowngrade : .safeDowngrade)
    }
}

extension KafkaAdmin {
    /// The supported and finalized features (ApiVersions v3+, Kafka 2.4+; brokers before 2.7
    /// list none), as the answering broker knows them.
    public func describeFeatures() async throws(KafkaAdminError) -> FeatureMetadata {
        var r = ApiVersionsRequest()
        // Brokers validate these on v3+ (KIP-511).
        r.clientSoftwareName = client.configuration.softwareName
        r.clientSoftwareVersion = client.configuration.softwareVersion
        let resp = try await send("describeFeatures", r, to: .anyBroker, pin: 3 ... ApiVersionsRequest.validVersions.upperBound)
        if let e = KafkaAdminError.from(resp.errorCode) { throw e }
        return FeatureMetadata(
            supported: resp.supportedFeatures.map { SupportedFeature(name: $0.name, minVersion: $0.minVersion, maxVersion: $0.maxVersion) }
                .sorted { $0.name < $1.name },
            finalized: resp.finalizedFeatures.map { FinalizedFeature(name: $0.name, minVersionLevel: $0.minVersionLevel, maxVersionLevel: $0.maxVersionLevel) }
                .sorted { $0.name < $1.name },
            finalizedEpoch: resp.finalizedFeaturesEpoch >= 0 ? resp.finalizedFeaturesEpoch : nil)
    }

    /// Sets finalized feature levels (UpdateFeatures v1+, Kafka 3.3+), results named by
    /// feature. With `validateOnly` the controller checks and
    /// changes nothing. A broker error for the whole request is every feature's error.
    public func updateFeatures(_ updates: [FeatureUpdate], validateOnly: Bool = false,
                               timeout: Duration = .seconds(60)) async throws(KafkaAdminError) -> [AdminResult<AdminDone>] {
        let problems = Self.problems(updates, name: \.feature) { u -> KafkaAdminError? in
            if u.feature.isEmpty { return .invalidArgument(u.feature, reason: "empty feature name") }
            if u.maxVersionLevel < 0 { return .invalidArgument(u.feature, reason: "level \(u.maxVersionLevel) is negative (0 deletes the feature)") }
            if u.maxVersionLevel == 0 && u.kind == .upgrade {
                return .invalidArgument(u.feature, reason: "level 0 deletes the feature, which is a downgrade (safe or unsafe)")
            }
            return nil
        }
        let send = zip(updates, problems).filter { $0.1 == nil }.map(\.0)
        var answers: [String: Result<AdminDone, KafkaAdminError>] = [:]
        if !send.isEmpty {
            var r = UpdateFeaturesRequest()
            r.timeoutMs = Self.milliseconds(timeout)
            r.validateOnly = validateOnly
            r.featureUpdates = send.map { u in
                var k = UpdateFeaturesRequest.FeatureUpdateKey()
                k.feature = u.feature
                k.maxVersionLevel = u.maxVersionLevel
                k.upgradeType = u.kind.rawValue
                return k
            }
            // v0 (2.7-3.2) has neither the downgrade kinds nor validateOnly: v1+ only.
            let resp = try await self.send("updateFeatures", r, pin: 1 ... UpdateFeaturesRequest.validVersions.upperBound)
            let topLevel = KafkaAdminError.from(resp.errorCode, message: resp.errorMessage)
            for res in resp.results {
                answers[res.feature] = (KafkaAdminError.from(res.errorCode, message: res.errorMessage) ?? topLevel).map { .failure($0) } ?? .success(AdminDone())
            }
            if let topLevel { for u in send where answers[u.feature] == nil { answers[u.feature] = .failure(topLevel) } }
        }
        return Self.results(updates, problems: problems, name: \.feature) { answers[$0] }
    }
}
