import Testing
@testable import KafkaStateMachines

/// The direct reads of throttle_time_ms and the top-level error code agree with the
/// reflective read they short-cut, for every response type they name (and one they don't).
@Suite struct ResponseFieldTests {
    static func samples() -> [any KafkaResponse] {
        var fetch = FetchResponse(); fetch.throttleTimeMs = 11; fetch.errorCode = 71
        var produce = ProduceResponse(); produce.throttleTimeMs = 12
        var metadata = MetadataResponse(); metadata.throttleTimeMs = 13
        var list = ListOffsetsResponse(); list.throttleTimeMs = 14
        var commit = OffsetCommitResponse(); commit.throttleTimeMs = 15
        var fetchOffsets = OffsetFetchResponse(); fetchOffsets.throttleTimeMs = 16; fetchOffsets.errorCode = 16
        var versions = ApiVersionsResponse(); versions.throttleTimeMs = 17; versions.errorCode = 35
        var find = FindCoordinatorResponse(); find.throttleTimeMs = 18; find.errorCode = 15
        var initPid = InitProducerIdResponse(); initPid.throttleTimeMs = 19; initPid.errorCode = 51
        var epochs = OffsetForLeaderEpochResponse(); epochs.throttleTimeMs = 20
        var handshake = SaslHandshakeResponse(); handshake.errorCode = 33
        var auth = SaslAuthenticateResponse(); auth.errorCode = 58
        var join = JoinGroupResponse(); join.throttleTimeMs = 21; join.errorCode = 79   // the reflective path
        return [fetch, produce, metadata, list, commit, fetchOffsets, versions, find, initPid, epochs, handshake, auth, join,
                FetchResponse(), MetadataResponse(), OffsetFetchResponse()]
    }

    @Test func directReadsMatchReflection() {
        for r in Self.samples() {
            let name = type(of: r).messageName
            #expect(throttleMilliseconds(of: r) == reflectedThrottleMilliseconds(of: r), "\(name)")
            #expect(topLevelErrorCode(of: r) == reflectedTopLevelErrorCode(of: r), "\(name)")
        }
        #expect(throttleMilliseconds(of: Self.samples()[2]) == 13)
        #expect(topLevelErrorCode(of: Self.samples()[7]) == KafkaErrorCode(15))
    }
}
