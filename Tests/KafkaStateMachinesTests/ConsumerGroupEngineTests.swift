import Testing
@testable import KafkaStateMachines

/// A scripted cluster around a real `ClientEngine` for the consumer group protocol: one
/// broker (node 1) that is everyone's coordinator; ApiVersions (ConsumerGroupHeartbeat at
/// `heartbeatVersions`, or absent), Metadata (topic t with an id, 2 partitions) and
/// FindCoordinator are answered from here; every other request is held for the test.
struct ConsumerGroupWorld {
    var h = Harness(Harness.config())
    var heartbeatVersions: ClosedRange<Int16>? = 0 ... 1
    var held: [(connection: ConnectionID, request: SeenRequest)] = []
    var events: [GroupEvent] = []

    init(heartbeatVersions: ClosedRange<Int16>?) {
        self.heartbeatVersions = heartbeatVersions
    }

    mutating func join(_ config: GroupConfig) {
        h.engine.handle(.joinGroup(config), now: h.now)
        settle()
    }

    mutating func settle() {
        var batch = h.drain()
        while !batch.isEmpty {
            for a in batch {
                switch a {
                case .open(let c, _, _, _, _): h.engine.connectionOpened(c, now: h.now)
                case .write(let c, _): for r in decodeWrites([a]) { answer(r, on: c) }
                case .group(let e): events.append(e)
                default: break
                }
            }
            batch = h.drain()
        }
    }

    private mutating func answer(_ req: SeenRequest, on c: ConnectionID) {
        switch req.apiKey {
        case .apiVersions:
            var v = fullApiVersions()
            if let range = heartbeatVersions, let i = v.apiKeys.firstIndex(where: { $0.apiKey == ApiKey.consumerGroupHeartbeat.rawValue }) {
                v.apiKeys[i].minVersion = range.lowerBound
                v.apiKeys[i].maxVersion = range.upperBound
            } else {
                v.apiKeys.removeAll { $0.apiKey == ApiKey.consumerGroupHeartbeat.rawValue }
            }
            h.engine.bytesReceived(c, respond(req, v), now: h.now)
        case .metadata:
            var m = metadataResponse(brokers: [1], topics: [("t", [(0, 1), (1, 1)])])
            m.topics[0].topicId = ConsumerGroupMemberTests.tId
            h.engine.bytesReceived(c, respond(req, m), now: h.now)
        case .findCoordinator:
            let r = req.body as! FindCoordinatorRequest
            var resp = FindCoordinatorResponse()
            if req.version >= 4 {
                var co = FindCoordinatorResponse.Coordinator()
                co.key = r.coordinatorKeys.first ?? r.key
                co.nodeId = 1
                co.host = "broker1"
                co.port = 9092
                resp.coordinators = [co]
            } else {
                resp.nodeId = 1
                resp.host = "broker1"
                resp.port = 9092
            }
            h.engine.bytesReceived(c, respond(req, resp), now: h.now)
        default:
            held.append((c, req))
        }
    }

    /// Takes the held requests of this API (oldest first).
    mutating func take(_ key: ApiKey) -> [(connection: ConnectionID, request: SeenRequest)] {
        let out = held.filter { $0.request.apiKey == key }
        held.removeAll { $0.request.apiKey == key }
        return out
    }

    mutating func reply<R: KafkaResponse>(_ x: (connection: ConnectionID, request: SeenRequest), _ r: R) {
        h.engine.bytesReceived(x.connection, respond(x.request, r), now: h.now)
        settle()
    }
}

/// The consumer group protocol through the whole engine: the option in GroupConfig reaches
/// the member, which speaks ConsumerGroupHeartbeat to the coordinator found by the core, and
/// the fetcher starts only once the assignment is acknowledged.
@Suite struct ConsumerGroupEngineTests {
    @Test func theGroupProtocolOptionReachesTheEngine() throws {
        var w = ConsumerGroupWorld(heartbeatVersions: 0 ... 1)
        var c = ConsumerGroupMemberTests.config()
        c.serverAssignor = "range"
        w.join(c)
        #expect(w.h.engine.groupState?.config.groupProtocol == .consumer)
        #expect(w.take(.joinGroup).isEmpty)
        let j = w.take(.consumerGroupHeartbeat)
        try #require(j.count == 1)
        #expect(j[0].request.version == 1)
        let first = j[0].request.body as! ConsumerGroupHeartbeatRequest
        #expect(first.memberEpoch == 0 && first.serverAssignor == "range" && first.subscribedTopicNames == ["t"] && !first.memberId.isEmpty)

        w.reply(j[0], ConsumerGroupMemberTests.response(member: first.memberId, epoch: 1, assignment: [(ConsumerGroupMemberTests.tId, [1])]))
        #expect(w.events.contains { if case .joined(_, 1, false, "consumer") = $0 { return true } else { return false } })
        #expect(w.take(.fetch).isEmpty && w.take(.offsetFetch).isEmpty)
        let ack = w.take(.consumerGroupHeartbeat)
        try #require(ack.count == 1)
        #expect(ConsumerGroupMemberTests.owned(ack[0].request.body as! ConsumerGroupHeartbeatRequest) == [ConsumerGroupMemberTests.tId: [1]])

        w.reply(ack[0], ConsumerGroupMemberTests.response(epoch: 1))
        let f = w.take(.offsetFetch)
        try #require(f.count == 1)
        w.reply(f[0], GroupMemberTests.offsets([1: 3]))
        #expect(w.events.contains { if case .assigned([TopicPartition("t", 1)], generation: 1) = $0 { return true } else { return false } })
        let fetch = w.take(.fetch)
        #expect(fetch.count == 1)
        let fr = fetch.first?.request.body as? FetchRequest
        #expect(fr?.topics.flatMap { $0.partitions.map(\.partition) } == [1])
    }

    /// Determinism: the same seed gives the same bytes written (the member id included); a
    /// different seed a different member id.
    @Test func theSameSeedWritesTheSameBytes() {
        func run(seed: UInt64) -> ([[UInt8]], String) {
            var w = ConsumerGroupWorld(heartbeatVersions: 0 ... 1)
            w.h = Harness(Harness.config(), seed: seed)
            w.join(ConsumerGroupMemberTests.config())
            let writes = w.h.log.compactMap { a -> [UInt8]? in if case .write(_, let b) = a { return b.bytes } else { return nil } }
            let id = (w.take(.consumerGroupHeartbeat).first?.request.body as? ConsumerGroupHeartbeatRequest)?.memberId ?? ""
            return (writes, id)
        }
        let a = run(seed: 3), b = run(seed: 3), c = run(seed: 4)
        #expect(a.0 == b.0 && !a.0.isEmpty && a.1 == b.1 && !a.1.isEmpty)
        #expect(a.1 != c.1)
    }

    /// A broker whose ApiVersions lacks ConsumerGroupHeartbeat: the membership fails with
    /// the typed error; nothing of the classic protocol is tried.
    @Test func aBrokerWithoutTheConsumerProtocolFailsTyped() {
        var w = ConsumerGroupWorld(heartbeatVersions: nil)
        w.join(ConsumerGroupMemberTests.config())
        #expect(w.events.contains { if case .failed(.groupProtocolUnsupported) = $0 { return true } else { return false } })
        #expect(w.take(.joinGroup).isEmpty && w.take(.consumerGroupHeartbeat).isEmpty)
        #expect(w.h.engine.groupState?.isActive == false)
    }

    /// A v0-only coordinator (Kafka 3.7-3.9): the first heartbeat, made before its version
    /// is known, goes with our own id pinned to v1 and is refused before it leaves; the
    /// next one is v0's, with an empty id, and the id the coordinator answers is used after.
    @Test func aVersionZeroCoordinatorNamesTheMember() throws {
        var w = ConsumerGroupWorld(heartbeatVersions: 0 ... 0)
        w.join(ConsumerGroupMemberTests.config())
        let j = w.take(.consumerGroupHeartbeat)
        try #require(j.count == 1)
        let r = j[0].request.body as! ConsumerGroupHeartbeatRequest
        #expect(j[0].request.version == 0 && r.memberId == "" && r.memberEpoch == 0)
        w.reply(j[0], ConsumerGroupMemberTests.response(member: "named-by-coordinator", epoch: 1, assignment: [(ConsumerGroupMemberTests.tId, [0])]))
        let ack = w.take(.consumerGroupHeartbeat)
        try #require(ack.count == 1)
        #expect((ack[0].request.body as! ConsumerGroupHeartbeatRequest).memberId == "named-by-coordinator")
        #expect(w.h.engine.groupState?.memberId == "named-by-coordinator")
    }

    /// A pattern subscription and a v0-only coordinator: the regex pinned to v1 is refused by
    /// the core before it leaves, and the member sends the names it resolves instead.
    @Test func aPatternOnAVersionZeroCoordinatorGoesAsNames() throws {
        var w = ConsumerGroupWorld(heartbeatVersions: 0 ... 0)
        w.join(ConsumerGroupMemberTests.config(topics: [], patterns: ["t.*"]))
        let j = w.take(.consumerGroupHeartbeat)
        try #require(j.count == 1)
        let r = j[0].request.body as! ConsumerGroupHeartbeatRequest
        #expect(j[0].request.version == 0 && r.subscribedTopicNames == ["t"] && r.subscribedTopicRegex == nil && r.memberId == "")
    }
}
