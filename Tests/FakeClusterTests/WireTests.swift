@testable import FakeCluster
import KafkaCrypto
import Testing

@Suite struct WireTests {
    @Test func apiVersionsFollowTheEmulatedRelease() throws {
        var latest = threeBrokers()
        var c = WireClient(&latest, broker: 1)
        let r = try c.call(ApiVersionsRequest(), version: 3, on: &latest)
        let byKey = Dictionary(uniqueKeysWithValues: r.apiKeys.map { ($0.apiKey, $0.minVersion ... $0.maxVersion) })
        #expect(byKey[ApiKey.produce.rawValue] == 0 ... 11)
        #expect(byKey[ApiKey.fetch.rawValue] == 0 ... 17)
        #expect(byKey[ApiKey.initProducerId.rawValue] != nil)

        var old = threeBrokers { $0.release = KafkaRelease(0, 10, 2) }
        var o = WireClient(&old, broker: 1)
        let r2 = try o.call(ApiVersionsRequest(), version: 0, on: &old)
        let oldKeys = Dictionary(uniqueKeysWithValues: r2.apiKeys.map { ($0.apiKey, $0.minVersion ... $0.maxVersion) })
        #expect(oldKeys[ApiKey.produce.rawValue] == 0 ... 2)
        #expect(oldKeys[ApiKey.fetch.rawValue] == 0 ... 3)
        #expect(oldKeys[ApiKey.initProducerId.rawValue] == nil)
        // A version the release does not serve gets UNSUPPORTED_VERSION in that API's answer.
        let refused = try o.call(produceRequest("t", 0, makeBatch()), version: 3, on: &old)
        #expect(refused.responses.first?.partitionResponses.first?.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)

        // 0.9 has no ApiVersions: the connection is closed.
        var ancient = threeBrokers { $0.release = KafkaRelease(0, 9) }
        var a = WireClient(&ancient, broker: 1)
        #expect(a.closed(a.send(ApiVersionsRequest(), version: 0, to: &ancient)))
    }

    @Test func unknownApiVersionsVersionGetsV0AnswerWithUnsupportedVersion() throws {
        var cluster = threeBrokers()
        var c = WireClient(&cluster, broker: 1)
        var w = ByteWriter(capacity: 32)
        w.writeInt32(10); w.writeInt16(18); w.writeInt16(99); w.writeInt32(5); w.writeInt16(-1)
        let out = cluster.receive(c.connection, w.bytes, now: .zero)
        let r = try c.decode(ApiVersionsResponse.self, version: 0, try #require(c.sent(out).first))
        #expect(r.errorCode == KafkaErrorCode.unsupportedVersion.rawValue)
        #expect(!r.apiKeys.isEmpty)
        _ = c.nextCorrelation
    }

    @Test func heldFetchHoldsLaterResponsesOnItsConnectionUntilDataArrives() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1)] }
        let leader = cluster.partitionInfo(.init("t", 0))!.leader
        var consumer = WireClient(&cluster, broker: leader)
        var producer = WireClient(&cluster, broker: leader)
        // Fetch at the log end waits; a Metadata behind it on the same connection must wait too.
        #expect(consumer.send(fetchRequest("t", 0, offset: 0), version: 11, to: &cluster).isEmpty)
        #expect(consumer.send(MetadataRequest(), version: 9, to: &cluster, now: .milliseconds(10)).isEmpty)
        #expect(cluster.nextDeadline == .milliseconds(500))
        // A produce on another connection completes the fetch before its max wait.
        let out = producer.send(produceRequest("t", 0, makeBatch(count: 3)), version: 9, to: &cluster, now: .milliseconds(20))
        let got = consumer.sent(out)
        try #require(got.count == 2)
        let fetch = try consumer.decode(FetchResponse.self, version: 11, got[0])
        #expect(fetch.responses.first?.partitions.first?.highWatermark == 3)
        #expect(try consumer.decode(MetadataResponse.self, version: 9, got[1]).brokers.count == 3)
        #expect(producer.sent(out).count == 1)
    }

    @Test func heldFetchAnswersEmptyAtMaxWaitOnVirtualTime() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1)] }
        let leader = cluster.partitionInfo(.init("t", 0))!.leader
        var c = WireClient(&cluster, broker: leader)
        #expect(c.send(fetchRequest("t", 0, offset: 0, maxWaitMs: 300), version: 11, to: &cluster).isEmpty)
        #expect(cluster.tick(now: .milliseconds(299)).isEmpty)
        let out = cluster.tick(now: .milliseconds(300))
        let r = try c.decode(FetchResponse.self, version: 11, try #require(c.sent(out).first))
        #expect(r.responses.first?.partitions.first?.records == [])
    }

    @Test func produceToFollowerAnswersNotLeaderWithKIP951Hint() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1)] }
        let info = cluster.partitionInfo(.init("t", 0))!
        let follower = info.replicas.first { $0 != info.leader }!
        var c = WireClient(&cluster, broker: follower)
        let r = try c.call(produceRequest("t", 0, makeBatch()), version: 10, on: &cluster)
        let p = try #require(r.responses.first?.partitionResponses.first)
        #expect(p.errorCode == KafkaErrorCode.notLeaderOrFollower.rawValue)
        #expect(p.currentLeader.leaderId == info.leader && p.currentLeader.leaderEpoch == info.epoch)
        #expect(r.nodeEndpoints.map(\.nodeId) == [info.leader])
    }

    @Test func badFramesCloseOnlyTheirConnection() throws {
        var cluster = threeBrokers { $0.maxFrameSize = 1024 }
        var good = WireClient(&cluster, broker: 1)
        var big = WireClient(&cluster, broker: 1)
        var bad = WireClient(&cluster, broker: 1)
        #expect(big.closed(cluster.receive(big.connection, [0, 0, 8, 0], now: .zero)))
        #expect(bad.closed(cluster.receive(bad.connection, [0, 0, 0, 9, 0, 3, 0, 1, 0, 0, 0, 7, 0xFF], now: .zero)))
        #expect(cluster.closeLog.count == 2)
        #expect(cluster.closeLog[0].contains("bad frame") && cluster.closeLog[1].contains("malformed"))
        _ = try good.call(ApiVersionsRequest(), version: 3, on: &cluster)
        _ = big.nextCorrelation + bad.nextCorrelation
    }

    @Test func pushedErrorsDelaysAndDropsApplyToTheNextRequests() throws {
        var cluster = threeBrokers { $0.topics = [.init(name: "t", partitions: 1)] }
        let leader = cluster.partitionInfo(.init("t", 0))!.leader
        var c = WireClient(&cluster, broker: leader)
        cluster.pushError(.produce, .notEnoughReplicas, count: 1)
        let first = try c.call(produceRequest("t", 0, makeBatch()), version: 9, on: &cluster)
        #expect(first.responses[0].partitionResponses[0].errorCode == KafkaErrorCode.notEnoughReplicas.rawValue)
        let second = try c.call(produceRequest("t", 0, makeBatch()), version: 9, on: &cluster)
        #expect(second.responses[0].partitionResponses[0].errorCode == 0)

        cluster.delayResponses(.metadata, milliseconds: 200)
        #expect(c.send(MetadataRequest(), version: 9, to: &cluster, now: .milliseconds(1)).isEmpty)
        #expect(c.sent(cluster.tick(now: .milliseconds(201))).count == 1)

        cluster.dropConnection(on: .produce, afterHandling: true)
        #expect(c.closed(c.send(produceRequest("t", 0, makeBatch()), version: 9, to: &cluster)))
        // The errored produce appended nothing; the dropped one still took effect.
        #expect(cluster.offsets(.init("t", 0))!.highWatermark == 2)
    }

    @Test func partitionFaultsHitOnlyTheirPartitionAndParkedResponsesAreObserved() throws {
        var cluster = threeBrokers {
            $0.topics = [.init(name: "t", partitions: 2, replicationFactor: 1)]
            $0.recordEvents = true
        }
        try #require(cluster.createTopic("one", partitions: 2, assignments: [[1], [1]]) == .noError)
        var c = WireClient(&cluster, broker: 1)
        cluster.pushError(.produce, .notLeaderOrFollower, partition: .init("one", 1))
        var r = produceRequest("one", 0, makeBatch())
        var p1 = ProduceRequest.PartitionProduceData()
        p1.index = 1
        p1.records = makeBatch()
        r.topicData[0].partitionData.append(p1)
        let resp = try c.call(r, version: 9, on: &cluster)
        #expect(resp.responses[0].partitionResponses.map(\.errorCode) == [0, KafkaErrorCode.notLeaderOrFollower.rawValue])
        #expect(cluster.offsets(.init("one", 0))!.highWatermark == 1 && cluster.offsets(.init("one", 1))!.highWatermark == 0)
        // A fetch held for min bytes is observed when it completes.
        #expect(c.send(fetchRequest("one", 1, offset: 0, maxWaitMs: 100), version: 11, to: &cluster).isEmpty)
        _ = cluster.tick(now: .milliseconds(100))
        let fetches = cluster.events.filter { $0.apiKey == .fetch }
        #expect(fetches.count == 2)
        if case .response = fetches.last?.message {} else { Issue.record("no fetch response event") }
    }

    @Test func scramSha256ExchangeAcceptsTheRightPasswordOnly() throws {
        for (password, ok) in [("pencil", true), ("pen", false)] {
            var cluster = threeBrokers { $0.users = [.init(mechanism: .scramSha256, name: "user", password: "pencil")] }
            var c = WireClient(&cluster, broker: 1)
            // Before authentication nothing but ApiVersions and SASL is served.
            var probe = WireClient(&cluster, broker: 1)
            #expect(probe.closed(probe.send(MetadataRequest(), version: 9, to: &cluster)))
            var hs = SaslHandshakeRequest()
            hs.mechanism = "SCRAM-SHA-256"
            #expect(try c.call(hs, version: 1, on: &cluster).errorCode == 0)
            let clientFirstBare = "n=user,r=fyko+d2lbbFgONRv9qkxdawL"
            var a1 = SaslAuthenticateRequest()
            a1.authBytes = Array("n,,\(clientFirstBare)".utf8)
            let serverFirst = String(decoding: try c.call(a1, version: 2, on: &cluster).authBytes, as: UTF8.self)
            let attrs = FakeCluster.scramAttributes(serverFirst)
            let salt = try #require(Base64.decode(attrs["s"]!))
            let salted = Digest.sha256.pbkdf2(password: Array(password.utf8), salt: salt, iterations: Int(attrs["i"]!)!)
            let clientKey = Digest.sha256.hmac(key: salted, Array("Client Key".utf8))
            let withoutProof = "c=biws,r=\(attrs["r"]!)"
            let authMessage = Array("\(clientFirstBare),\(serverFirst),\(withoutProof)".utf8)
            let signature = Digest.sha256.hmac(key: Digest.sha256.hash(clientKey), authMessage)
            var a2 = SaslAuthenticateRequest()
            a2.authBytes = Array("\(withoutProof),p=\(Base64.encode(zip(clientKey, signature).map { $0 ^ $1 }))".utf8)
            let final = try c.call(a2, version: 2, on: &cluster)
            #expect((final.errorCode == 0) == ok)
            if ok {
                let serverKey = Digest.sha256.hmac(key: salted, Array("Server Key".utf8))
                #expect(String(decoding: final.authBytes, as: UTF8.self) == "v=\(Base64.encode(Digest.sha256.hmac(key: serverKey, authMessage)))")
                #expect(try c.call(MetadataRequest(), version: 9, on: &cluster).brokers.count == 3)
            } else {
                #expect(final.errorCode == KafkaErrorCode.saslAuthenticationFailed.rawValue)
            }
        }
    }

    @Test func saslSessionExpiresAfterItsLifetime() throws {
        var cluster = threeBrokers {
            $0.users = [.init(mechanism: .plain, name: "u", password: "p")]
            $0.saslSessionLifetimeMs = 1_000
        }
        var c = WireClient(&cluster, broker: 1)
        var hs = SaslHandshakeRequest()
        hs.mechanism = "PLAIN"
        _ = try c.call(hs, version: 1, on: &cluster)
        var a = SaslAuthenticateRequest()
        a.authBytes = Array("\0u\0p".utf8)
        #expect(try c.call(a, version: 1, on: &cluster).sessionLifetimeMs == 1_000)
        _ = try c.call(MetadataRequest(), version: 9, on: &cluster, now: .milliseconds(999))
        #expect(c.closed(c.send(MetadataRequest(), version: 9, to: &cluster, now: .milliseconds(1_000))))
    }

    @Test func sameSeedAndInputsGiveTheSameBytes() {
        func run() -> [FakeOutput] {
            var cluster = threeBrokers(seed: 42) { $0.topics = [.init(name: "t", partitions: 3)] }
            var out: [FakeOutput] = []
            var c = WireClient(&cluster, broker: 1)
            out += c.send(MetadataRequest(), version: 12, to: &cluster)
            var j = JoinGroupRequest()
            j.groupId = "g"
            j.sessionTimeoutMs = 10_000
            j.rebalanceTimeoutMs = 10_000
            j.protocolType = "consumer"
            var proto = JoinGroupRequest.JoinGroupRequestProtocol()
            proto.name = "range"
            j.protocols = [proto]
            let coord = cluster.coordinator("g", .group)!
            var g = WireClient(&cluster, broker: coord)
            out += g.send(j, version: 9, to: &cluster, now: .milliseconds(5))
            var ip = InitProducerIdRequest()
            ip.transactionTimeoutMs = 1000
            out += c.send(ip, version: 4, to: &cluster, now: .milliseconds(6))
            out += cluster.tick(now: .milliseconds(20_000))
            return out
        }
        #expect(run() == run())
    }
}

private func hex(_ b: [UInt8]) -> String {
    let d = Array("0123456789abcdef".utf8)
    return String(decoding: b.flatMap { [d[Int($0 >> 4)], d[Int($0 & 15)]] }, as: UTF8.self)
}
