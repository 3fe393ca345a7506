@testable import FakeCluster
import Testing

/// Client byte-rate quotas set through AlterClientQuotas and enforced as KIP-219 throttles:
/// over the rate, the answer carries throttle_time_ms = the time the measured rate needs to
/// fall back to the quota, and the connection is muted that long; under it, nothing.
@Suite struct QuotaThrottleTests {
    /// Sets one quota over the wire (AlterClientQuotas); a nil name is the default entity.
    static func setQuota(_ cluster: inout FakeCluster, _ entity: [(type: String, name: String?)], _ key: String, _ value: Double) throws {
        var r = AlterClientQuotasRequest()
        var e = AlterClientQuotasRequest.EntryData()
        e.entity = entity.map {
            var d = AlterClientQuotasRequest.EntityData()
            d.entityType = $0.type
            d.entityName = $0.name
            return d
        }
        var op = AlterClientQuotasRequest.OpData()
        op.key = key
        op.value = value
        e.ops = [op]
        r.entries = [e]
        var admin = WireClient(&cluster, broker: 1, clientId: "admin")
        let resp = try admin.call(r, version: 1, on: &cluster)
        try #require(resp.entries.map(\.errorCode) == [0])
    }

    /// The bytes a Produce of this request is charged: its frame without the size prefix.
    static func charged(_ r: ProduceRequest, version: Int16 = 9, clientId: String = "wire-test") throws -> Int {
        try encodeRequestFrame(r, version: version, correlationId: 1, clientId: clientId).count - 4
    }

    static func cluster() -> FakeCluster { threeBrokers { $0.topics = [.init(name: "t", partitions: 1)] } }

    @Test func produceOverTheRateIsThrottledInProportionToTheExcess() throws {
        var cluster = Self.cluster()
        let leader = cluster.partitionInfo(.init("t", 0))!.leader
        try Self.setQuota(&cluster, [("client-id", "wire-test")], "producer_byte_rate", 1000)
        let request = produceRequest("t", 0, makeBatch(count: 6, valueSize: 1000))
        let size = try Self.charged(request)
        #expect(size > 6000 && size < 7000)
        // At the first record the rate is measured over ten whole windows (10 s): 1000 B/s
        // allows 10000 bytes; beyond that each byte over costs 1 ms (X = (O - T) / T * W).
        var a = WireClient(&cluster, broker: leader), b = WireClient(&cluster, broker: leader), c = WireClient(&cluster, broker: leader)
        let under = try a.call(request, version: 9, on: &cluster)
        #expect(under.throttleTimeMs == 0)
        #expect(cluster.throttledResponse(a.connection, correlationId: 1) == nil)
        let over = try b.call(request, version: 9, on: &cluster)
        #expect(Int(over.throttleTimeMs) == 2 * size - 10_000)
        #expect(cluster.throttledResponse(b.connection, correlationId: 1) == over.throttleTimeMs)
        // Records are not refused: the throttled produce was appended.
        #expect(over.responses.first?.partitionResponses.first?.errorCode == 0)
        let further = try c.call(request, version: 9, on: &cluster)
        #expect(Int(further.throttleTimeMs) == 3 * size - 10_000)

        // b is muted: what it sends meanwhile is read when the throttle ends, not before.
        let end = Instant.zero.adding(milliseconds: Int64(over.throttleTimeMs))
        #expect(b.sent(b.send(MetadataRequest(), version: 12, to: &cluster, now: .milliseconds(100))).isEmpty)
        #expect(b.sent(cluster.tick(now: .zero.adding(milliseconds: Int64(over.throttleTimeMs) - 1))).isEmpty)
        let released = b.sent(cluster.tick(now: end))
        #expect(released.count == 1)
        #expect(try b.decode(MetadataResponse.self, version: 12, released[0]).throttleTimeMs == 0)
        // Another client id has no quota (none for the default client id): never throttled.
        var other = WireClient(&cluster, broker: leader, clientId: "other")
        #expect(try other.call(request, version: 9, on: &cluster).throttleTimeMs == 0)
    }

    @Test func theRateIsMeasuredPerBrokerOnVirtualTime() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 3)] }
        let l0 = cluster.partitionInfo(.init("t", 0))!.leader
        let p1 = try #require((1 ..< 3).first { cluster.partitionInfo(.init("t", $0))!.leader != l0 })
        try Self.setQuota(&cluster, [("client-id", nil)], "producer_byte_rate", 1000)
        let r0 = produceRequest("t", 0, makeBatch(count: 6, valueSize: 1000))
        var a = WireClient(&cluster, broker: l0)
        #expect(try a.call(r0, version: 9, on: &cluster).throttleTimeMs == 0)
        // 12 s later the first bytes are outside the 11 one-second samples: under again.
        #expect(try a.call(r0, version: 9, on: &cluster, now: .milliseconds(12_000)).throttleTimeMs == 0)
        // The same bytes again at once exceed it.
        #expect(try a.call(r0, version: 9, on: &cluster, now: .milliseconds(12_000)).throttleTimeMs > 0)
        // Another broker measures only its own traffic.
        var b = WireClient(&cluster, broker: cluster.partitionInfo(.init("t", p1))!.leader)
        #expect(try b.call(produceRequest("t", p1, makeBatch(count: 6, valueSize: 1000)), version: 9, on: &cluster,
                           now: .milliseconds(12_000)).throttleTimeMs == 0)
    }

    @Test func precedenceOfEntitiesFollowsKafka() {
        var store = QuotaStore()
        typealias P = QuotaStore.Entity.Part
        func set(_ parts: [P], _ v: Double) { store.apply(QuotaStore.Entity(parts), [(key: "producer_byte_rate", value: v)]) }
        func got(_ user: String = "alice", _ client: String = "app") -> String {
            guard let l = store.limit("producer_byte_rate", user: user, clientId: client) else { return "none" }
            return "\(Int(l.value)) [\(l.user)|\(l.clientId)]"
        }
        let user = "user", client = "client-id"
        #expect(got() == "none")
        // From the least specific entity to the most: each new one takes over.
        set([P(type: client, name: nil)], 1)
        #expect(got() == "1 [|app]")
        set([P(type: client, name: "app")], 2)
        #expect(got() == "2 [|app]")
        set([P(type: user, name: nil)], 3)
        #expect(got() == "3 [alice|]")
        set([P(type: user, name: nil), P(type: client, name: nil)], 4)
        #expect(got() == "4 [alice|app]")
        set([P(type: user, name: nil), P(type: client, name: "app")], 5)
        #expect(got() == "5 [alice|app]")
        set([P(type: user, name: "alice")], 6)
        #expect(got() == "6 [alice|]")
        set([P(type: user, name: "alice"), P(type: client, name: nil)], 7)
        #expect(got() == "7 [alice|app]")
        set([P(type: user, name: "alice"), P(type: client, name: "app")], 8)
        #expect(got() == "8 [alice|app]")
        // Others fall to the level that names them, or the defaults.
        #expect(got("alice", "cli") == "7 [alice|cli]")
        #expect(got("bob", "app") == "5 [bob|app]")
        #expect(got("bob", "cli") == "4 [bob|cli]")
        // Another key is looked up on its own: no entity sets it.
        #expect(store.limit("consumer_byte_rate", user: "alice", clientId: "app") == nil)
    }

    @Test func aUserQuotaIsSharedByItsClientsAndBeatsAClientIdQuota() throws {
        var cluster = Self.cluster()
        let leader = cluster.partitionInfo(.init("t", 0))!.leader
        let request = produceRequest("t", 0, makeBatch(count: 6, valueSize: 1000))
        // A quota per default client id: each client is metered alone, and 6 kB each is within it.
        try Self.setQuota(&cluster, [("client-id", nil)], "producer_byte_rate", 1000)
        var a = WireClient(&cluster, broker: leader, clientId: "a"), b = WireClient(&cluster, broker: leader, clientId: "b")
        #expect(try a.call(request, version: 9, on: &cluster).throttleTimeMs == 0)
        #expect(try b.call(request, version: 9, on: &cluster).throttleTimeMs == 0)
        // The (unauthenticated) user's quota takes precedence and is shared by its clients:
        // a fresh cluster so the meters start empty.
        cluster = Self.cluster()
        try Self.setQuota(&cluster, [("client-id", nil)], "producer_byte_rate", 1_000_000)
        try Self.setQuota(&cluster, [("user", "ANONYMOUS")], "producer_byte_rate", 1000)
        a = WireClient(&cluster, broker: leader, clientId: "a")
        b = WireClient(&cluster, broker: leader, clientId: "b")
        #expect(try a.call(request, version: 9, on: &cluster).throttleTimeMs == 0)
        let shared = try b.call(request, version: 9, on: &cluster)
        #expect(try Int(shared.throttleTimeMs) == Self.charged(request, clientId: "a") + Self.charged(request, clientId: "b") - 10_000)
    }

    @Test func anOldProducerIsHeldByTheBrokerAndAnAcksZeroProducerOnlyMuted() throws {
        var cluster = Self.cluster()
        let leader = cluster.partitionInfo(.init("t", 0))!.leader
        try Self.setQuota(&cluster, [("client-id", nil)], "producer_byte_rate", 1000)
        let request = produceRequest("t", 0, makeBatch(count: 12, valueSize: 1000))
        // Produce v5 predates KIP-219: its client would not hold back, so the broker holds
        // the answer for the throttle time (and reads nothing more from the connection).
        var old = WireClient(&cluster, broker: leader)
        let size = try Self.charged(request, version: 5)
        #expect(old.send(request, version: 5, to: &cluster).isEmpty)
        let until = Instant.zero.adding(milliseconds: Int64(size - 10_000))
        #expect(cluster.nextDeadline == until)
        #expect(old.sent(cluster.tick(now: .zero.adding(milliseconds: Int64(size - 10_000 - 1)))).isEmpty)
        let held = old.sent(cluster.tick(now: until))
        try #require(held.count == 1)
        #expect(Int(try old.decode(ProduceResponse.self, version: 5, held[0]).throttleTimeMs) == size - 10_000)
        #expect(cluster.throttledResponse(old.connection, correlationId: 1) == nil)

        // acks=0: no answer; the connection is muted all the same.
        var quiet = WireClient(&cluster, broker: leader)
        let t = until
        #expect(quiet.send(produceRequest("t", 0, makeBatch(count: 12, valueSize: 1000), acks: 0), version: 9, to: &cluster, now: t).isEmpty)
        #expect(quiet.sent(quiet.send(MetadataRequest(), version: 12, to: &cluster, now: t)).isEmpty)
        let unmute = try #require(cluster.nextDeadline)
        #expect(unmute > t)
        #expect(quiet.sent(cluster.tick(now: unmute)).count == 1)
    }

    @Test func aThrottledFetchAnswersEmptyAndItsBytesDoNotCount() throws {
        var cluster = Self.cluster()
        let leader = cluster.partitionInfo(.init("t", 0))!.leader
        var producer = WireClient(&cluster, broker: leader, clientId: "producer")
        for _ in 0 ..< 3 { _ = try producer.call(produceRequest("t", 0, makeBatch(count: 1, valueSize: 3000)), version: 9, on: &cluster) }
        try Self.setQuota(&cluster, [("client-id", "consumer")], "consumer_byte_rate", 500)
        var consumer = WireClient(&cluster, broker: leader, clientId: "consumer")
        // The quota bounds a fetch to what 10 windows allow (5000 bytes): one batch.
        let first = try consumer.call(fetchRequest("t", 0, offset: 0), version: 12, on: &cluster)
        let got = first.responses.first?.partitions.first?.records?.count ?? 0
        #expect(got > 3000 && got < 5000)
        #expect(first.throttleTimeMs == 0)
        // The second batch takes the rate over 500 B/s: an empty, throttled answer.
        let second = try consumer.call(fetchRequest("t", 0, offset: 1), version: 12, on: &cluster, now: .milliseconds(10))
        #expect(second.throttleTimeMs > 0)
        #expect(second.responses.isEmpty)
        // What it did not carry was not counted: the same fetch on another connection at
        // once is throttled for the same time, not longer.
        var again = WireClient(&cluster, broker: leader, clientId: "consumer")
        let third = try again.call(fetchRequest("t", 0, offset: 1), version: 12, on: &cluster, now: .milliseconds(10))
        #expect(third.throttleTimeMs == second.throttleTimeMs && third.responses.isEmpty)
        // Once the first batch has left the samples, the next one comes unthrottled.
        _ = cluster.tick(now: .milliseconds(12_000))
        let later = try again.call(fetchRequest("t", 0, offset: 1), version: 12, on: &cluster, now: .milliseconds(12_000))
        #expect(later.throttleTimeMs == 0)
        #expect((later.responses.first?.partitions.first?.records?.count ?? 0) > 3000)
    }
}
