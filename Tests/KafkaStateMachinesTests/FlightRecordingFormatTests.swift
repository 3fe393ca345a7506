import Testing
@testable import KafkaStateMachines

/// The flight recorder's file format: every entry kind round-trips, a cut-off tail is the
/// end of the recording, and damaged files give typed errors, never a crash.
@Suite struct FlightRecordingFormatTests {
    static func sampleEntries() -> [RecordingEntry] {
        var metadata = MetadataRequest()
        metadata.allowAutoTopicCreation = false
        let request = UserRequest(metadata, to: .groupCoordinator("g"), pin: 1 ... 4, maxRetries: 3, promise: PromiseID(9))
        let inputs: [EngineInput] = [
            .connectionOpened(ConnectionID(1)), .connectionFailed(ConnectionID(2), reason: .refused("127.0.0.1:1")),
            .connectionFailed(ConnectionID(4), reason: .tls(.certificate, "untrusted")), .cancel(PromiseID(3)),
            .assign([TopicPartition("t", 1): .exactWithEpoch(5, epoch: 2), TopicPartition("t", 0): .relativeToEnd(3)]),
            .unassign([TopicPartition("u", 2)]), .pause([TopicPartition("p", 0)]), .resume([]),
            .subscribe(TopicSubscription(topics: ["a"], patterns: ["b.*"], exclusions: ["bx"], start: .afterTimestamp(77))),
            .seek(TopicPartition("s", 4), .start), .skip(TopicPartition("k", 1)),
            .stopPartition(TopicPartition("x", 0), offset: 9, error: .corruptBatch(offset: 9, reason: "crc"), skipTo: 12),
            .fetchConsumed(4096), .flush(PromiseID(8)), .beginTransaction(PromiseID(14)), .endTransaction(commit: true, PromiseID(15)),
            .endTransaction(commit: false, PromiseID(16)),
            .sendOffsetsToTransaction(TransactionOffsets(groupId: "g", generationId: 4, memberId: "m", instanceId: "i",
                                                         offsets: [TopicPartition("t", 1): CommitPosition(offset: 9, leaderEpoch: 2, metadata: "x")]), PromiseID(17)),
            .sendOffsetsToTransaction(nil, PromiseID(18)),
            .transactionEnded(committed: true, offsets: ["g": [TopicPartition("t", 0): CommitPosition(offset: 3)]]),
            .transactionEnded(committed: false, offsets: [:]), .transactionRebalanced,
            .joinGroup(Self.groupConfig()), .joinGroup(Self.consumerGroupConfig()), .leaveGroup(PromiseID(11)),
            .commitOffsets([TopicPartition("c", 0): CommitPosition(offset: 5, leaderEpoch: 2, metadata: "m"), TopicPartition("c", 1): CommitPosition(offset: 0)], PromiseID(12)),
            .commitOffsets(nil, PromiseID(13)), .groupConsumed([TopicPartition("c", 2): CommitPosition(offset: 77, leaderEpoch: -1, metadata: nil)]),
            .groupRevocationHandled(3),
            .produce([ProducerRecord(topic: "p", partition: 3, key: [1], value: nil, headers: [RecordHeader(key: "h", value: [2])], timestamp: -1, token: 5),
                      ProducerRecord(topic: "q", value: [9, 9], timestamp: 1_700_000_000_000, token: 6)]),
            .connectionClosed(ConnectionID(3)), .bytesReceived(ConnectionID(1), [0, 1, 2, 255]), .request(request), .tick, .close,
        ]
        let payloads: [RecordingEntry.Payload] = (inputs + [
            .oauthToken(ConnectionID(4), .success(OAuthBearerToken(token: "t0k", extensions: ["b": "2", "a": "1"]))),
            .oauthToken(ConnectionID(5), .failure(OAuthTokenFailure("no token"))),
        ]).map { .input($0) }
        var entries = payloads.enumerated().map { i, payload in
            RecordingEntry(now: Instant(nanoseconds: UInt64(i) * 1_000_003), actionsObserved: UInt64(i * 2), digest: UInt64(i) &* 0x9e37_79b9_7f4a_7c15,
                           payload: payload)
        }
        entries.append(RecordingEntry(now: .milliseconds(99), actionsObserved: 20, digest: 7, payload: .end))
        return entries
    }

    static func groupConfig() -> GroupConfig {
        var c = GroupConfig(groupId: "g", instanceId: "i", subscription: TopicSubscription(topics: ["a"], patterns: ["b.*"], exclusions: [], start: .end),
                            balancers: [RangeBalancer()])
        c.sessionTimeout = .milliseconds(6_500)
        c.autocommitInterval = nil
        c.commitOnRevoke = false
        c.noCommitStart = .relativeToEnd(4)
        c.rack = "r1"
        c.transactional = true
        return c
    }

    static func consumerGroupConfig() -> GroupConfig {
        var c = Self.groupConfig()
        c.groupProtocol = .consumer
        c.serverAssignor = "uniform"
        c.balancers = []
        return c
    }

    /// A group configuration recorded before the consumer group protocol existed (no
    /// protocol, no assignor at its end) reads as classic.
    @Test func aGroupConfigRecordedBeforeKIP848ReadsAsClassic() throws {
        var w = ByteWriter()
        RecordingWire.writeGroupConfig(Self.groupConfig(), into: &w)
        var trailer = ByteWriter()
        trailer.writeUInt8(0)
        RecordingWire.writeOptionalString(nil, into: &trailer)
        var r = ByteReader(Array(w.bytes.dropLast(trailer.bytes.count)))
        let c = try RecordingWire.readGroupConfig(&r)
        #expect(c == Self.groupConfig() && c.groupProtocol == .classic && r.remaining == 0)
        var full = ByteReader(w.bytes)
        var wc = ByteWriter()
        RecordingWire.writeGroupConfig(Self.consumerGroupConfig(), into: &wc)
        var rc = ByteReader(wc.bytes)
        #expect(try RecordingWire.readGroupConfig(&full) == Self.groupConfig())
        #expect(try RecordingWire.readGroupConfig(&rc) == Self.consumerGroupConfig())
    }

    /// A custom balancer's decisions cannot be replayed: the recording says so.
    @Test func aRecordingWithACustomBalancerIsRefusedByName() throws {
        var c = Self.groupConfig()
        c.balancers = [GreedyTestBalancer()]
        let entry = RecordingEntry(now: .zero, actionsObserved: 0, digest: 0, payload: .input(.joinGroup(c)))
        do {
            _ = try FlightRecording(segments: [Self.file([entry])])
            Issue.record("a custom balancer was replayed")
        } catch {
            #expect("\(error)".contains("greedy-test"))
        }
    }

    static func file(_ entries: [RecordingEntry], segment: UInt32 = 1, id: UInt64 = 42) -> [UInt8] {
        let start = segment == 1 ? RecordingStart(seed: 5, libraryVersion: "test", config: RecordedConfig.encode(EngineConfig(seeds: []), includeSecrets: false)) : nil
        return RecordingHeader(recordingId: id, segmentIndex: segment, start: start).encoded() + entries.flatMap { $0.encoded()! }
    }

    @Test func everyEntryKindRoundTrips() throws {
        let entries = Self.sampleEntries()
        let r = try FlightRecording(segments: [Self.file(entries)])
        #expect(r.entries == entries)
        #expect(r.endedCleanly && !r.truncatedTail)
        #expect(r.start.seed == 5 && r.recordingId == 42)
        let requests = r.entries.compactMap { e -> UserRequest? in
            if case .input(.request(let req)) = e.payload { return req } else { return nil }
        }
        let req = try #require(requests.first)
        let decoded = try #require(req.request as? MetadataRequest)
        #expect(decoded.allowAutoTopicCreation == false)
    }

    @Test func segmentsJoinInOrder() throws {
        let entries = Self.sampleEntries()
        let first = Self.file(Array(entries.prefix(4)))
        let second = Self.file(Array(entries.dropFirst(4)), segment: 2)
        #expect(try FlightRecording(segments: [first, second]).entries == entries)
        #expect(throws: FlightRecordingError.self) { try FlightRecording(segments: [second, first]) }
        #expect(throws: FlightRecordingError.self) { try FlightRecording(segments: [first, Self.file([], segment: 2, id: 43)]) }
        #expect(throws: FlightRecordingError.self) { try FlightRecording(segments: [first, Self.file([], segment: 3)]) }
    }

    /// A process that dies while writing leaves a partial entry: everything before it stays readable.
    @Test func cutAnywhereInTheLastEntryIsATruncatedTail() throws {
        let entries = Array(Self.sampleEntries().dropLast())
        let whole = Self.file(entries)
        let lastSize = entries.last!.encoded()!.count
        for cut in 1 ..< lastSize {
            let r = try FlightRecording(segments: [Array(whole.dropLast(cut))])
            #expect(r.truncatedTail)
            #expect(r.entries == Array(entries.dropLast()))
        }
    }

    @Test func damagedFilesGiveTypedErrors() throws {
        let whole = Self.file(Self.sampleEntries())
        #expect(throws: FlightRecordingError.notARecording) { try FlightRecording(segments: [Array("hello".utf8)]) }
        // A recording made by an older format (version 1: before the engine's inputs became
        // one type) is refused by name, not replayed into a divergence.
        var older = whole
        older[8] = 0
        older[9] = 1
        #expect(throws: FlightRecordingError.unsupportedFormatVersion(1)) { try FlightRecording(segments: [older]) }
        #expect("\(FlightRecordingError.unsupportedFormatVersion(1))"
                == "recorded by format 1, this build reads formats 4 to \(RecordingFormat.version)")
        // Every single-byte corruption either parses or fails with a typed error.
        var rng = SeededGenerator(seed: 11)
        for _ in 0 ..< 2_000 {
            var b = whole
            b[Int.random(in: 0 ..< b.count, using: &rng)] = UInt8.random(in: 0 ... 255, using: &rng)
            _ = try? FlightRecording(segments: [b])
        }
    }

    /// One changed byte anywhere in an entry's body or checksum is reported as that entry
    /// damaged (by index, segment and byte offset), never read as a different entry that a
    /// replay would then report as a divergence of the engine.
    @Test func aDamagedEntryIsNamedByItsChecksum() throws {
        let entries = Self.sampleEntries()
        let whole = Self.file(entries)
        var at = whole.count - entries.reduce(0) { $0 + $1.encoded()!.count }
        for (i, entry) in entries.enumerated() {
            let size = entry.encoded()!.count
            // Past the length prefix (a varint): the body and its checksum.
            var body = at
            while whole[body] & 0x80 != 0 { body += 1 }
            body += 1
            for pos in body ..< (at + size) {
                var b = whole
                b[pos] ^= 0x20
                #expect(throws: FlightRecordingError.damagedEntry(entry: i, segment: 1, offset: at)) {
                    try FlightRecording(segments: [b])
                }
            }
            at += size
        }
        #expect("\(FlightRecordingError.damagedEntry(entry: 3, segment: 2, offset: 77))"
                == "damaged flight recording: entry 3 (segment 2, byte 77) does not match its checksum")
    }

    /// Format 4 (the same entries without checksums) is still read.
    @Test func format4WithoutChecksumsIsRead() throws {
        let entries = Self.sampleEntries()
        var old = RecordingHeader(recordingId: 42, segmentIndex: 1,
                                  start: RecordingStart(seed: 1, libraryVersion: "t", config: [])).encoded()
        old[8] = 0
        old[9] = 4
        for e in entries { old += e.encoded()!.dropLast(4) }
        let r = try FlightRecording(segments: [old])
        #expect(r.entries == entries)
        #expect(r.endedCleanly)
    }

    @Test func configRoundTripsAndCoversEveryProperty() throws {
        var c = EngineConfig(seeds: [BrokerAddress(host: "a", port: 1), BrokerAddress(host: "b", port: 2)])
        c.clientId = nil
        c.clientSoftwareName = "n"
        c.clientSoftwareVersion = "v"
        c.tls = true
        c.sasl = .scram(.sha512, username: "u", password: "p")
        c.connectTimeout = .milliseconds(1)
        c.requestTimeoutOverhead = .milliseconds(2)
        c.connectionIdleTimeout = .milliseconds(3)
        c.maxResponseBytes = 4
        c.maxInFlightPerConnection = 5
        c.maxRetries = 6
        c.retryTimeout = .milliseconds(7)
        c.backoff = BackoffPolicy(initial: .milliseconds(8), max: .milliseconds(9), jitter: 0.5)
        c.metadataMaxAge = .milliseconds(10)
        c.metadataMinAge = .milliseconds(11)
        c.metadataStaleRefreshFloor = .milliseconds(12)
        c.pinnedBrokerRelease = KafkaRelease.all.first
        c.apiVersionsFallbackRelease = KafkaRelease.all.last
        c.versionPins[ApiKey(3)] = 1 ... 2
        c.fetcher.isolation = .readCommitted
        c.fetcher.resetPolicy = .error
        c.fetcher.rack = "r1"
        c.fetcher.maxBufferedBytes = 13
        c.fetcher.firstFetchBytes = 17
        c.fetcher.fetchBytesAfterCut = 18
        c.fetcher.capFetchAtPartitionSizes = false
        c.fetcher.shareRoomAmongFetches = false
        c.fetcher.fetchSessions = false
        c.producer.acks = .leader
        c.producer.idempotent = false
        c.producer.idempotenceFallback = true
        c.producer.compression = [.zstd, .lz4]
        c.producer.partitioner = .uniformBytes(bytes: 99, adaptive: false)
        c.producer.deliveryTimeout = .seconds(3)
        c.producer.manualFlushing = true
        c.producer.transactionalId = "recorded-txn"
        c.producer.transactionTimeout = .seconds(33)
        c.producer.recordRetries = 7
        c.observe = true
        c.reportDecisions = true
        c.allowAutoTopicCreation = true
        let (back, missing) = try RecordedConfig.decode(RecordedConfig.encode(c, includeSecrets: true))
        #expect(!missing)
        #expect(RecordedConfig.encode(back, includeSecrets: true) == RecordedConfig.encode(c, includeSecrets: true))
        #expect(back.seeds == c.seeds && back.backoff == c.backoff && back.versionPins == c.versionPins && back.tls)
        #expect(back.fetcher == c.fetcher)
        #expect(back.producer == c.producer)
        #expect(back.observe && back.allowAutoTopicCreation && back.reportDecisions)
        let (redacted, secretsMissing) = try RecordedConfig.decode(RecordedConfig.encode(c, includeSecrets: false))
        #expect(secretsMissing)
        guard case .scram(.sha512, "u", "")? = redacted.sasl else { Issue.record("password not redacted"); return }
        // A delegation token login: the id kept, the HMAC only with the secrets.
        c.sasl = .delegationToken(.sha256, tokenId: "tok-1", hmac: [9, 8, 7])
        let (token, _) = try RecordedConfig.decode(RecordedConfig.encode(c, includeSecrets: true))
        guard case .delegationToken(.sha256, "tok-1", [9, 8, 7])? = token.sasl else { Issue.record("token not kept: \(String(describing: token.sasl))"); return }
        let (tokenRedacted, tokenMissing) = try RecordedConfig.decode(RecordedConfig.encode(c, includeSecrets: false))
        #expect(tokenMissing)
        guard case .delegationToken(.sha256, "tok-1", [])? = tokenRedacted.sasl else { Issue.record("HMAC not redacted"); return }
        // A property added to EngineConfig must be added to the recording too.
        let properties = Mirror(reflecting: c).children.compactMap(\.label)
        #expect(properties == RecordedConfig.storedProperties)
    }

    /// Configurations recorded before the per-record retry limit (they end at `observe`,
    /// or before it) still read, with no limit; the limit, when set, reads back.
    @Test func aConfigRecordedBeforeRecordRetriesReadsWithoutALimit() throws {
        var c = EngineConfig(seeds: [BrokerAddress(host: "h", port: 1)])
        c.observe = true
        let full = RecordedConfig.encode(c, includeSecrets: false)
        // Today's encoding ends with the full size once records arrive (on) after counting
        // fetches in flight (on) after the fetch cap (on) after the fetch floor after cuts (4 KiB)
        // and the first fetch size (64 KiB), before them reportDecisions and
        // allowAutoTopicCreation (off), before that the limit's absence (one byte), before
        // that `observe`.
        #expect(full.suffix(11) == [0, 1, 0, 0, 0, 0, 16, 0, 1, 1, 1])
        let now = Array(full.dropLast(11))
        #expect(now.suffix(3) == [0, 0, 0])
        let beforeLimit = Array(now.dropLast(3))
        let beforeObserve = Array(now.dropLast(4))
        let (a, _) = try RecordedConfig.decode(beforeLimit)
        #expect(a.producer.recordRetries == nil && a.observe)
        let (b, _) = try RecordedConfig.decode(beforeObserve)
        #expect(b.producer.recordRetries == nil && !b.observe)
        c.producer.recordRetries = 3
        let (d, _) = try RecordedConfig.decode(RecordedConfig.encode(c, includeSecrets: false))
        #expect(d.producer.recordRetries == 3)
    }

    /// Fields appended to the configuration (observe, the retry limit, allowAutoTopicCreation,
    /// reportDecisions, firstFetchBytes, fetchBytesAfterCut, capFetchAtPartitionSizes,
    /// shareRoomAmongFetches, fullSizeOnceRecordsArrive) read as off from recordings made
    /// before them, which end before them.
    @Test func aConfigRecordedBeforeAppendedFieldsReadsThemAsOff() throws {
        var c = EngineConfig(seeds: [BrokerAddress(host: "a", port: 1)])
        c.observe = true
        c.allowAutoTopicCreation = true
        c.reportDecisions = true
        let full = RecordedConfig.encode(c, includeSecrets: false)
        #expect(try RecordedConfig.decode(full).config.fetcher.firstFetchBytes == 64 * 1024)
        #expect(try RecordedConfig.decode(full).config.fetcher.fetchBytesAfterCut == 4 * 1024)
        #expect(try RecordedConfig.decode(full).config.fetcher.capFetchAtPartitionSizes)
        #expect(try RecordedConfig.decode(full).config.fetcher.shareRoomAmongFetches)
        #expect(try RecordedConfig.decode(full).config.fetcher.fullSizeOnceRecordsArrive)
        let beforeFullSize = try RecordedConfig.decode(Array(full.dropLast(1))).config
        #expect(!beforeFullSize.fetcher.fullSizeOnceRecordsArrive && beforeFullSize.fetcher.shareRoomAmongFetches,
                "each partition ramps on its own for older recordings")
        let beforeInFlight = try RecordedConfig.decode(Array(full.dropLast(2))).config
        #expect(!beforeInFlight.fetcher.shareRoomAmongFetches && beforeInFlight.fetcher.capFetchAtPartitionSizes,
                "fetches in flight not counted for older recordings")
        let beforeCap = try RecordedConfig.decode(Array(full.dropLast(3))).config
        #expect(!beforeCap.fetcher.capFetchAtPartitionSizes && beforeCap.fetcher.fetchBytesAfterCut == 4 * 1024, "no fetch cap for older recordings")
        let beforeCutShrink = try RecordedConfig.decode(Array(full.dropLast(7))).config
        #expect(beforeCutShrink.fetcher.fetchBytesAfterCut == 0 && beforeCutShrink.fetcher.firstFetchBytes == 64 * 1024,
                "no shrinking after cuts for older recordings")
        let bytes = Array(full.dropLast(11))
        let beforeFirstFetch = try RecordedConfig.decode(bytes).config
        #expect(beforeFirstFetch.fetcher.firstFetchBytes == 0 && beforeFirstFetch.reportDecisions, "no ramp for older recordings")
        let beforeDecisions = try RecordedConfig.decode(Array(bytes.dropLast(1))).config
        #expect(beforeDecisions.allowAutoTopicCreation && !beforeDecisions.reportDecisions)
        let beforeAutoCreate = try RecordedConfig.decode(Array(bytes.dropLast(2))).config
        #expect(beforeAutoCreate.observe && !beforeAutoCreate.allowAutoTopicCreation)
        let beforeObserve = try RecordedConfig.decode(Array(bytes.dropLast(4))).config
        #expect(!beforeObserve.observe && !beforeObserve.allowAutoTopicCreation)
    }

    /// A request is stored at a version that gives it back unchanged.
    @Test func requestsAreStoredFaithfully() throws {
        var fetch = FetchRequest()
        fetch.replicaId = -1
        fetch.maxWaitMs = 250
        fetch.isolationLevel = 1
        let r = UserRequest(fetch, to: .broker(2), promise: PromiseID(1))
        let (version, body) = try #require(r.faithfulEncoding)
        #expect(try FetchRequest.decode(body, version: version) == fetch)
        let entry = RecordingEntry(now: .zero, actionsObserved: 0, digest: 0, payload: .input(.request(r)))
        let back = try FlightRecording(segments: [Self.file([entry])])
        #expect(back.entries == [entry])
    }
}


struct GreedyTestBalancer: GroupBalancer {
    var protocolName: String { "greedy-test" }
    var isCooperative: Bool { false }
    func userData(owned: [TopicPartition], generation: Int32) -> [UInt8]? { nil }
    func assign(_ input: BalanceInput) throws -> BalancePlan { [:] }
}
