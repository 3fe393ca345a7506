import Testing
@testable import KafkaStateMachines

@Suite struct ConnectionTests {
    @Test func handshakeThenRequestAtHighestCommonVersion() throws {
        var h = Harness(Harness.config())
        let a1 = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        #expect(a1.map(\.description) == ["open(conn1, seed0, seed0:9092)"])
        let hello = decodeWrites(h.opened(1))
        #expect(hello.count == 1)
        #expect(hello[0].apiKey == .apiVersions && hello[0].version == 4 && hello[0].correlationId == 0)
        #expect((hello[0].body as? ApiVersionsRequest)?.clientSoftwareName == "kgo-swift")

        var versions = fullApiVersions()
        versions.apiKeys = versions.apiKeys.map { var v = $0; if v.apiKey == ApiKey.metadata.rawValue { v.maxVersion = 7 }; return v }
        let sent = decodeWrites(h.receive(1, respond(hello[0], versions)))
        #expect(sent.count == 1 && sent[0].apiKey == .metadata && sent[0].version == 7 && sent[0].correlationId == 1)

        let done = h.receive(1, respond(sent[0], metadataResponse(brokers: [1])))
        #expect(success(done, 1, as: MetadataResponse.self)?.brokers.first?.nodeId == 1)
    }

    /// KIP-511: a broker that does not know ApiVersions v4 answers in v0 with
    /// UNSUPPORTED_VERSION and its own range; we retry within it on the same connection.
    @Test func apiVersionsUnsupportedVersionRetriesWithinBrokerRange() throws {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let hello = decodeWrites(h.opened(1))[0]
        var refusal = ApiVersionsResponse()
        refusal.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
        var own = ApiVersionsResponse.ApiVersion()
        own.apiKey = ApiKey.apiVersions.rawValue
        own.maxVersion = 2
        refusal.apiKeys = [own]
        let v0Frame = try encodeResponseFrame(refusal, version: 0, correlationId: hello.correlationId)
        let retry = decodeWrites(h.receive(1, v0Frame))
        #expect(retry.count == 1 && retry[0].apiKey == .apiVersions && retry[0].version == 2)
        let sent = decodeWrites(h.receive(1, respond(retry[0], fullApiVersions())))
        #expect(sent.map(\.apiKey) == [.metadata])
    }

    @Test func apiVersionsUnsupportedWithoutRangeRetriesAtV0() throws {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let hello = decodeWrites(h.opened(1))[0]
        var refusal = ApiVersionsResponse()
        refusal.errorCode = KafkaErrorCode.unsupportedVersion.rawValue
        let retry = decodeWrites(h.receive(1, try encodeResponseFrame(refusal, version: 0, correlationId: hello.correlationId)))
        #expect(retry.count == 1 && retry[0].version == 0)
    }

    @Test func pinnedReleaseSkipsApiVersions() {
        var config = Harness.config()
        config.pinnedBrokerRelease = KafkaRelease.named("0.9.0")
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let first = decodeWrites(h.opened(1))
        #expect(first.count == 1 && first[0].apiKey == .metadata && first[0].version == 0 && first[0].correlationId == 0)
    }

    @Test func versionPinsNarrowTheChoice() {
        var config = Harness.config()
        config.versionPins[.metadata] = 0 ... 9
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        _ = h.request(MetadataRequest(), to: .anyBroker, pin: 2 ... 4, promise: 2)
        _ = h.request(MetadataRequest(), to: .anyBroker, pin: 20 ... 30, promise: 3)
        let after = h.handshake(1)
        #expect(decodeWrites(after).map(\.version) == [9, 4])
        #expect(failure(after, 3) == .unsupportedVersion(apiKey: .metadata, brokerRange: 0 ... 12))
    }

    @Test func negotiationPicksTheHighestVersionAllAccept() {
        #expect(negotiateVersion(ours: 0 ... 12, broker: 0 ... 9, pin: nil) == 9)
        #expect(negotiateVersion(ours: 0 ... 5, broker: 0 ... 9, pin: nil) == 5)
        #expect(negotiateVersion(ours: 0 ... 12, broker: 0 ... 9, pin: 0 ... 3) == 3)
        #expect(negotiateVersion(ours: 0 ... 12, broker: 4 ... 9, pin: 0 ... 3) == nil)
        #expect(negotiateVersion(ours: 0 ... 12, broker: nil, pin: nil) == nil)
    }

    @Test func releaseGuessFromApiVersions() {
        #expect(KafkaRelease.all.first?.name == "0.8.0")
        #expect(KafkaRelease.guess(from: KafkaRelease.named("2.1")!.brokerVersions)?.name == "2.1")
        #expect(KafkaRelease.guess(from: KafkaRelease.named("0.10.2")!.brokerVersions)?.name == "0.10.2")
        #expect(KafkaRelease.all.map(\.name).suffix(3) == ["3.9", "4.0", "4.1"])
        // A KRaft broker hides the inter-broker keys 4-7 from clients.
        let kraft = KafkaRelease.named("2.8")!.brokerVersions.ranges.filter { !(4 ... 7).contains($0.key.rawValue) }
        #expect(KafkaRelease.guess(from: BrokerVersions(kraft))?.name == "2.8")
        #expect(KafkaRelease.named("2.8")!.brokerVersions.range(for: .fetch) == 0 ... 12)
        #expect(KafkaRelease.named("0.11.0")!.brokerVersions.range(for: .offsetFetch) == 0 ... 3)
        // Our codec is at Kafka 3.9's level (Produce v11): a broker announcing all of it is 3.9.
        #expect(KafkaRelease.guess(from: BrokerVersions(fullApiVersions()))?.name == "3.9")
        // 0.11 added many keys; a broker missing one of them is at most 0.10.2.
        let v = KafkaRelease.named("0.11.0")!.brokerVersions.ranges.filter { $0.key != .deleteRecords }
        #expect(KafkaRelease.guess(from: BrokerVersions(v))?.name == "0.10.2")
    }

    @Test func engineGuessesReleaseOfAConnectedBroker() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        var v = ApiVersionsResponse()
        v.apiKeys = KafkaRelease.named("1.1")!.brokerVersions.ranges.map { e in
            var x = ApiVersionsResponse.ApiVersion()
            x.apiKey = e.key.rawValue
            x.maxVersion = e.range.upperBound
            return x
        }
        _ = h.handshake(1, versions: v)
        #expect(h.engine.guessRelease(of: .seed(0))?.name == "1.1")
    }

    @Test func pipelinedResponsesMatchByCorrelationId() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 2)
        let sent = decodeWrites(h.handshake(1))
        #expect(sent.map(\.correlationId) == [1, 2])
        let first = h.receive(1, respond(sent[0], metadataResponse(brokers: [7])))
        #expect(completions(first).map(\.0) == [PromiseID(1)])
        let second = h.receive(1, respond(sent[1], metadataResponse(brokers: [8])))
        #expect(success(second, 2, as: MetadataResponse.self)?.brokers.first?.nodeId == 8)
    }

    @Test func responsesSplitAcrossReadsAndJoinedInOne() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 2)
        let sent = decodeWrites(h.handshake(1))
        let both = respond(sent[0], metadataResponse(brokers: [1])) + respond(sent[1], metadataResponse(brokers: [2]))
        #expect(completions(h.receive(1, Array(both[0 ..< 3]))).isEmpty)
        #expect(completions(h.receive(1, Array(both[3...]))).map(\.0) == [PromiseID(1), PromiseID(2)])
    }

    @Test func outOfOrderCorrelationIdIsAProtocolViolation() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 2)
        let sent = decodeWrites(h.handshake(1))
        let after = h.receive(1, respond(sent[1], metadataResponse(brokers: [1])))
        #expect(closes(after) == [ConnectionID(1)])
        let violation = KafkaClientError.protocolViolation("response correlation id 2, expected 1")
        #expect(failure(after, 1) == violation)
        #expect(failure(after, 2) == violation)
    }

    @Test func requestTimeoutClosesTheConnectionAndFailsTyped() {
        var config = Harness.config()
        config.requestTimeoutOverhead = .milliseconds(1000)
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, maxRetries: 0, promise: 1)
        _ = h.handshake(1)
        #expect(h.engine.nextDeadline() == .milliseconds(1000))
        #expect(h.advance(to: 999).isEmpty)
        let after = h.advance(to: 1000)
        #expect(closes(after) == [ConnectionID(1)])
        #expect(failure(after, 1) == .requestTimeout(apiKey: .metadata, broker: .seed(0)))
    }

    @Test func brokerSideTimeoutExtendsTheDeadline() {
        var config = Harness.config()
        config.requestTimeoutOverhead = .milliseconds(1000)
        var h = Harness(config)
        var fetch = FetchRequest()
        fetch.maxWaitMs = 5000
        _ = h.request(fetch, to: .anyBroker, maxRetries: 0, promise: 1)
        _ = h.handshake(1)
        #expect(h.engine.nextDeadline() == .milliseconds(6000))
    }

    @Test func throttleDelaysTheNextSend() {
        var h = Harness(Harness.config())
        _ = h.request(ListGroupsRequest(), to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        var throttled = ListGroupsResponse()
        throttled.throttleTimeMs = 500
        h.now = .milliseconds(100)
        #expect(success(h.receive(1, respond(sent[0], throttled)), 1, as: ListGroupsResponse.self) != nil)
        #expect(decodeWrites(h.request(ListGroupsRequest(), to: .anyBroker, promise: 2)).isEmpty)
        #expect(h.engine.nextDeadline() == .milliseconds(600))
        #expect(decodeWrites(h.advance(to: 599)).isEmpty)
        #expect(decodeWrites(h.advance(to: 600)).map(\.apiKey) == [.listGroups])
    }

    /// KIP-219: before ListGroups v2 the broker delays an answer over its quota itself, so
    /// the throttle time it reports is not waited out a second time (it is still observed).
    @Test func aThrottleAnOldVersionAlreadyServedIsNotWaitedAgain() {
        var config = Harness.config()
        config.versionPins[.listGroups] = 0 ... 1
        config.observe = true
        var h = Harness(config)
        _ = h.request(ListGroupsRequest(), to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        #expect(sent.first?.version == 1)
        var throttled = ListGroupsResponse()
        throttled.throttleTimeMs = 500
        h.now = .milliseconds(100)
        let answered = h.receive(1, respond(sent[0], throttled))
        #expect(success(answered, 1, as: ListGroupsResponse.self) != nil)
        #expect(h.engine.takeObservations().contains { o in
            if case .throttled(_, let d) = o { return d == .milliseconds(500) } else { return false }
        })
        #expect(decodeWrites(h.request(ListGroupsRequest(), to: .anyBroker, promise: 2)).map(\.apiKey) == [.listGroups])
        #expect(ApiKey.produce.clientThrottlesFrom == 6 && ApiKey.fetch.clientThrottlesFrom == 8 && ApiKey.listGroups.clientThrottlesFrom == 2)
    }

    @Test func garbageResponseIsTypedAndClosesTheConnection() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        // The right correlation id, then bytes that are no Metadata response.
        let frame: [UInt8] = [0, 0, 0, 7, 0, 0, 0, UInt8(sent[0].correlationId), 0xde, 0xad, 0xbe]
        let after = h.receive(1, frame)
        #expect(closes(after) == [ConnectionID(1)])
        guard case .malformedResponse = failure(after, 1) else {
            Issue.record("expected a malformed response error, got \(after)")
            return
        }
    }

    @Test func httpServerInsteadOfKafkaIsRejectedBySize() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        _ = h.opened(1)
        let after = h.receive(1, Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8))
        #expect(closes(after) == [ConnectionID(1)])
        #expect(failure(after, 1) == .responseTooLarge(size: 0x4854_5450, max: 100 * 1024 * 1024))
    }

    @Test func responseOverTheConfiguredMaximum() {
        var config = Harness.config()
        config.maxResponseBytes = 1024
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        _ = h.handshake(1)
        let after = h.receive(1, [0, 0, 0x07, 0xd0, 0, 0, 0, 1])
        #expect(failure(after, 1) == .responseTooLarge(size: 2000, max: 1024))
        #expect(closes(after) == [ConnectionID(1)])
    }

    @Test func connectTimeout() {
        var config = Harness.config()
        config.connectTimeout = .milliseconds(1000)
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, maxRetries: 0, promise: 1)
        #expect(h.engine.nextDeadline() == .milliseconds(1000))
        let after = h.advance(to: 1000)
        #expect(closes(after) == [ConnectionID(1)])
        #expect(failure(after, 1) == .connectTimeout(broker: .seed(0)))
    }

    @Test func idleConnectionsAreReaped() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        h.now = .milliseconds(50)
        _ = h.receive(1, respond(sent[0], metadataResponse(brokers: [1])))
        #expect(h.engine.nextDeadline() == .milliseconds(20_050))
        #expect(h.advance(to: 20_049).isEmpty)
        #expect(closes(h.advance(to: 20_050)) == [ConnectionID(1)])
        // A later request dials again.
        #expect(opens(h.request(MetadataRequest(), to: .anyBroker, promise: 2)).map(\.0) == [ConnectionID(2)])
    }

    @Test func closeFailsEverythingAndClosesConnections() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        _ = h.handshake(1)
        h.engine.close(now: h.now)
        let after = h.drain()
        #expect(failure(after, 1) == .clientClosed)
        #expect(closes(after) == [ConnectionID(1)])
        #expect(failure(h.request(MetadataRequest(), promise: 2), 2) == .clientClosed)
    }
}

@Suite struct ConnectionLifetimeTests {
    @Test func aConnectionWithARequestOutstandingIsNotReaped() {
        var config = Harness.config()
        config.connectionIdleTimeout = .milliseconds(1000)
        config.requestTimeoutOverhead = .milliseconds(1000)
        var h = Harness(config)
        var fetch = FetchRequest()
        fetch.maxWaitMs = 5000
        _ = h.request(fetch, to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        #expect(closes(h.advance(to: 3000)).isEmpty)
        _ = h.receive(1, respond(sent[0], FetchResponse()))
        #expect(h.engine.nextDeadline() == .milliseconds(4000))
        #expect(closes(h.advance(to: 4000)) == [ConnectionID(1)])
    }

    /// KIP-219 quotas are the broker's: a throttle seen on one connection holds back the
    /// other connections to the same broker too.
    @Test func throttleAppliesToEveryConnectionOfTheBroker() {
        var h = Harness(Harness.config())
        _ = h.request(ListGroupsRequest(), to: .anyBroker, promise: 1)
        let general = decodeWrites(h.handshake(1))
        _ = h.request(FetchRequest(), to: .anyBroker, promise: 2)
        let fetch = decodeWrites(h.handshake(2))
        #expect(fetch.map(\.connection) == [ConnectionID(2)])
        var throttled = ListGroupsResponse()
        throttled.throttleTimeMs = 300
        _ = h.receive(1, respond(general[0], throttled))
        _ = h.receive(2, respond(fetch[0], FetchResponse()))
        #expect(decodeWrites(h.request(FetchRequest(), to: .anyBroker, promise: 3)).isEmpty)
        #expect(decodeWrites(h.advance(to: 300)).map { "\($0.apiKey)@\($0.connection)" } == ["Fetch@conn2"])
    }

    /// A connection opened while its broker throttles us starts throttled: its handshake
    /// goes out (it makes the connection usable), its requests wait for the throttle.
    @Test func connectionOpenedDuringAThrottleWaitsItOut() {
        var h = Harness(Harness.config())
        _ = h.request(ListGroupsRequest(), to: .anyBroker, promise: 1)
        let general = decodeWrites(h.handshake(1))
        var throttled = ListGroupsResponse()
        throttled.throttleTimeMs = 300
        _ = h.receive(1, respond(general[0], throttled))
        h.now = .milliseconds(100)
        #expect(opens(h.request(FetchRequest(), to: .anyBroker, promise: 2)).map(\.0) == [ConnectionID(2)])
        #expect(decodeWrites(h.handshake(2)).isEmpty)
        #expect(decodeWrites(h.advance(to: 299)).isEmpty)
        #expect(decodeWrites(h.advance(to: 300)).map { "\($0.apiKey)@\($0.connection)" } == ["Fetch@conn2"])
    }
}

@Suite struct OldBrokerTests {
    /// A 0.9 broker closes the connection on ApiVersions; with a fallback release configured
    /// the retry skips ApiVersions and speaks that release's versions.
    @Test func brokerThatClosesOnApiVersionsGetsTheFallbackRelease() {
        var config = Harness.config()
        config.apiVersionsFallbackRelease = KafkaRelease.named("0.9.0")
        var h = Harness(config)
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        #expect(decodeWrites(h.opened(1)).map(\.apiKey) == [.apiVersions])
        h.engine.connectionClosed(ConnectionID(1), now: h.now)
        #expect(h.drain().isEmpty)
        let redial = opens(h.advance(to: h.engine.nextDeadline()!.nanoseconds / 1_000_000 + 1))
        #expect(redial.map(\.0) == [ConnectionID(2)])
        let first = decodeWrites(h.opened(2))
        #expect(first.count == 1 && first[0].apiKey == .metadata && first[0].version == 0)
    }

    @Test func withoutAFallbackTheCloseIsARetriedConnectionError() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, maxRetries: 0, promise: 1)
        _ = h.opened(1)
        h.engine.connectionClosed(ConnectionID(1), now: h.now)
        // Retriable, and the message says what such a close usually means.
        let e = failure(h.drain(), 1)
        #expect(e == .connectionFailed(broker: .seed(0), reason: .closed(ConnectionStateMachine.closedOnApiVersions)))
        #expect(e?.isRetriable == true && "\(e!)".contains("as brokers before Kafka 0.10 do"))
    }
}

@Suite struct DeadlineProgressTests {
    /// A connection at its in-flight limit when a (sibling's) throttle passes: the past
    /// throttle must not come back as a deadline, or the driver would spin.
    @Test func pastThrottleIsNoDeadline() {
        var config = Harness.config()
        config.maxInFlightPerConnection = 1
        config.requestTimeoutOverhead = .seconds(100)
        var h = Harness(config)
        _ = h.request(ListGroupsRequest(), to: .anyBroker, promise: 1)
        let general = decodeWrites(h.handshake(1))
        _ = h.request(FetchRequest(), to: .anyBroker, promise: 2)
        _ = h.handshake(2)
        _ = h.request(FetchRequest(), to: .anyBroker, promise: 3)
        var throttled = ListGroupsResponse()
        throttled.throttleTimeMs = 50
        _ = h.receive(1, respond(general[0], throttled))
        // The second fetch still waits for the first (in-flight limit); advance() checks
        // that the next deadline lies after now.
        #expect(decodeWrites(h.advance(to: 50)).isEmpty)
        // Next: the idle general connection's reaping, not the spent throttle.
        #expect(h.engine.nextDeadline() == .milliseconds(20_000))
    }

    @Test func closedEngineHasNoDeadline() {
        var h = Harness(Harness.config())
        _ = h.request(MetadataRequest(), to: .anyBroker, promise: 1)
        let sent = decodeWrites(h.handshake(1))
        _ = h.receive(1, respond(sent[0], metadataResponse(brokers: [1])))
        h.engine.close(now: h.now)
        #expect(h.engine.nextDeadline() == nil)
    }
}
