import Testing
@testable import KafkaStateMachines

/// Transcripts of the fetcher sub-machine: inputs (assign, answers, metadata) -> outputs
/// (requests to brokers, deliveries), one rule per test.
@Suite struct FetcherTests {
    static let tp0 = TopicPartition("t", 0)
    static let tp1 = TopicPartition("t", 1)

    /// Metadata with topic t: partition p led by `leaders[p]` at `epochs[p]`.
    static func metadata(leaders: [Int32] = [1, 2], epochs: [Int32] = [5, 5], brokers: [Int32] = [1, 2, 3]) -> MetadataCache {
        var r = MetadataResponse()
        r.brokers = brokers.map { id in
            var b = MetadataResponse.MetadataResponseBroker()
            b.nodeId = id
            b.host = "b\(id)"
            b.port = 9092
            return b
        }
        var t = MetadataResponse.MetadataResponseTopic()
        t.name = "t"
        t.partitions = leaders.indices.map { i in
            var p = MetadataResponse.MetadataResponsePartition()
            p.partitionIndex = Int32(i)
            p.leaderId = leaders[i]
            p.leaderEpoch = epochs[i]
            return p
        }
        r.topics = [t]
        var m = MetadataCache()
        m.apply(r, now: .zero)
        return m
    }

    struct Run {
        var f: Fetcher
        var md: MetadataCache
        var now = Instant.zero
        var versions: [BrokerID: BrokerVersions] = [:]

        init(_ config: FetcherConfig = FetcherConfig(), md: MetadataCache = FetcherTests.metadata()) {
            f = Fetcher(config: config)
            self.md = md
        }

        mutating func step() -> [ComponentOutput] {
            f.schedule(now: now, metadata: md, versions: versions)
            return f.takeOutputs()
        }

        mutating func answer(_ tag: UInt64, _ r: any KafkaResponse) -> [ComponentOutput] {
            f.completed(tag, .success(r), now: now, metadata: md)
            return step()
        }

        mutating func fail(_ tag: UInt64, _ e: KafkaClientError) -> [ComponentOutput] {
            f.completed(tag, .failure(e), now: now, metadata: md)
            return step()
        }
    }

    static func sends(_ o: [ComponentOutput]) -> [(tag: UInt64, request: any KafkaRequest, broker: Int32)] {
        o.compactMap {
            guard case .send(let r) = $0, case .broker(let b) = r.target else { return nil }
            return (r.tag, r.request, b)
        }
    }

    static func deliveries(_ o: [ComponentOutput]) -> [FetchBatch] {
        o.compactMap { if case .action(.fetched(let b)) = $0 { return b } else { return nil } }
    }

    static func batch(_ values: [String], base: Int64, epoch: Int32 = 5, transactional: Bool = false, producerId: Int64 = -1,
                      control: Bool = false) -> [UInt8] {
        let recs = values.map { EncodableRecord(value: Array($0.utf8), timestamp: 1000) }
        let options = RecordBatchOptions(baseOffset: base, partitionLeaderEpoch: epoch, isTransactional: transactional,
                                         isControl: control, producerId: producerId, producerEpoch: 0, baseSequence: producerId >= 0 ? 0 : -1)
        return try! RecordBatchEncoder.encode(recs, options: options, contexts: CompressionContexts())
    }

    static func fetchResponse(_ parts: [(TopicPartition, [UInt8]?, KafkaErrorCode)], session: Int32 = 0, hw: Int64 = 100,
                              aborted: [AbortedTransaction] = []) -> FetchResponse {
        var r = FetchResponse()
        r.sessionId = session
        var topics: [FetchResponse.FetchableTopicResponse] = []
        for (tp, bytes, code) in parts {
            var p = FetchResponse.PartitionData()
            p.partitionIndex = tp.partition
            p.errorCode = code.rawValue
            p.highWatermark = hw
            p.records = bytes
            p.abortedTransactions = aborted.map { a in
                var x = FetchResponse.AbortedTransaction()
                x.producerId = a.producerId
                x.firstOffset = a.firstOffset
                return x
            }
            if topics.last?.topic == tp.topic { topics[topics.count - 1].partitions.append(p) } else {
                var t = FetchResponse.FetchableTopicResponse()
                t.topic = tp.topic
                t.partitions = [p]
                topics.append(t)
            }
        }
        r.responses = topics
        return r
    }

    static func listResponse(_ parts: [(TopicPartition, Int64)], epoch: Int32 = 5) -> ListOffsetsResponse {
        var r = ListOffsetsResponse()
        var t = ListOffsetsResponse.ListOffsetsTopicResponse()
        t.name = "t"
        t.partitions = parts.map { tp, off in
            var p = ListOffsetsResponse.ListOffsetsPartitionResponse()
            p.partitionIndex = tp.partition
            p.offset = off
            p.leaderEpoch = epoch
            return p
        }
        r.topics = [t]
        return r
    }

    @Test func exactOffsetsFetchFromEachLeaderAtOnce() {
        var run = Run()
        run.f.assign([Self.tp0: .exact(10), Self.tp1: .exact(20)])
        let out = Self.sends(run.step())
        #expect(out.count == 2)
        let byBroker = Dictionary(uniqueKeysWithValues: out.map { ($0.broker, $0.request as! FetchRequest) })
        #expect(byBroker[1]?.topics.first?.partitions.first?.fetchOffset == 10)
        #expect(byBroker[1]?.topics.first?.partitions.first?.currentLeaderEpoch == 5)
        #expect(byBroker[2]?.topics.first?.partitions.first?.fetchOffset == 20)
        #expect(byBroker[1]?.sessionEpoch == 0, "sessions on: the first fetch asks for one")
    }

    @Test func startAndRelativeOffsetsAreListedThenFetched() {
        var run = Run(md: Self.metadata(leaders: [1, 1]))
        run.f.assign([Self.tp0: .start, Self.tp1: .relativeToEnd(3)])
        let out = Self.sends(run.step())
        #expect(out.count == 1)
        let list = out[0].request as! ListOffsetsRequest
        #expect(list.topics[0].partitions.map(\.timestamp) == [-2, -1])
        #expect(list.replicaId == -1)
        let next = Self.sends(run.answer(out[0].tag, Self.listResponse([(Self.tp0, 4), (Self.tp1, 50)])))
        let fetch = next[0].request as! FetchRequest
        #expect(fetch.topics[0].partitions.map(\.fetchOffset) == [4, 47])
    }

    @Test func timestampWithNoLaterRecordGoesToTheEnd() {
        var run = Run(md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .afterTimestamp(99_999)])
        let first = Self.sends(run.step())
        #expect((first[0].request as! ListOffsetsRequest).topics[0].partitions[0].timestamp == 99_999)
        run.now = .milliseconds(1000)
        let again = Self.sends(run.answer(first[0].tag, Self.listResponse([(Self.tp0, -1)])))
        #expect((again[0].request as! ListOffsetsRequest).topics[0].partitions[0].timestamp == -1)
    }

    @Test func fetchedBytesAdvanceThePositionAndAreDeliveredUndecoded() {
        var run = Run(md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .exact(0)])
        let s = Self.sends(run.step())
        let bytes = Self.batch(["a", "b", "c"], base: 0) + Self.batch(["d"], base: 3, epoch: 6)
        let out = run.answer(s[0].tag, Self.fetchResponse([(Self.tp0, bytes, .noError)], session: 77))
        let d = Self.deliveries(out)
        #expect(d.count == 1 && d[0].partitions.count == 1)
        #expect(d[0].partitions[0].records == bytes, "the response's bytes, not a copy per record")
        #expect(run.f.position(of: Self.tp0)! == (4, 6))
        #expect(d[0].partitions[0].nextOffset == 4 && d[0].partitions[0].lastEpoch == 6, "the last batch's epoch, for a commit of 4")
        #expect(run.f.bufferedBytes == bytes.count)
        let decoded = d[0].partitions[0].decode(contexts: CompressionContexts())
        #expect(decoded.records.map { String(decoding: $0.value!, as: UTF8.self) } == ["a", "b", "c", "d"])
        // The next fetch is incremental in session 77 and names the moved partition.
        let next = Self.sends(out)[0].request as! FetchRequest
        #expect(next.sessionId == 77 && next.sessionEpoch == 1)
        #expect(next.topics[0].partitions[0].fetchOffset == 4)
    }

    /// A partition's first fetch asks for firstFetchBytes; each fetch bringing data doubles
    /// it up to partitionMaxBytes; a seek starts small again; a first fetch in which no
    /// whole batch fit is asked again at once at the full size (not a batchTooLarge stop).
    @Test func fetchSizeStartsSmallAndGrows() {
        var run = Run(Self.rampConfig(consumerWide: false), md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .exact(0)])
        func asked(_ o: [ComponentOutput]) -> (tag: UInt64, max: Int32, offset: Int64)? {
            guard let s = Self.sends(o).first, let r = s.request as? FetchRequest, let p = r.topics.first?.partitions.first else { return nil }
            return (s.tag, p.partitionMaxBytes, p.fetchOffset)
        }
        var a = asked(run.step())!
        var sizes: [Int32] = [a.max]
        for i in 0 ..< 3 {
            let out = run.answer(a.tag, Self.fetchResponse([(Self.tp0, Self.batch(["x"], base: Int64(i)), .noError)]))
            run.f.consumed(bytes: run.f.bufferedBytes)
            a = asked(out.isEmpty ? run.step() : out)!
            sizes.append(a.max)
        }
        #expect(sizes == [1000, 2000, 3000, 3000])
        run.f.seek(Self.tp0, to: .exact(0))
        // The fetch in flight is answered (ignored: the partition moved), then a small one.
        a = asked(run.answer(a.tag, Self.fetchResponse([(Self.tp0, nil, .noError)])))!
        #expect(a.max == 1000 && a.offset == 0)
        // Only part of a batch fits: asked again at the full size, no error delivered.
        let big = Self.batch([String(repeating: "y", count: 1500)], base: 0)
        let out = run.answer(a.tag, Self.fetchResponse([(Self.tp0, Array(big.prefix(900)), .noError)]))
        #expect(Self.deliveries(out).isEmpty)
        let again = asked(out)!
        #expect(again.max == 3000 && again.offset == 0)
    }

    /// By default the ramp is the consumer's, not each partition's: until records arrive a
    /// fetch asks for the first fetch size in all; once a fetch has brought records, every
    /// partition asks for the full size, one fetched before or not, and after a seek too.
    @Test func fetchSizeIsFullForEveryPartitionOnceRecordsArrive() {
        var run = Run(Self.rampConfig(), md: Self.metadata(leaders: [1, 1]))
        run.f.assign([Self.tp0: .exact(0)])
        func asked(_ o: [ComponentOutput]) -> (tag: UInt64, sizes: [Int32: Int32], all: Int32)? {
            guard let s = Self.sends(o).first, let r = s.request as? FetchRequest else { return nil }
            var sizes: [Int32: Int32] = [:]
            for p in r.topics.flatMap(\.partitions) { sizes[p.partition] = p.partitionMaxBytes }
            return (s.tag, sizes, r.maxBytes)
        }
        var a = asked(run.step())!
        #expect(a.sizes == [0: 1000] && a.all == 1000, "small until records arrive")
        // An answer without records leaves it small.
        var out = run.answer(a.tag, Self.fetchResponse([(Self.tp0, nil, .noError)]))
        a = asked(out.isEmpty ? run.step() : out)!
        #expect(a.sizes == [0: 1000])
        out = run.answer(a.tag, Self.fetchResponse([(Self.tp0, Self.batch(["x"], base: 0), .noError)]))
        run.f.consumed(bytes: run.f.bufferedBytes)
        a = asked(out.isEmpty ? run.step() : out)!
        #expect(a.sizes == [0: 3000], "full size at once, not doubling")
        // A partition assigned later starts at the full size; so does one that seeks (the
        // answer to the fetch in flight is then ignored: the partition moved).
        run.f.assign([Self.tp0: .exact(0), Self.tp1: .exact(0)])
        out = run.answer(a.tag, Self.fetchResponse([(Self.tp0, nil, .noError)]))
        a = asked(out.isEmpty ? run.step() : out)!
        #expect(a.sizes == [0: 3000, 1: 3000] && a.all == 6000)
    }

    /// Until records arrive, a fetch of many partitions asks in all for one partition's first
    /// fetch, so the first response stays small however many partitions there are.
    @Test func theFirstFetchOfManyPartitionsAsksForOneFirstFetchInAll() {
        func firstFetch(_ c: FetcherConfig) -> FetchRequest {
            var run = Run(c, md: Self.metadata(leaders: [1, 1]))
            run.f.assign([Self.tp0: .exact(0), Self.tp1: .exact(0)])
            return Self.sends(run.step())[0].request as! FetchRequest
        }
        let r = firstFetch(Self.rampConfig())
        #expect(r.topics.flatMap(\.partitions).map(\.partitionMaxBytes) == [1000, 1000])
        #expect(r.maxBytes == 1000)
        // Off (recordings made before it replay so): the partitions' first fetches together.
        #expect(firstFetch(Self.rampConfig(consumerWide: false)).maxBytes == 2000)
    }

    /// First fetches of 1000 bytes, full size 3000, no sessions; `consumerWide` is
    /// `fullSizeOnceRecordsArrive` (off: each partition ramps on its own).
    static func rampConfig(consumerWide: Bool = true) -> FetcherConfig {
        var c = FetcherConfig()
        c.firstFetchBytes = 1000
        c.partitionMaxBytes = 3000
        c.fetchSessions = false
        c.fullSizeOnceRecordsArrive = consumerWide
        return c
    }

    /// A connection cut with a fetch in flight halves what the next fetch to that broker
    /// asks for, in all and per partition, down to `fetchBytesAfterCut`; each answered fetch
    /// doubles it back until the cap no longer limits a fetch, and then it is gone. (A path
    /// that resets after N bytes cuts an answer larger than N on every attempt.)
    @Test(arguments: [Int32(1000), 0]) func cutsShrinkFetchesUntilAnswersGetThrough(floor: Int32) {
        var c = FetcherConfig()
        c.firstFetchBytes = 0
        c.partitionMaxBytes = 64000
        c.fetchBytesAfterCut = floor
        // Without the partition-sum cap a fetch's own maxBytes shows the cut cap alone.
        c.capFetchAtPartitionSizes = false
        c.fetchSessions = false
        var run = Run(c, md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .exact(0)])
        func asked(_ o: [ComponentOutput]) -> (tag: UInt64, total: Int32, partition: Int32) {
            let s = Self.sends(o).first!
            let r = s.request as! FetchRequest
            return (s.tag, r.maxBytes, r.topics[0].partitions[0].partitionMaxBytes)
        }
        var a = asked(run.step())
        var sizes: [Int32] = [a.partition]
        for _ in 0 ..< 7 {
            _ = run.fail(a.tag, .connectionClosed(broker: .node(1)))
            run.now = run.now + .milliseconds(200)
            a = asked(run.step())
            #expect(a.total == (floor > 0 ? a.partition : 50 * 1024 * 1024))
            sizes.append(a.partition)
        }
        var offset: Int64 = 0
        for _ in 0 ..< 7 {
            let out = run.answer(a.tag, Self.fetchResponse([(Self.tp0, Self.batch(["x"], base: offset), .noError)]))
            offset += 1
            run.f.consumed(bytes: run.f.bufferedBytes)
            a = asked(out)
            sizes.append(a.partition)
        }
        if floor > 0 {
            #expect(sizes == [64000, 32000, 16000, 8000, 4000, 2000, 1000, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 64000])
            #expect(a.total == 50 * 1024 * 1024, "the cap is gone once a fetch no longer needs it")
            // Other errors (a timeout, a broker error) are not a path's byte limit.
            _ = run.fail(a.tag, .requestTimeout(apiKey: .fetch, broker: .node(1)))
            run.now = run.now + .milliseconds(200)
            #expect(asked(run.step()).partition == 64000)
        } else {
            #expect(sizes == Array(repeating: 64000, count: 15), "0 turns shrinking off")
        }
    }

    /// A fetch asks for no more in all than the buffer has room for (at least the first
    /// fetch's size): with many partitions one response could otherwise bring maxBytes.
    @Test func fetchMaxBytesIsCappedByBufferRoom() {
        var c = FetcherConfig()
        // The first fetch's own total cap held off: this is about the buffer's bound.
        c.fullSizeOnceRecordsArrive = false
        c.maxBufferedBytes = 5000
        c.firstFetchBytes = 1000
        c.fetchSessions = false
        // Eight partitions ask for 8,000 bytes together: the room (5,000) is the cap.
        var run = Run(c, md: Self.metadata(leaders: Array(repeating: 1, count: 8), epochs: Array(repeating: 5, count: 8)))
        run.f.assign(Dictionary(uniqueKeysWithValues: (0 ..< 8).map { (TopicPartition("t", Int32($0)), StartOffset.exact(0)) }))
        let first = Self.sends(run.step())[0]
        #expect((first.request as! FetchRequest).topics.flatMap(\.partitions).count == 8)
        #expect((first.request as! FetchRequest).maxBytes == 5000)
        let bytes = Self.batch([String(repeating: "z", count: 1500)], base: 0)
        let out = run.answer(first.tag, Self.fetchResponse([(Self.tp0, bytes, .noError)]))
        let next = Self.sends(out)[0].request as! FetchRequest
        #expect(next.maxBytes == Int32(5000 - bytes.count))
    }

    /// A fetch asks in all for no more than its partitions ask for (though the buffer has
    /// room for more), so a broker that ignores partition sizes still answers the small
    /// first fetch with a small response; the cap grows with the partition's fetch size.
    @Test func fetchMaxBytesIsAtMostWhatItsPartitionsAsk() {
        var c = FetcherConfig()
        c.maxBufferedBytes = 1_000_000
        c.firstFetchBytes = 1000
        c.fetchSessions = false
        c.fullSizeOnceRecordsArrive = false
        var run = Run(c, md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .exact(0)])
        let first = Self.sends(run.step())[0]
        #expect((first.request as! FetchRequest).maxBytes == 1000)
        let out = run.answer(first.tag, Self.fetchResponse([(Self.tp0, Self.batch(["x"], base: 0), .noError)]))
        let next = Self.sends(out)[0].request as! FetchRequest
        #expect(next.topics[0].partitions[0].partitionMaxBytes == 2000)
        #expect(next.maxBytes == 2000)
        // Off (recordings made before the cap replay so): the buffer's room is the bound.
        c.capFetchAtPartitionSizes = false
        var uncapped = Run(c, md: Self.metadata(leaders: [1]))
        uncapped.f.assign([Self.tp0: .exact(0)])
        #expect((Self.sends(uncapped.step())[0].request as! FetchRequest).maxBytes == 1_000_000)
    }

    /// Fetches to several brokers share the buffer: each asks for no more than the buffer
    /// divided by the fetches out at once, nor more than the room left, and never less than
    /// the first fetch size (so consuming never stops). Off (older recordings): each fetch
    /// may take the whole room.
    @Test func fetchesToSeveralBrokersShareTheBuffer() {
        var c = FetcherConfig()
        // The first fetch's own total cap held off: this is about the buffer's bound.
        c.fullSizeOnceRecordsArrive = false
        c.maxBufferedBytes = 6000
        c.firstFetchBytes = 1000
        c.fetchSessions = false
        let leaders: [Int32] = [1, 1, 1, 1, 2, 2, 2, 2]
        let parts = Dictionary(uniqueKeysWithValues: (0 ..< 8).map { (TopicPartition("t", Int32($0)), StartOffset.exact(0)) })
        var run = Run(c, md: Self.metadata(leaders: leaders, epochs: Array(repeating: 5, count: 8)))
        run.f.assign(parts)
        let round = Self.sends(run.step())
        // Each broker's four partitions ask for 4,000; the 6,000 of room is split in two.
        #expect(round.map(\.broker) == [1, 2])
        #expect(round.map { ($0.request as! FetchRequest).maxBytes } == [3000, 3000])
        let bytes = Self.batch([String(repeating: "z", count: 1500)], base: 0)
        let out = Self.sends(run.answer(round[0].tag, Self.fetchResponse([(Self.tp0, bytes, .noError)])))
        // Broker 2's fetch is still out: broker 1's next is again half the buffer.
        #expect(out.map(\.broker) == [1])
        #expect((out[0].request as! FetchRequest).maxBytes == 3000)
        // Less room than the share: the room.
        let second = Self.batch([String(repeating: "y", count: 3000)], base: 1)
        let more = Self.sends(run.answer(out[0].tag, Self.fetchResponse([(Self.tp0, second, .noError)])))
        #expect(more.map(\.broker) == [1])
        #expect((more[0].request as! FetchRequest).maxBytes == Int32(6000 - bytes.count - second.count))
        // Less room than the first fetch size: a fetch still asks for that much.
        let third = Self.batch([String(repeating: "x", count: 1000)], base: 2)
        let last = Self.sends(run.answer(more[0].tag, Self.fetchResponse([(Self.tp0, third, .noError)])))
        #expect(last.map(\.broker) == [1])
        #expect(6000 - bytes.count - second.count - third.count < 1000)
        #expect((last[0].request as! FetchRequest).maxBytes == 1000)

        c.shareRoomAmongFetches = false
        var old = Run(c, md: Self.metadata(leaders: leaders, epochs: Array(repeating: 5, count: 8)))
        old.f.assign(parts)
        #expect(Self.sends(old.step()).map { ($0.request as! FetchRequest).maxBytes } == [4000, 4000])
    }

    @Test func incrementalFetchOmitsUnchangedPartitionsAndForgetsRemovedOnes() {
        // Sizes held still (each partition ramps on its own): a size that changes is a change.
        var c = FetcherConfig()
        c.fullSizeOnceRecordsArrive = false
        var run = Run(c, md: Self.metadata(leaders: [1, 1]))
        run.f.assign([Self.tp0: .exact(0), Self.tp1: .exact(0)])
        let s = Self.sends(run.step())
        let out = run.answer(s[0].tag, Self.fetchResponse([(Self.tp0, Self.batch(["x"], base: 0), .noError)], session: 9))
        let inc = Self.sends(out)[0]
        let r = inc.request as! FetchRequest
        #expect(r.topics.flatMap(\.partitions).map(\.partition) == [0], "partition 1 is unchanged")
        run.f.unassign([Self.tp1])
        let after = Self.sends(run.answer(inc.tag, Self.fetchResponse([], session: 9)))
        let r2 = after[0].request as! FetchRequest
        #expect(r2.forgottenTopicsData.first?.partitions == [1])
        #expect(r2.sessionEpoch == 2)
    }

    @Test func sessionErrorsFallBackToAFullFetchAtOnce() {
        var run = Run(md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .exact(0)])
        let s = Self.sends(run.step())
        let out = run.answer(s[0].tag, Self.fetchResponse([], session: 9))
        var bad = FetchResponse()
        bad.errorCode = KafkaErrorCode.fetchSessionIdNotFound.rawValue
        let again = Self.sends(run.answer(Self.sends(out)[0].tag, bad))
        let r = again[0].request as! FetchRequest
        #expect(r.sessionId == 0 && r.sessionEpoch == 0)
        #expect(r.topics[0].partitions[0].fetchOffset == 0)
    }

    @Test func sessionsCanBeDisabled() {
        var c = FetcherConfig()
        c.fetchSessions = false
        var run = Run(c, md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .exact(0)])
        let r = Self.sends(run.step())[0].request as! FetchRequest
        #expect(r.sessionId == 0 && r.sessionEpoch == -1)
    }

    @Test func outOfRangeFollowsTheResetPolicy() {
        for (policy, expected) in [(OffsetResetPolicy.start, Int64(-2)), (.end, -1)] {
            var c = FetcherConfig()
            c.resetPolicy = policy
            var run = Run(c, md: Self.metadata(leaders: [1]))
            run.f.assign([Self.tp0: .exact(500)])
            let s = Self.sends(run.step())
            let out = Self.sends(run.answer(s[0].tag, Self.fetchResponse([(Self.tp0, nil, .offsetOutOfRange)])))
            #expect((out[0].request as! ListOffsetsRequest).topics[0].partitions[0].timestamp == expected)
        }
        var c = FetcherConfig()
        c.resetPolicy = .error
        var run = Run(c, md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .exact(500)])
        let s = Self.sends(run.step())
        let out = run.answer(s[0].tag, Self.fetchResponse([(Self.tp0, nil, .offsetOutOfRange)]))
        #expect(Self.deliveries(out).first?.partitions.first?.error == .offsetOutOfRange(offset: 500))
        #expect(Self.sends(out).isEmpty, "a stopped partition is not fetched")
    }

    @Test func corruptBatchStopsOnlyItsPartitionAndSkipResumesAfterIt() {
        var run = Run(md: Self.metadata(leaders: [1, 1]))
        run.f.assign([Self.tp0: .exact(0), Self.tp1: .exact(0)])
        let s = Self.sends(run.step())
        let good = Self.batch(["a"], base: 0)
        var bad = Self.batch(["b", "c"], base: 1)
        bad[bad.count - 1] ^= 0xff
        let out = run.answer(s[0].tag, Self.fetchResponse([(Self.tp0, good + bad, .noError), (Self.tp1, Self.batch(["z"], base: 0), .noError)]))
        let p = Self.deliveries(out)[0].partitions
        #expect(p[0].error == .corruptBatch(offset: 1, reason: p[0].error.map { if case .corruptBatch(_, let r) = $0 { r } else { "" } } ?? ""))
        #expect(p[0].records == good, "the records before the bad batch are kept")
        #expect(p[1].error == nil)
        let next = Self.sends(out)[0].request as! FetchRequest
        #expect(next.topics.flatMap(\.partitions).map(\.partition) == [1] || next.forgottenTopicsData.first?.partitions == [0])
        run.f.skip(Self.tp0)
        #expect(run.f.position(of: Self.tp0)?.offset == 3)
    }

    @Test func undecodablePayloadIsAPartitionErrorWithItsOffsetAndSkipTarget() {
        // A zstd batch whose payload is garbage but whose CRC is right: the engine's scan
        // passes it; decoding at poll reports it with the batch's offset.
        let ctx = CompressionContexts()
        let good = Self.batch(["a"], base: 0)
        var bad = try! RecordBatchEncoder.encode([EncodableRecord(value: Array(repeating: 7, count: 64), timestamp: 0),
                                                  EncodableRecord(value: [1], timestamp: 0)],
                                                 options: RecordBatchOptions(baseOffset: 1, codec: .zstd), contexts: ctx)
        for i in 61 ..< bad.count { bad[i] = 0x5a }
        let crc = CRC32C.checksum(bad[21...])
        bad[17] = UInt8(crc >> 24); bad[18] = UInt8(crc >> 16 & 0xff); bad[19] = UInt8(crc >> 8 & 0xff); bad[20] = UInt8(crc & 0xff)
        let tail = Self.batch(["z"], base: 3)
        let scan = BatchScan(good + bad + tail, fetchOffset: 0, verifyCRC: true)
        #expect(scan.corrupt == nil && scan.nextOffset == 4)
        let p = FetchedPartition(topicPartition: Self.tp0, fetchOffset: 0, nextOffset: 4, records: good + bad + tail)
        let d = p.decode(contexts: ctx)
        #expect(d.records.map(\.offset) == [0], "the records before the bad batch are kept")
        guard case .corruptBatch(let offset, _)? = d.error else { Issue.record("no error: \(String(describing: d.error))"); return }
        #expect(offset == 1)
        #expect(d.skipTo == 3, "skip resumes after the bad batch")
    }

    @Test func legacyMessageSetsAreScannedAndDecoded() throws {
        let ctx = CompressionContexts()
        let recs = { (vs: [String]) in vs.map { EncodableRecord(value: Array($0.utf8), timestamp: 5) } }
        let v0 = try LegacyMessageSetEncoder.encode(recs(["a", "b", "c"]), magic: 0, baseOffset: 10, contexts: ctx)
        let v1 = try LegacyMessageSetEncoder.encode(recs(["d", "e"]), magic: 1, codec: .gzip, baseOffset: 13, contexts: ctx)
        let scan = BatchScan(v0 + v1, fetchOffset: 10, verifyCRC: true)
        #expect(scan.corrupt == nil && scan.nextOffset == 15 && scan.lastEpoch == -1)
        let p = FetchedPartition(topicPartition: Self.tp0, fetchOffset: 11, nextOffset: 15, records: v0 + v1)
        let d = p.decode(contexts: ctx)
        #expect(d.error == nil)
        #expect(d.records.map(\.offset) == [11, 12, 13, 14])
        #expect(d.records.map { String(decoding: $0.value!, as: UTF8.self) } == ["b", "c", "d", "e"])
    }

    @Test func leaderEpochBumpValidatesAndReportsTruncation() {
        var run = Run(md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .exact(0)])
        let s = Self.sends(run.step())
        let out = run.answer(s[0].tag, Self.fetchResponse([(Self.tp0, Self.batch(["a", "b", "c", "d"], base: 0, epoch: 5), .noError)]))
        #expect(run.f.position(of: Self.tp0)! == (4, 5))
        _ = out
        // Leadership moves to a replica that lost offsets 2 and 3: epoch 6.
        run.md = Self.metadata(leaders: [2], epochs: [6])
        run.f.metadataUpdated(run.md)
        var v = Self.sends(run.step())
        // The in-flight fetch to the old leader answers NOT_LEADER; its data is ignored.
        if let fetchTag = v.first(where: { $0.request is FetchRequest })?.tag { _ = run.fail(fetchTag, .connectionClosed(broker: .node(1))) }
        v = v.filter { $0.request is OffsetForLeaderEpochRequest }
        if v.isEmpty { v = Self.sends(run.step()).filter { $0.request is OffsetForLeaderEpochRequest } }
        #expect(v.count == 1 && v[0].broker == 2)
        let req = v[0].request as! OffsetForLeaderEpochRequest
        #expect(req.topics[0].partitions[0].leaderEpoch == 5 && req.topics[0].partitions[0].currentLeaderEpoch == 6)
        var resp = OffsetForLeaderEpochResponse()
        var t = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult()
        t.topic = "t"
        var e = OffsetForLeaderEpochResponse.EpochEndOffset()
        e.partition = 0
        e.leaderEpoch = 5
        e.endOffset = 2
        t.partitions = [e]
        resp.topics = [t]
        let after = run.answer(v[0].tag, resp)
        #expect(Self.deliveries(after).first?.dataLoss == [DataLoss(topicPartition: Self.tp0, fromOffset: 2, toOffset: 4)])
        let f = Self.sends(after).first { $0.request is FetchRequest }
        #expect((f?.request as? FetchRequest)?.topics[0].partitions[0].fetchOffset == 2, "resumes at the divergence point")
        #expect(f?.broker == 2)
    }

    @Test func brokersWithoutOffsetForLeaderEpochSkipValidation() {
        var run = Run(md: Self.metadata(leaders: [1]))
        run.versions[.node(1)] = BrokerVersions([(key: .fetch, range: 0 ... 11)])
        run.f.assign([Self.tp0: .exactWithEpoch(7, epoch: 3)])
        let out = Self.sends(run.step())
        #expect(out.count == 1 && out[0].request is FetchRequest)
    }

    @Test func readCommittedDropsAbortedTransactionsAndMarkers() {
        let ctx = CompressionContexts()
        var bytes = Self.batch(["c1"], base: 0, transactional: true, producerId: 1)
        bytes += Self.batch(["x1"], base: 1, transactional: true, producerId: 2)
        let commit = try! ControlRecord.endTransactionMarkerBatch(commit: true, producerId: 1, producerEpoch: 0, coordinatorEpoch: 0,
                                                                  timestamp: 0, baseOffset: 2, contexts: ctx)
        let abort = try! ControlRecord.endTransactionMarkerBatch(commit: false, producerId: 2, producerEpoch: 0, coordinatorEpoch: 0,
                                                                 timestamp: 0, baseOffset: 3, contexts: ctx)
        bytes += commit + abort + Self.batch(["x2"], base: 4, transactional: true, producerId: 2)
        let aborted = [AbortedTransaction(producerId: 2, firstOffset: 1)]
        let rc = FetchedPartition(topicPartition: Self.tp0, fetchOffset: 0, nextOffset: 5, records: bytes, abortedTransactions: aborted,
                                  isolation: .readCommitted)
        #expect(rc.decode(contexts: ctx).records.map { String(decoding: $0.value!, as: UTF8.self) } == ["c1", "x2"])
        #expect(rc.decode(contexts: ctx, keepControlRecords: true).records.map(\.offset) == [0, 2, 3, 4])
        var ru = rc
        ru.isolation = .readUncommitted
        #expect(ru.decode(contexts: ctx).records.map(\.offset) == [0, 1, 4])
    }

    @Test func pausedPartitionsAreNotFetchedAndBufferLimitHoldsFetches() {
        var c = FetcherConfig()
        c.maxBufferedBytes = 10
        var run = Run(c, md: Self.metadata(leaders: [1, 1]))
        run.f.assign([Self.tp0: .exact(0), Self.tp1: .exact(0)])
        run.f.pause([Self.tp1])
        let s = Self.sends(run.step())
        #expect((s[0].request as! FetchRequest).topics.flatMap(\.partitions).map(\.partition) == [0])
        let out = run.answer(s[0].tag, Self.fetchResponse([(Self.tp0, Self.batch(["0123456789"], base: 0), .noError)]))
        #expect(Self.sends(out).isEmpty, "buffered bytes over the limit: no fetch until polled")
        run.f.consumed(bytes: run.f.bufferedBytes)
        run.f.resume([Self.tp1])
        let again = Self.sends(run.step())
        #expect((again[0].request as! FetchRequest).topics.flatMap(\.partitions).map(\.partition).sorted() == [0, 1])
    }

    @Test func preferredReadReplicaIsUsedUntilRecheckOrError() {
        var c = FetcherConfig()
        c.rack = "a"
        c.preferredReplicaRecheck = .seconds(10)
        var run = Run(c, md: Self.metadata(leaders: [1]))
        run.f.assign([Self.tp0: .exact(0)])
        let s = Self.sends(run.step())
        #expect((s[0].request as! FetchRequest).rackId == "a")
        var r = Self.fetchResponse([(Self.tp0, nil, .noError)])
        r.responses[0].partitions[0].preferredReadReplica = 3
        let toReplica = Self.sends(run.answer(s[0].tag, r))
        #expect(toReplica[0].broker == 3)
        let back = Self.sends(run.fail(toReplica[0].tag, .connectionClosed(broker: .node(3))))
        #expect(back.isEmpty, "backoff first")
        run.now = .milliseconds(200)
        let leader = Self.sends(run.step())
        #expect(leader.first?.broker == 1, "an error on the replica falls back to the leader")
    }

    /// The leader points at a replica our metadata does not list (a broker that came back
    /// after our last refresh; consume-rc-stuck-unknown-preferred-replica.scenario). Asking
    /// the leader again at once only gets the same pointer and no records, forever: the
    /// fetcher must ask for metadata and wait, then use the replica once metadata lists it.
    @Test func preferredReadReplicaMissingFromMetadataAsksForMetadata() {
        var c = FetcherConfig()
        c.rack = "a"
        var run = Run(c, md: Self.metadata(leaders: [2], brokers: [2, 3]))
        run.f.assign([Self.tp0: .exact(0)])
        let s = Self.sends(run.step())
        var r = Self.fetchResponse([(Self.tp0, nil, .noError)])
        r.responses[0].partitions[0].preferredReadReplica = 1
        let out = run.answer(s[0].tag, r)
        #expect(Self.sends(out).isEmpty, "no fetch from the leader at once: it would point at broker 1 again")
        #expect(out.contains { if case .metadata(_, .urgent) = $0 { return true } else { return false } }, "broker 1's address comes with metadata, urgently")
        // Still unknown after the backoff: back to the leader, and metadata asked again.
        run.now = .milliseconds(200)
        let still = run.step()
        #expect(Self.sends(still).map(\.broker) == [2])
        #expect(still.contains { if case .metadata(_, .urgent) = $0 { return true } else { return false } })
        var r2 = Self.fetchResponse([(Self.tp0, nil, .noError)])
        r2.responses[0].partitions[0].preferredReadReplica = 1
        #expect(Self.sends(run.answer(Self.sends(still)[0].tag, r2)).isEmpty)
        // Metadata now lists broker 1: the fetch goes there.
        run.md = Self.metadata(leaders: [2], brokers: [1, 2, 3])
        run.f.metadataUpdated(run.md)
        run.now = .milliseconds(400)
        #expect(Self.sends(run.step()).map(\.broker) == [1])
    }

    @Test func regexSubscriptionPicksUpNewTopicsWithExclusions() {
        var run = Run()
        run.f.subscribe(TopicSubscription(patterns: ["t.*"], exclusions: ["tx"]), metadata: run.md)
        #expect(run.f.assigned == [Self.tp0, Self.tp1])
        #expect(run.f.metadataTopics == nil, "patterns need every topic")
        var r = MetadataResponse()
        for name in ["t", "t2", "tx", "other"] {
            var t = MetadataResponse.MetadataResponseTopic()
            t.name = name
            var p = MetadataResponse.MetadataResponsePartition()
            p.leaderId = 1
            t.partitions = [p]
            r.topics.append(t)
        }
        run.md.apply(r, now: .milliseconds(1))
        run.f.metadataUpdated(run.md)
        #expect(run.f.assigned.map(\.description) == ["t[0]", "t[1]", "t2[0]"])
        #expect(TopicSubscription.invalidPattern(in: ["(unclosed"]) != nil)
    }
}
