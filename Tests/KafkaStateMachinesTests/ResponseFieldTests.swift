import Testing
@testable import KafkaStateMachines

/// The generated per-API facts (kafka-gen's FactsEmitter) against the codec, which is
/// generated from the same JSON by other code, and against known cases.
@Suite struct ResponseFieldTests {
    /// Whether `R` at `version` has a place for a value written through `set`: the codec
    /// refuses (or drops) a value for a field the version lacks.
    private static func encodes<R: KafkaResponse>(_: R.Type, version: Int16, _ set: (inout R) -> Bool) -> Bool {
        var r = R()
        guard let without = try? r.encoded(version: version), set(&r) else { return false }
        guard let with = try? r.encoded(version: version) else { return false }
        return with != without
    }

    private static func check<R: KafkaResponse>(_: R.Type, throttled: inout Int, withCode: inout Int) throws {
        for version in R.validVersions {
            let name = "\(R.messageName) v\(version)"
            // throttle_time_ms: carried exactly where the codec writes it, and read back.
            let carries = encodes(R.self, version: version) { $0.setThrottleMilliseconds(1234) }
            #expect(R.carriesThrottle(version: version) == carries, "\(name)")
            var r = R()
            if r.setThrottleMilliseconds(1234) {
                #expect(r.throttleMilliseconds == 1234, "\(name)")
                if carries {
                    let back = try R.decode(try r.encoded(version: version), version: version)
                    #expect(back.throttleMilliseconds == 1234, "\(name)")
                    throttled += 1
                }
            } else {
                #expect(r.throttleMilliseconds == nil, "\(name)")
                #expect(!carries, "\(name)")
            }
            // The top-level error code, the same way.
            let code = KafkaErrorCode(58)
            let carriesCode = encodes(R.self, version: version) { $0.setTopLevelErrorCode(code) }
            #expect(R.carriesTopLevelErrorCode(version: version) == carriesCode, "\(name)")
            var e = R()
            if e.setTopLevelErrorCode(code) {
                #expect(e.topLevelErrorCode == code, "\(name)")
                if carriesCode {
                    let back = try R.decode(try e.encoded(version: version), version: version)
                    #expect(back.topLevelErrorCode == code, "\(name)")
                    withCode += 1
                }
            } else {
                #expect(e.topLevelErrorCode == nil, "\(name)")
                #expect(!carriesCode, "\(name)")
            }
        }
    }

    @Test func everyResponseAtEveryVersion() throws {
        var throttled = 0, withCode = 0
        for key in ApiKey.all {
            let type = try #require(responseType(for: key))
            func open<R: KafkaResponse>(_ t: R.Type) throws { try Self.check(t, throttled: &throttled, withCode: &withCode) }
            try open(type)
        }
        // Most responses have both since KIP-219: the sweep really looked at them.
        #expect(throttled >= 250)
        #expect(withCode >= 180)
    }

    @Test func knownCases() {
        #expect(!FetchResponse.carriesThrottle(version: 0))
        #expect(FetchResponse.carriesThrottle(version: 1))
        #expect(!FetchResponse.carriesTopLevelErrorCode(version: 6))
        #expect(FetchResponse.carriesTopLevelErrorCode(version: 7))
        #expect(!MetadataResponse.carriesThrottle(version: 2))
        #expect(MetadataResponse.carriesThrottle(version: 3))
        #expect(MetadataResponse().topLevelErrorCode == nil)
        #expect(ProduceResponse().topLevelErrorCode == nil)
        #expect(!ListOffsetsResponse.carriesThrottle(version: 1))
        #expect(ListOffsetsResponse.carriesThrottle(version: 2))
        #expect(!FindCoordinatorResponse.carriesTopLevelErrorCode(version: 4))
        #expect(FindCoordinatorResponse.carriesTopLevelErrorCode(version: 3))
        #expect(!SaslHandshakeResponse.carriesThrottle(version: 1))
        #expect(SaslHandshakeResponse().throttleMilliseconds == nil)
        var handshake = SaslHandshakeResponse()
        let set = handshake.setThrottleMilliseconds(5)
        #expect(!set)
        #expect(JoinGroupResponse.carriesThrottle(version: 2) && !JoinGroupResponse.carriesThrottle(version: 1))

        var fetch = FetchResponse(); fetch.throttleTimeMs = 11; fetch.errorCode = 71
        var join = JoinGroupResponse(); join.throttleTimeMs = 21; join.errorCode = 79
        let responses: [any KafkaResponse] = [fetch, join]
        #expect(responses.map(\.throttleMilliseconds) == [11, 21])
        #expect(responses.map(\.topLevelErrorCode) == [KafkaErrorCode(71), KafkaErrorCode(79)])
    }

    /// The broker-side timeouts: the fields that bound how long the broker holds a request.
    @Test func brokerTimeouts() {
        var produce = ProduceRequest(); produce.timeoutMs = 1
        var fetch = FetchRequest(); fetch.maxWaitMs = 2
        var join = JoinGroupRequest(); join.rebalanceTimeoutMs = 3; join.sessionTimeoutMs = 99
        var create = CreateTopicsRequest(); create.timeoutMs = 4
        var delete = DeleteTopicsRequest(); delete.timeoutMs = 5
        var partitions = CreatePartitionsRequest(); partitions.timeoutMs = 6
        var records = DeleteRecordsRequest(); records.timeoutMs = 7
        var list = ListOffsetsRequest(); list.timeoutMs = 8
        var elect = ElectLeadersRequest(); elect.timeoutMs = 9
        let held: [any KafkaRequest] = [produce, fetch, join, create, delete, partitions, records, list, elect]
        #expect(held.map(\.brokerTimeoutMilliseconds) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(brokerSideTimeout(of: produce) == .milliseconds(1))

        // Settings the broker stores are not waits.
        var heartbeat = ConsumerGroupHeartbeatRequest(); heartbeat.rebalanceTimeoutMs = 10
        var initPid = InitProducerIdRequest(); initPid.transactionTimeoutMs = 11
        let prompt: [any KafkaRequest] = [heartbeat, initPid, MetadataRequest(), HeartbeatRequest(), SyncGroupRequest(),
                                          OffsetCommitRequest(), FindCoordinatorRequest()]
        #expect(prompt.allSatisfy { $0.brokerTimeoutMilliseconds == nil })
        #expect(brokerSideTimeout(of: heartbeat) == .zero)
    }
}
