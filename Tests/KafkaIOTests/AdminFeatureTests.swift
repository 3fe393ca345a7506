import FakeCluster
import FakeClusterTCP
import KafkaIO
import KafkaProtocol
import Testing

/// KafkaAdmin's feature calls (KIP-584) against FakeCluster's TCP listener: supported and
/// finalized levels with their epoch, upgrades and downgrades applied whole or refused per
/// feature, validate-only, bad input refused before sending, and brokers too old.
@Suite struct AdminFeatureTests {
    static func server(release: KafkaRelease = .latest) throws -> FakeClusterServer {
        var config = FakeClusterConfig(brokers: (1 ... 3).map { .init(nodeId: $0, port: 0) }, release: release)
        config.finalizedFeatures = ["metadata.version": 21, "group.version": 1]
        return try FakeClusterServer.start(config)
    }

    static func finalized(_ f: FeatureMetadata) -> [String] { f.finalized.map { "\($0.name)=\($0.maxVersionLevel)" } }

    @Test func featuresDescribedUpgradedDowngradedAndDeleted() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }

        var f = try await admin.describeFeatures()
        #expect(f.supported == [
            SupportedFeature(name: "group.version", minVersion: 0, maxVersion: 1), SupportedFeature(name: "kraft.version", minVersion: 0, maxVersion: 1),
            SupportedFeature(name: "metadata.version", minVersion: 1, maxVersion: 21), SupportedFeature(name: "transaction.version", minVersion: 0, maxVersion: 2),
        ])
        #expect(f.finalized == [FinalizedFeature(name: "group.version", minVersionLevel: 1, maxVersionLevel: 1),
                                FinalizedFeature(name: "metadata.version", minVersionLevel: 21, maxVersionLevel: 21)])
        #expect(f.finalizedEpoch == 1)

        // Refused before sending: nothing reaches the broker, nothing changes.
        let bad = try await admin.updateFeatures([
            FeatureUpdate("", maxVersionLevel: 1), FeatureUpdate("group.version", maxVersionLevel: -1),
            FeatureUpdate("kraft.version", maxVersionLevel: 0), FeatureUpdate("", maxVersionLevel: 2),
        ])
        #expect(AdminTests.outcomes(bad) == [
            ": : empty feature name", "group.version: group.version: level -1 is negative (0 deletes the feature)",
            "kraft.version: kraft.version: level 0 deletes the feature, which is a downgrade (safe or unsafe)",
            ":  named more than once",
        ])

        // One refusal keeps the request's other updates from applying.
        let mixed = try await admin.updateFeatures([FeatureUpdate("transaction.version", maxVersionLevel: 2),
                                                    FeatureUpdate("metadata.version", maxVersionLevel: 22)])
        #expect(AdminTests.outcomes(mixed) == [
            "transaction.version: FEATURE_UPDATE_FAILED: Not applied: the update of metadata.version in the same request was refused",
            "metadata.version: INVALID_UPDATE_VERSION: Invalid update version 22 for feature metadata.version. Local controller supports versions 1-21",
        ])
        let refused = try await admin.updateFeatures([
            FeatureUpdate("metadata.version", maxVersionLevel: 20),
            FeatureUpdate("no.such.feature", maxVersionLevel: 1),
        ])
        #expect(AdminTests.outcomes(refused) == [
            "metadata.version: INVALID_UPDATE_VERSION: Invalid update version 20 for feature metadata.version. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.",
            "no.such.feature: INVALID_UPDATE_VERSION: The controller does not support the given feature no.such.feature",
        ])
        #expect(AdminTests.outcomes(try await admin.updateFeatures([FeatureUpdate("transaction.version", maxVersionLevel: 1, kind: .safeDowngrade)])) == [
            "transaction.version: INVALID_UPDATE_VERSION: Invalid update version 1 for feature transaction.version. Can't downgrade to a newer version.",
        ])
        #expect(AdminTests.outcomes(try await admin.updateFeatures([FeatureUpdate("transaction.version", maxVersionLevel: 2)], validateOnly: true))
            == ["transaction.version: ok"])
        f = try await admin.describeFeatures()
        #expect(Self.finalized(f) == ["group.version=1", "metadata.version=21"] && f.finalizedEpoch == 1)

        // Applied together, one epoch later, on every broker.
        let applied = try await admin.updateFeatures([FeatureUpdate("transaction.version", maxVersionLevel: 2),
                                                      FeatureUpdate("metadata.version", maxVersionLevel: 19, kind: .unsafeDowngrade)])
        #expect(AdminTests.outcomes(applied) == ["transaction.version: ok", "metadata.version: ok"])
        f = try await admin.describeFeatures()
        #expect(Self.finalized(f) == ["group.version=1", "metadata.version=19", "transaction.version=2"] && f.finalizedEpoch == 2)
        var r = ApiVersionsRequest()
        r.clientSoftwareName = "t"
        r.clientSoftwareVersion = "1"
        let other = try await admin.client.request(r, to: .broker(3))
        #expect(other.finalizedFeaturesEpoch == 2 && other.finalizedFeatures.map(\.name) == ["group.version", "metadata.version", "transaction.version"])

        #expect(AdminTests.outcomes(try await admin.updateFeatures([.delete("group.version")])) == ["group.version: ok"])
        f = try await admin.describeFeatures()
        #expect(Self.finalized(f) == ["metadata.version=19", "transaction.version=2"] && f.finalizedEpoch == 3)
    }

    /// ApiVersions before v4 leaves out ranges starting at 0, as Kafka does (older clients refuse them).
    @Test func apiVersionsV3LeavesOutRangesFromZero() async throws {
        let server = try Self.server()
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        var r = ApiVersionsRequest()
        r.clientSoftwareName = "t"
        r.clientSoftwareVersion = "1"
        let v3 = try await admin.client.request(r, pin: 3 ... 3)
        #expect(v3.supportedFeatures.map(\.name) == ["metadata.version"])
        #expect(v3.finalizedFeatures.map(\.name) == ["group.version", "metadata.version"])
    }

    @Test func brokersTooOld() async throws {
        let server = try Self.server(release: KafkaRelease(3, 2))
        defer { try? server.shutdown() }
        let admin = try AdminTests.admin(server)
        defer { Task { [client = admin.client] in await client.close() } }
        await #expect(throws: KafkaAdminError.unsupportedByBroker(call: "updateFeatures", api: .updateFeatures, version: 1, release: KafkaRelease(3, 3))) {
            try await admin.updateFeatures([FeatureUpdate("metadata.version", maxVersionLevel: 21)])
        }
        // 3.2 answers ApiVersions v3: the features are there.
        #expect(try await admin.describeFeatures().finalizedEpoch == 1)

        let old = try Self.server(release: KafkaRelease(2, 3))
        defer { try? old.shutdown() }
        let oldAdmin = try AdminTests.admin(old)
        defer { Task { [client = oldAdmin.client] in await client.close() } }
        await #expect(throws: KafkaAdminError.unsupportedByBroker(call: "describeFeatures", api: .apiVersions, version: 3, release: KafkaRelease(2, 4))) {
            try await oldAdmin.describeFeatures()
        }
    }
}
