import KafkaProtocol
import Testing

/// The release table against facts published with each release (protocol guide, KIPs), and
/// the guess against every row of the table.
@Suite struct KafkaReleaseTests {
    private func r(_ name: String) -> KafkaRelease { KafkaRelease.named(name)! }

    @Test func parsesAndNamesReleases() {
        #expect(KafkaRelease("2.8") == KafkaRelease(2, 8, 0))
        #expect(KafkaRelease("0.10.2.1") == nil && KafkaRelease("x.1") == nil && KafkaRelease("3") == nil)
        #expect(KafkaRelease("2..8") == nil)
        #expect(KafkaRelease(0, 10, 2).name == "0.10.2" && KafkaRelease(2, 8).name == "2.8")
        #expect(KafkaRelease.named("2.8.0") == KafkaRelease(2, 8) && KafkaRelease.named("2.9") == nil)
        #expect(KafkaRelease.all.first?.name == "0.8.0")
        #expect(KafkaRelease.all.map(\.name).contains("3.0") && KafkaRelease.all.map(\.name).contains("4.0"))
        #expect(KafkaRelease.all == KafkaRelease.all.sorted())
    }

    @Test func knownReleaseFacts() {
        // ApiVersions arrived in 0.10.0 (KIP-35).
        #expect(!KafkaRelease(0, 9).hasApiVersions && r("0.9.0").versions(.apiVersions) == nil)
        #expect(r("0.10.0").versions(.apiVersions) == 0 ... 0)
        // 0.10.2: CreateTopics v1 (KIP-108), OffsetFetch v2 (KIP-88); no transactions yet.
        #expect(r("0.10.2").versions(.createTopics) == 0 ... 1)
        #expect(r("0.10.2").versions(.offsetFetch) == 0 ... 2)
        #expect(r("0.10.2").versions(.initProducerId) == nil)
        // 0.11: transactions and the v2 record format (KIP-98).
        #expect(r("0.11.0").versions(.initProducerId) == 0 ... 0)
        #expect(r("0.11.0").versions(.produce) == 0 ... 3 && r("0.11.0").versions(.fetch) == 0 ... 5)
        // 1.1: fetch sessions (KIP-227), DescribeConfigs v1 (KIP-226), DeleteGroups (KIP-229).
        #expect(r("1.0").versions(.describeConfigs) == 0 ... 0 && r("1.1").versions(.describeConfigs) == 0 ... 1)
        #expect(r("1.1").versions(.fetch) == 0 ... 7 && r("1.0").versions(.deleteGroups) == nil)
        // SaslAuthenticate v1 (KIP-368 re-authentication) is 2.2, not 2.0.
        #expect(r("2.0").versions(.saslAuthenticate) == 0 ... 0 && r("2.2").versions(.saslAuthenticate) == 0 ... 1)
        // 2.1: zstd (KIP-110) at Produce v7 / Fetch v10; DeleteTopics v3 (KIP-322).
        #expect(r("2.1").versions(.produce) == 0 ... 7 && r("2.1").versions(.fetch) == 0 ... 10)
        #expect(r("2.1").versions(.deleteTopics) == 0 ... 3)
        // Batched LeaveGroup v3 (KIP-345) is 2.4; rack-aware fetch (KIP-392) is 2.3.
        #expect(r("2.3").versions(.leaveGroup) == 0 ... 2 && r("2.4").versions(.leaveGroup) == 0 ... 4)
        #expect(r("2.3").versions(.fetch) == 0 ... 11)
        // 2.6: ListGroups state filter (KIP-518), DescribeConfigs v3 (KIP-569).
        #expect(r("2.6").versions(.listGroups) == 0 ... 4 && r("2.6").versions(.describeConfigs) == 0 ... 3)
        // 2.7 still produces at v8 and lists offsets at v5; 2.8 brings DescribeCluster (KIP-700).
        #expect(r("2.7").versions(.produce) == 0 ... 8 && r("2.7").versions(.listOffsets) == 0 ... 5)
        #expect(r("2.8").versions(.describeCluster) == 0 ... 0 && r("2.8").versions(.fetch) == 0 ... 12)
        #expect(r("2.8").versions(.metadata) == 0 ... 11)
        // 3.0: batched FindCoordinator (KIP-699) and OffsetFetch (KIP-709).
        #expect(r("2.8").versions(.findCoordinator) == 0 ... 3 && r("3.0").versions(.findCoordinator) == 0 ... 4)
        #expect(r("3.0").versions(.offsetFetch) == 0 ... 8)
        // 3.1: topic ids in Fetch v13 (KIP-516); 3.5: Fetch v15 (KIP-903).
        #expect(r("3.1").versions(.fetch) == 0 ... 13 && r("3.5").versions(.fetch) == 0 ... 15)
        // 3.6: AddPartitionsToTxn v4 (KIP-890); 3.7: leader hints (KIP-951). KIP-848's APIs were
        // early access (off by default) until 4.0 serves ConsumerGroupHeartbeat v0-1.
        #expect(r("3.6").versions(.addPartitionsToTxn) == 0 ... 4)
        #expect(r("3.7").versions(.produce) == 0 ... 10 && r("3.7").versions(.fetch) == 0 ... 16)
        #expect(r("3.9").versions(ApiKey(68)) == nil && r("3.9").versions(ApiKey(69)) == nil)
        #expect(r("4.0").versions(ApiKey(68)) == 0 ... 1 && r("4.0").versions(ApiKey(69)) == 0 ... 1)
        // 3.8: KIP-890 part 2 at Produce v11; 3.9: ListOffsets v9 (KIP-1005), ApiVersions v4.
        #expect(r("3.8").versions(.produce) == 0 ... 11 && r("3.8").versions(.listOffsets) == 0 ... 8)
        #expect(r("3.9").versions(.listOffsets) == 0 ... 9 && r("3.9").versions(.apiVersions) == 0 ... 4)
        // 4.0: KIP-896 dropped old versions; KRaft brokers list no ZooKeeper keys.
        #expect(r("4.0").versions(.produce) == 3 ... 12 && r("4.0").versions(.fetch) == 4 ... 17)
        #expect(r("4.0").versions(.listOffsets) == 1 ... 10 && r("4.0").versions(ApiKey(4)) == nil)
        #expect(r("4.1").versions(.fetch) == 4 ... 18)
        // A patch release serves its minor release's row.
        #expect(KafkaRelease(2, 8, 1).versions(.fetch) == r("2.8").versions(.fetch))
        #expect(KafkaRelease(0, 7).versions(.produce) == nil)
    }

    @Test func maximaNeverDecreaseAcrossReleases() {
        for key in Int16(0) ... 100 {
            var last: Int16 = -1
            for release in KafkaRelease.all {
                guard let v = release.versions(ApiKey(key)) else {
                    // Only 4.0 removed keys (ZooKeeper and controller-only).
                    #expect(last == -1 || release >= KafkaRelease.v4_0, "API \(key) disappeared in \(release)")
                    continue
                }
                #expect(v.upperBound >= last, "API \(key) went back in \(release)")
                #expect(v.lowerBound <= v.upperBound)
                last = v.upperBound
            }
        }
    }

    /// What a client can see of a release: the keys the guess does not ignore.
    private func visible(_ r: KafkaRelease) -> [String] {
        r.ranges.filter { !KafkaRelease.keysIgnoredByGuess.contains($0.key.rawValue) }.map { "\($0.key.rawValue):\($0.range)" }
    }

    @Test func guessPicksEachReleaseFromItsOwnTable() {
        var indistinguishable: [String] = []
        for release in KafkaRelease.all {
            let guessed = KafkaRelease.guess(served: { release.versions($0) })
            if guessed != release {
                // Only a newer release that changed nothing a client sees may be named instead.
                #expect(guessed.map { $0 > release && visible($0) == visible(release) } == true, "\(release.name) -> \(guessed?.name ?? "nil")")
                indistinguishable.append(release.name)
            }
        }
        // 3.4 changed only inter-broker keys (LeaderAndIsr, StopReplica, UpdateMetadata, Envelope).
        #expect(indistinguishable == ["3.3"])
    }

    @Test func guessIgnoresKeysThatDependOnTheBrokerMode() {
        // A KRaft 3.9 broker lists no inter-broker keys, yet it is 3.9.
        let kraft = r("3.9")
        let hidden: Set<Int16> = [4, 5, 6, 7, 56, 58, 67]
        #expect(KafkaRelease.guess(served: { hidden.contains($0.rawValue) ? nil : kraft.versions($0) }) == kraft)
        // A broker missing one key 0.11 added is at most 0.10.2.
        let v011 = r("0.11.0")
        #expect(KafkaRelease.guess(served: { $0 == .deleteRecords ? nil : v011.versions($0) }) == r("0.10.2"))
        // One bump short of 3.7's Produce v10 is 3.6.
        let v37 = r("3.7")
        #expect(KafkaRelease.guess(served: { $0 == .produce ? 0 ... 9 : v37.versions($0) }) == r("3.6"))
        #expect(KafkaRelease.guess(served: { _ in nil }) == nil)
    }
}
