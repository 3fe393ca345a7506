import Testing
@testable import KafkaStateMachines

/// A scripted cluster around a real `ClientEngine`, for producer transcripts: connections
/// open at once; ApiVersions, Metadata and InitProducerId are answered from the state below;
/// Produce requests are held for the test to answer (or inspect) one by one.
struct ProducerWorld {
    struct Partition {
        var leader: Int32
        var epoch: Int32 = 0
    }

    /// One batch of a held Produce request, decoded.
    struct SentBatch: CustomStringConvertible {
        var tp: TopicPartition
        var header: RecordBatchHeader
        var values: [String]
        var codec: CompressionCodec? { header.attributes.codec }
        var sequence: Int32 { header.baseSequence }
        var description: String {
            "\(tp) pid \(header.producerId) e\(header.producerEpoch) seq \(header.baseSequence) \(values)"
        }
    }

    /// A Produce request the engine wrote, with the broker it went to.
    struct Sent: CustomStringConvertible {
        var seen: SeenRequest
        var broker: Int32
        var request: ProduceRequest { seen.body as! ProduceRequest }
        var batches: [SentBatch]
        var description: String { "produce→\(broker) \(batches)" }
    }

    var h: Harness
    var brokers: [Int32] = [1, 2, 3]
    var topics: [String: [Partition]] = [:]
    /// Topic-level errors metadata answers with (UNKNOWN_TOPIC_OR_PARTITION for topics not listed).
    var topicErrors: [String: KafkaErrorCode] = [:]
    /// Topic IDs metadata answers with (none: the zero ID, as before Metadata v10).
    var topicIds: [String: KafkaUUID] = [:]
    /// Caps the Produce version every broker advertises.
    var produceMaxVersion: Int16? = nil
    /// Scripted InitProducerId error codes, used before the default answers (a new id from
    /// `nextProducerId` at epoch 0 for -1/-1, else the same id at epoch + 1).
    var initErrors: [KafkaErrorCode] = []
    var nextProducerId: Int64 = 1000
    var inits: [InitProducerIdRequest] = []
    var metadataRequests: [MetadataRequest] = []
    /// Produce requests not yet answered, in the order written.
    var held: [Sent] = []
    /// Every Produce request written, in order.
    var allSent: [Sent] = []
    var reports: [DeliveryReport] = []
    var notices: [ProducerNotice] = []
    /// The broker's log of each partition: values appended by answers without an error.
    var log: [TopicPartition: [String]] = [:]
    var brokerOf: [ConnectionID: BrokerID] = [:]
    let contexts = CompressionContexts()

    // The transaction coordinator (ProducerTransactionTranscriptTests).
    var txnCoordinator: Int32 = 2
    var findRequests: [FindCoordinatorRequest] = []
    /// The broker each InitProducerId went to.
    var initBrokers: [BrokerID] = []
    /// Scripted AddPartitionsToTxn answers: each applies to every partition of one request.
    var addErrors: [KafkaErrorCode] = []
    var adds: [(broker: Int32, partitions: [TopicPartition])] = []
    /// Scripted EndTxn error codes, used before answering success.
    var endErrors: [KafkaErrorCode] = []
    var ends: [(broker: Int32, request: EndTxnRequest)] = []
    /// EndTxn answers to send as garbage first (the right correlation id, an unreadable body).
    var endGarbage = 0
    /// The group coordinator (FindCoordinator key type 0) and the offsets sent into transactions.
    var groupCoordinator: Int32 = 3
    var addOffsetsErrors: [KafkaErrorCode] = []
    var addOffsets: [(broker: Int32, request: AddOffsetsToTxnRequest)] = []
    /// Scripted TxnOffsetCommit answers: each applies to every partition of one request.
    var txnCommitErrors: [KafkaErrorCode] = []
    var txnCommits: [(broker: Int32, request: TxnOffsetCommitRequest)] = []
    /// Every request answered or held, in order: "api→node" (e.g. "addPartitionsToTxn→2").
    var trace: [String] = []
    /// Caps the InitProducerId version every broker advertises (below 3: no KIP-360/588 fields).
    var initMaxVersion: Int16? = nil
    /// The version each InitProducerId went at.
    var initVersions: [Int16] = []
    /// Requests of these kinds to lose with their connection (closed instead of answered),
    /// counted down; AddOffsetsToTxn and TxnOffsetCommit share `dropOffsets`.
    var dropAdds = 0
    var dropEnds = 0
    var dropOffsets = 0
    var dropInits = 0
    /// Every request's key and version, in order (apart from ApiVersions and Metadata).
    var versions: [(key: ApiKey, version: Int16)] = []
    /// The finalized transaction.version every broker advertises (KIP-890 part 2), but those
    /// in `brokersWithoutTransactionV2`; at v5 EndTxn answers with the epoch bumped.
    var transactionVersion: Int16 = 0
    var brokersWithoutTransactionV2: Set<Int32> = []

    init(_ configure: (inout ProducerConfig) -> Void = { _ in }, engine: (inout EngineConfig) -> Void = { _ in }) {
        var c = Harness.config()
        c.producer.linger = .zero
        configure(&c.producer)
        engine(&c)
        h = Harness(c)
    }

    var now: Instant { h.now }

    static func record(_ topic: String, _ partition: Int32?, _ token: UInt64, key: [UInt8]? = nil, size: Int = 0) -> ProducerRecord {
        var value = Array("v\(token)".utf8)
        if size > value.count { value += Array(repeating: UInt8(ascii: "."), count: size - value.count) }
        return ProducerRecord(topic: topic, partition: partition, key: key, value: value, timestamp: 1000 + Int64(token), token: token)
    }

    /// Produces one record per token, one engine call each, letting the world answer after each.
    @discardableResult
    mutating func produce(_ topic: String, _ partition: Int32?, _ tokens: [UInt64], size: Int = 0) -> [ProduceError?] {
        var errors: [ProduceError?] = []
        for t in tokens {
            errors.append(h.engine.produce(Self.record(topic, partition, t, size: size), now: h.now))
            settle()
        }
        return errors
    }

    /// Produces the records in one engine call (they share the open batch), then settles.
    mutating func produceTogether(_ topic: String, _ partition: Int32?, _ tokens: [UInt64], size: Int = 0) {
        h.engine.produce(tokens.map { Self.record(topic, partition, $0, size: size) }, now: h.now)
        settle()
    }

    /// Begin, commit or abort; their answers arrive among `notices` as `.transactionDone`.
    mutating func begin(_ promise: UInt64) {
        h.engine.handle(.beginTransaction(PromiseID(promise)), now: h.now)
        settle()
    }

    /// Consumed offsets into the open transaction (nil: the engine's group member's).
    mutating func sendOffsets(_ promise: UInt64, _ offsets: TransactionOffsets?) {
        h.engine.handle(.sendOffsetsToTransaction(offsets, PromiseID(promise)), now: h.now)
        settle()
    }

    mutating func end(commit: Bool, _ promise: UInt64) {
        h.engine.handle(.endTransaction(commit: commit, PromiseID(promise)), now: h.now)
        settle()
    }

    /// The answer to begin / commit / abort `promise`: nil while none came, `.some(nil)` for success.
    func transactionOutcome(_ promise: UInt64) -> TransactionError?? {
        for n in notices {
            if case .transactionDone(let p, let e) = n, p == PromiseID(promise) { return .some(e) }
        }
        return nil
    }

    mutating func flush(_ promise: UInt64) {
        h.engine.flush(promise: PromiseID(promise), now: h.now)
        settle()
    }

    mutating func advance(to ms: UInt64) {
        settleFrom(h.advance(to: ms))
    }

    /// Ticks at the engine's next deadline; false when it has none or it lies beyond `limitMs`.
    mutating func step(limitMs: UInt64 = 600_000) -> Bool {
        guard let d = h.engine.nextDeadline(), d <= .milliseconds(limitMs) else { return false }
        guard d > h.now || h.now == .zero else {
            Issue.record("deadline \(d) not after \(h.now)")
            return false
        }
        h.now = d
        h.engine.tick(now: d)
        settle()
        return true
    }

    /// Ticks at each engine deadline up to `ms` (inclusive), then at `ms`.
    mutating func run(until ms: UInt64) {
        while let d = h.engine.nextDeadline(), d <= .milliseconds(ms) {
            h.now = d
            h.engine.tick(now: d)
            settle()
        }
        if h.now < .milliseconds(ms) { advance(to: ms) }
    }

    /// Drains the engine and answers everything but Produce until nothing new happens.
    mutating func settle() {
        settleFrom(h.drain())
    }

    private mutating func settleFrom(_ first: [Action]) {
        var batch = first
        while !batch.isEmpty {
            process(batch)
            batch = h.drain()
        }
    }

    private mutating func process(_ actions: [Action]) {
        for a in actions {
            switch a {
            case .open(let c, let b, _, _, _):
                brokerOf[c] = b
                h.engine.connectionOpened(c, now: h.now)
            case .close(let c):
                brokerOf[c] = nil
            case .write(let c, _):
                for req in decodeWrites([a]) { answer(req, on: c) }
            case .delivery(let r):
                reports.append(r)
            case .producer(let n):
                notices.append(n)
            default:
                break
            }
        }
    }

    /// The connection closes with the request unanswered.
    private mutating func lose(_ c: ConnectionID) {
        brokerOf[c] = nil
        h.engine.connectionClosed(c, now: h.now)
    }

    private mutating func answer(_ req: SeenRequest, on c: ConnectionID) {
        let node: Int32
        if case .node(let n)? = brokerOf[c] { node = n } else { node = -1 }
        if req.apiKey != .apiVersions && req.apiKey != .metadata {
            trace.append("\(req.apiKey)→\(node)")
            versions.append((req.apiKey, req.version))
        }
        func drop(_ counter: inout Int) -> Bool {
            guard counter > 0 else { return false }
            counter -= 1
            return true
        }
        switch req.apiKey {
        case .addPartitionsToTxn where drop(&dropAdds):
            let r = req.body as! AddPartitionsToTxnRequest
            adds.append((node, r.v3AndBelowTopics.flatMap { t in t.partitions.map { TopicPartition(t.name, $0) } }))
            lose(c)
        case .endTxn where drop(&dropEnds):
            ends.append((node, req.body as! EndTxnRequest))
            lose(c)
        case .addOffsetsToTxn where drop(&dropOffsets):
            addOffsets.append((node, req.body as! AddOffsetsToTxnRequest))
            lose(c)
        case .txnOffsetCommit where drop(&dropOffsets):
            txnCommits.append((node, req.body as! TxnOffsetCommitRequest))
            lose(c)
        case .initProducerId where drop(&dropInits):
            inits.append(req.body as! InitProducerIdRequest)
            initVersions.append(req.version)
            lose(c)
        case .findCoordinator:
            let r = req.body as! FindCoordinatorRequest
            findRequests.append(r)
            var resp = FindCoordinatorResponse()
            let coordinator = r.keyType == 0 ? groupCoordinator : txnCoordinator
            if req.version >= 4 {
                var co = FindCoordinatorResponse.Coordinator()
                co.key = r.coordinatorKeys.first ?? r.key
                co.nodeId = coordinator
                co.host = "broker\(coordinator)"
                co.port = 9092
                resp.coordinators = [co]
            } else {
                resp.nodeId = coordinator
                resp.host = "broker\(coordinator)"
                resp.port = 9092
            }
            h.engine.bytesReceived(c, respond(req, resp), now: h.now)
        case .addPartitionsToTxn:
            let r = req.body as! AddPartitionsToTxnRequest
            let tps = r.v3AndBelowTopics.flatMap { t in t.partitions.map { TopicPartition(t.name, $0) } }
            adds.append((node, tps))
            let code = addErrors.isEmpty ? KafkaErrorCode.noError : addErrors.removeFirst()
            var resp = AddPartitionsToTxnResponse()
            resp.resultsByTopicV3AndBelow = r.v3AndBelowTopics.map { t in
                var tr = AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult()
                tr.name = t.name
                tr.resultsByPartition = t.partitions.map {
                    var pr = AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult()
                    pr.partitionIndex = $0
                    pr.partitionErrorCode = code.rawValue
                    return pr
                }
                return tr
            }
            h.engine.bytesReceived(c, respond(req, resp), now: h.now)
        case .addOffsetsToTxn:
            addOffsets.append((node, req.body as! AddOffsetsToTxnRequest))
            var resp = AddOffsetsToTxnResponse()
            if !addOffsetsErrors.isEmpty { resp.errorCode = addOffsetsErrors.removeFirst().rawValue }
            h.engine.bytesReceived(c, respond(req, resp), now: h.now)
        case .txnOffsetCommit:
            let r = req.body as! TxnOffsetCommitRequest
            txnCommits.append((node, r))
            let code = txnCommitErrors.isEmpty ? KafkaErrorCode.noError : txnCommitErrors.removeFirst()
            var resp = TxnOffsetCommitResponse()
            resp.topics = r.topics.map { t in
                var tr = TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic()
                tr.name = t.name
                tr.partitions = t.partitions.map {
                    var pr = TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition()
                    pr.partitionIndex = $0.partitionIndex
                    pr.errorCode = code.rawValue
                    return pr
                }
                return tr
            }
            h.engine.bytesReceived(c, respond(req, resp), now: h.now)
        case .endTxn:
            let r = req.body as! EndTxnRequest
            ends.append((node, r))
            if endGarbage > 0 {
                endGarbage -= 1
                let good = respond(req, EndTxnResponse())
                h.engine.bytesReceived(c, [0, 0, 0, 5] + Array(good[4 ..< 8]) + [0xFF], now: h.now)
                return
            }
            var resp = EndTxnResponse()
            if !endErrors.isEmpty { resp.errorCode = endErrors.removeFirst().rawValue }
            if req.version >= 5 && resp.errorCode == 0 {
                resp.producerId = r.producerId
                resp.producerEpoch = r.producerEpoch + 1
            }
            h.engine.bytesReceived(c, respond(req, resp), now: h.now)
        case .apiVersions:
            var v = fullApiVersions()
            if let cap = produceMaxVersion, let i = v.apiKeys.firstIndex(where: { $0.apiKey == ApiKey.produce.rawValue }) {
                v.apiKeys[i].maxVersion = cap
            }
            if let cap = initMaxVersion, let i = v.apiKeys.firstIndex(where: { $0.apiKey == ApiKey.initProducerId.rawValue }) {
                v.apiKeys[i].maxVersion = cap
            }
            if transactionVersion > 0, !brokersWithoutTransactionV2.contains(node) {
                var f = ApiVersionsResponse.FinalizedFeatureKey()
                f.name = "transaction.version"
                f.minVersionLevel = transactionVersion
                f.maxVersionLevel = transactionVersion
                v.finalizedFeatures = [f]
                v.finalizedFeaturesEpoch = 7
            }
            h.engine.bytesReceived(c, respond(req, v), now: h.now)
        case .metadata:
            let m = req.body as! MetadataRequest
            metadataRequests.append(m)
            h.engine.bytesReceived(c, respond(req, metadataAnswer(for: m.topics?.compactMap(\.name) ?? topics.keys.sorted())), now: h.now)
        case .initProducerId:
            let r = req.body as! InitProducerIdRequest
            inits.append(r)
            initVersions.append(req.version)
            initBrokers.append(brokerOf[c] ?? .node(-1))
            var resp = InitProducerIdResponse()
            if !initErrors.isEmpty {
                resp.errorCode = initErrors.removeFirst().rawValue
            } else if r.producerId < 0 {
                resp.producerId = nextProducerId
                resp.producerEpoch = 0
                nextProducerId += 1
            } else {
                resp.producerId = r.producerId
                resp.producerEpoch = r.producerEpoch + 1
            }
            h.engine.bytesReceived(c, respond(req, resp), now: h.now)
        case .produce:
            guard case .node(let n)? = brokerOf[c] else { Issue.record("produce on a seed connection"); return }
            let p = req.body as! ProduceRequest
            var batches: [SentBatch] = []
            for t in p.topicData {
                for pd in t.partitionData {
                    guard let bytes = pd.records, let decoded = try? RecordsReader.decodeAll(bytes, contexts: contexts).batches else {
                        Issue.record("undecodable batch for \(t.name)[\(pd.index)]")
                        continue
                    }
                    for b in decoded {
                        batches.append(SentBatch(tp: TopicPartition(t.name, pd.index), header: b.header,
                                                 values: b.records.map { String(decoding: $0.valueBytes ?? [], as: UTF8.self) }))
                    }
                }
            }
            let s = Sent(seen: req, broker: n, batches: batches)
            allSent.append(s)
            if p.acks != 0 { held.append(s) } else { appendToLog(s.batches) }
        default:
            Issue.record("unexpected request \(req.apiKey)")
        }
    }

    func metadataAnswer(for names: [String]) -> MetadataResponse {
        var m = metadataResponse(brokers: brokers, controller: brokers.first ?? -1)
        m.topics = names.map { name in
            var t = MetadataResponse.MetadataResponseTopic()
            t.name = name
            if let id = topicIds[name] { t.topicId = id }
            if let parts = topics[name], topicErrors[name] == nil {
                t.partitions = parts.enumerated().map { i, p in
                    var x = MetadataResponse.MetadataResponsePartition()
                    x.partitionIndex = Int32(i)
                    x.leaderId = p.leader
                    x.leaderEpoch = p.epoch
                    return x
                }
            } else {
                t.errorCode = (topicErrors[name] ?? .unknownTopicOrPartition).rawValue
            }
            return t
        }
        return m
    }

    private mutating func appendToLog(_ batches: [SentBatch]) {
        for b in batches { log[b.tp, default: []] += b.values }
    }

    /// Answers a held request (by default the oldest): every partition without a scripted
    /// error is appended to the log and gets its base offset; `hints` fill KIP-951's
    /// current-leader field of failed partitions; `recordErrors` fill KIP-467's RecordErrors
    /// (batch index, message) and ErrorMessage of failed partitions.
    mutating func answer(_ index: Int = 0, errors: [TopicPartition: KafkaErrorCode] = [:],
                         hints: [TopicPartition: Partition] = [:],
                         recordErrors: [TopicPartition: (records: [(Int32, String?)], message: String?)] = [:]) {
        let s = held.remove(at: index)
        var resp = ProduceResponse()
        var topicsOut: [ProduceResponse.TopicProduceResponse] = []
        for b in s.batches {
            var pr = ProduceResponse.PartitionProduceResponse()
            pr.index = b.tp.partition
            if let e = errors[b.tp] {
                pr.errorCode = e.rawValue
                pr.baseOffset = -1
                if let named = recordErrors[b.tp] {
                    pr.errorMessage = named.message
                    pr.recordErrors = named.records.map { i, m in
                        var e = ProduceResponse.BatchIndexAndErrorMessage()
                        e.batchIndex = i
                        e.batchIndexErrorMessage = m
                        return e
                    }
                }
                if let hint = hints[b.tp] {
                    pr.currentLeader.leaderId = hint.leader
                    pr.currentLeader.leaderEpoch = hint.epoch
                }
            } else {
                pr.baseOffset = Int64(log[b.tp]?.count ?? 0)
                appendToLog([b])
            }
            if topicsOut.last?.name == b.tp.topic {
                topicsOut[topicsOut.count - 1].partitionResponses.append(pr)
            } else {
                var t = ProduceResponse.TopicProduceResponse()
                t.name = b.tp.topic
                t.partitionResponses = [pr]
                topicsOut.append(t)
            }
        }
        resp.responses = topicsOut
        let c = s.seen.connection
        h.engine.bytesReceived(c, respond(s.seen, resp), now: h.now)
        settle()
    }

    /// Answers every held request in order, without errors, until none is held.
    mutating func answerAll() {
        while !held.isEmpty { answer() }
    }

    /// Delivery reports as (tokens, base offset, error), in the order they came.
    var outcomes: [([UInt64], Int64, ProduceError?)] { reports.map { ($0.tokens, $0.baseOffset, $0.error) } }
    var deliveredTokens: [UInt64] { reports.filter { $0.error == nil }.flatMap(\.tokens) }
    var failedTokens: [UInt64] { reports.filter { $0.error != nil }.flatMap(\.tokens) }
}
