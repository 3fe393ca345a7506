import Testing
import KafkaProtocol

/// Expected bytes written by hand from the Kafka protocol guide (field order and types of
/// each version, STRING = INT16 length, COMPACT_* = UNSIGNED_VARINT length+1, tagged-field
/// sections = count then tag/size/body), not captured from this encoder. Each case both
/// encodes to the bytes and decodes them back.
@Suite struct GoldenBytesTests {
    private func check<M: KafkaMessage>(_ value: M, version: Int16, _ expected: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try value.encoded(version: version) == expected, sourceLocation: sourceLocation)
        #expect(try M.decode(expected, version: version) == value, sourceLocation: sourceLocation)
    }

    @Test func apiVersionsRequestV0Frame() throws {
        // Header v1: api_key 18, api_version 0, correlation_id 1, client_id STRING "ab";
        // the v0 body is empty.
        let frame = try encodeRequestFrame(ApiVersionsRequest(), version: 0, correlationId: 1, clientId: "ab")
        #expect(frame == [
            0x00, 0x00, 0x00, 0x0C,  // size 12
            0x00, 0x12, 0x00, 0x00,  // key 18, version 0
            0x00, 0x00, 0x00, 0x01,  // correlation id
            0x00, 0x02, 0x61, 0x62,  // client id "ab"
        ])
    }

    @Test func apiVersionsRequestV3FrameUsesHeaderV2() throws {
        var req = ApiVersionsRequest()
        req.clientSoftwareName = "kgo"
        req.clientSoftwareVersion = "1.0"
        let frame = try encodeRequestFrame(req, version: 3, correlationId: 7, clientId: "ab")
        #expect(frame == [
            0x00, 0x00, 0x00, 0x16,  // size 22
            0x00, 0x12, 0x00, 0x03,  // key 18, version 3
            0x00, 0x00, 0x00, 0x07,  // correlation id
            0x00, 0x02, 0x61, 0x62,  // client id stays a non-compact STRING in header v2
            0x00,                    // header tagged fields: none
            0x04, 0x6B, 0x67, 0x6F,  // COMPACT_STRING "kgo"
            0x04, 0x31, 0x2E, 0x30,  // COMPACT_STRING "1.0"
            0x00,                    // body tagged fields: none
        ])
        let parsed = try parseRequestHeader(Array(frame.dropFirst(4)))
        #expect(parsed.apiKey == .apiVersions)
        #expect(parsed.apiVersion == 3)
        #expect(parsed.correlationId == 7)
        #expect(parsed.clientId == "ab")
        #expect(parsed.headerVersion == 2)
        #expect(try parsed.decodeBody() as? ApiVersionsRequest == req)
    }

    @Test func metadataRequestV1() throws {
        var req = MetadataRequest()
        var t = MetadataRequest.MetadataRequestTopic()
        t.name = "foo"
        req.topics = [t]
        // ARRAY (INT32 count) of { name STRING }.
        try check(req, version: 1, [0x00, 0x00, 0x00, 0x01, 0x00, 0x03, 0x66, 0x6F, 0x6F])
        // A null array (all topics) is INT32 -1 from v1 on.
        var all = MetadataRequest()
        all.topics = nil
        try check(all, version: 1, [0xFF, 0xFF, 0xFF, 0xFF])
    }

    @Test func metadataRequestV12() throws {
        var req = MetadataRequest()
        var t = MetadataRequest.MetadataRequestTopic()
        t.name = "foo"
        req.topics = [t]
        req.allowAutoTopicCreation = true
        req.includeTopicAuthorizedOperations = true
        var expected: [UInt8] = [0x02]                       // COMPACT_ARRAY of 1
        expected += [UInt8](repeating: 0, count: 16)          // topic_id UUID (zero)
        expected += [0x04, 0x66, 0x6F, 0x6F]                   // name COMPACT_NULLABLE_STRING "foo"
        expected += [0x00]                                     // topic tagged fields
        expected += [0x01]                                     // allow_auto_topic_creation
        expected += [0x01]                                     // include_topic_authorized_operations
        expected += [0x00]                                     // tagged fields
        try check(req, version: 12, expected)
    }

    private func produceRequest() -> ProduceRequest {
        var p = ProduceRequest.PartitionProduceData()
        p.index = 0
        p.records = [0x01, 0x02, 0x03]
        var t = ProduceRequest.TopicProduceData()
        t.name = "t"
        t.partitionData = [p]
        var req = ProduceRequest()
        req.acks = -1
        req.timeoutMs = 1000
        req.topicData = [t]
        return req
    }

    @Test func produceRequestV3() throws {
        try check(produceRequest(), version: 3, [
            0xFF, 0xFF,              // transactional_id NULLABLE_STRING null
            0xFF, 0xFF,              // acks -1
            0x00, 0x00, 0x03, 0xE8,  // timeout_ms 1000
            0x00, 0x00, 0x00, 0x01,  // topic_data ARRAY of 1
            0x00, 0x01, 0x74,        //   name "t"
            0x00, 0x00, 0x00, 0x01,  //   partition_data ARRAY of 1
            0x00, 0x00, 0x00, 0x00,  //     index 0
            0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03,  // records BYTES
        ])
    }

    @Test func produceRequestV9() throws {
        var req = produceRequest()
        req.transactionalId = "x"
        try check(req, version: 9, [
            0x02, 0x78,              // transactional_id COMPACT_NULLABLE_STRING "x"
            0xFF, 0xFF,              // acks -1
            0x00, 0x00, 0x03, 0xE8,  // timeout_ms 1000
            0x02,                    // topic_data COMPACT_ARRAY of 1
            0x02, 0x74,              //   name COMPACT_STRING "t"
            0x02,                    //   partition_data COMPACT_ARRAY of 1
            0x00, 0x00, 0x00, 0x00,  //     index 0
            0x04, 0x01, 0x02, 0x03,  //     records COMPACT_RECORDS
            0x00,                    //     partition tagged fields
            0x00,                    //   topic tagged fields
            0x00,                    // tagged fields
        ])
    }

    private func fetchPartition() -> FetchResponse.PartitionData {
        var p = FetchResponse.PartitionData()
        p.partitionIndex = 2
        p.errorCode = 0
        p.highWatermark = 100
        p.lastStableOffset = 90
        p.records = [0xAA, 0xBB]
        return p
    }

    @Test func fetchResponseV4() throws {
        var p = fetchPartition()
        var aborted = FetchResponse.AbortedTransaction()
        aborted.producerId = 7
        aborted.firstOffset = 80
        p.abortedTransactions = [aborted]
        var topic = FetchResponse.FetchableTopicResponse()
        topic.topic = "t"
        topic.partitions = [p]
        var resp = FetchResponse()
        resp.responses = [topic]
        try check(resp, version: 4, [
            0x00, 0x00, 0x00, 0x00,  // throttle_time_ms
            0x00, 0x00, 0x00, 0x01,  // responses ARRAY of 1
            0x00, 0x01, 0x74,        //   topic "t"
            0x00, 0x00, 0x00, 0x01,  //   partitions ARRAY of 1
            0x00, 0x00, 0x00, 0x02,  //     partition_index
            0x00, 0x00,              //     error_code
            0, 0, 0, 0, 0, 0, 0, 100,  //   high_watermark
            0, 0, 0, 0, 0, 0, 0, 90,   //   last_stable_offset
            0x00, 0x00, 0x00, 0x01,    //   aborted_transactions ARRAY of 1
            0, 0, 0, 0, 0, 0, 0, 7,    //     producer_id
            0, 0, 0, 0, 0, 0, 0, 80,   //     first_offset
            0x00, 0x00, 0x00, 0x02, 0xAA, 0xBB,  // records
        ])
    }

    @Test func fetchResponseV12WithATaggedStructAndItsFrame() throws {
        var p = fetchPartition()
        p.logStartOffset = 10
        p.abortedTransactions = nil
        p.currentLeader.leaderId = 5
        p.currentLeader.leaderEpoch = 9
        var topic = FetchResponse.FetchableTopicResponse()
        topic.topic = "t"
        topic.partitions = [p]
        var resp = FetchResponse()
        resp.sessionId = 42
        resp.responses = [topic]
        let body: [UInt8] = [
            0x00, 0x00, 0x00, 0x00,  // throttle_time_ms
            0x00, 0x00,              // error_code
            0x00, 0x00, 0x00, 0x2A,  // session_id 42
            0x02,                    // responses COMPACT_ARRAY of 1
            0x02, 0x74,              //   topic "t"
            0x02,                    //   partitions COMPACT_ARRAY of 1
            0x00, 0x00, 0x00, 0x02,  //     partition_index
            0x00, 0x00,              //     error_code
            0, 0, 0, 0, 0, 0, 0, 100,  //   high_watermark
            0, 0, 0, 0, 0, 0, 0, 90,   //   last_stable_offset
            0, 0, 0, 0, 0, 0, 0, 10,   //   log_start_offset
            0x00,                      //   aborted_transactions null
            0xFF, 0xFF, 0xFF, 0xFF,    //   preferred_read_replica -1
            0x03, 0xAA, 0xBB,          //   records COMPACT_RECORDS
            0x01,                      //   one tagged field:
            0x01, 0x09,                //     tag 1 (current_leader), 9 bytes
            0x00, 0x00, 0x00, 0x05,    //       leader_id
            0x00, 0x00, 0x00, 0x09,    //       leader_epoch
            0x00,                      //       its tagged fields
            0x00,                      //   topic tagged fields
            0x00,                      // tagged fields
        ]
        try check(resp, version: 12, body)
        // Response header v1 (flexible): correlation id, then its tagged fields.
        let frame = try encodeResponseFrame(resp, version: 12, correlationId: 3)
        #expect(frame == [0x00, 0x00, 0x00, UInt8(5 + body.count), 0x00, 0x00, 0x00, 0x03, 0x00] + body)
        let parsed = try parseResponse(for: FetchResponse.self, version: 12, frame: Array(frame.dropFirst(4)))
        #expect(parsed.correlationId == 3)
        #expect(parsed.response == resp)
    }

    @Test func apiVersionsResponseAlwaysUsesResponseHeaderV0() throws {
        var resp = ApiVersionsResponse()
        resp.errorCode = 35
        let frame = try encodeResponseFrame(resp, version: 3, correlationId: 1)
        #expect(frame == [
            0x00, 0x00, 0x00, 0x0C,  // size 12
            0x00, 0x00, 0x00, 0x01,  // correlation id; no header tagged fields (KIP-511)
            0x00, 0x23,              // error_code 35 (UNSUPPORTED_VERSION)
            0x01,                    // api_keys COMPACT_ARRAY, empty
            0x00, 0x00, 0x00, 0x00,  // throttle_time_ms
            0x00,                    // tagged fields
        ])
    }

    @Test func apiVersionsUnsupportedVersionReplyIsReadAsV0() throws {
        // What a broker sends to an ApiVersions v3 request it cannot serve: header v0, then a
        // v0 body: error_code 35, api_keys ARRAY of 1 { key 18, min 0, max 2 }.
        let frame: [UInt8] = [
            0x00, 0x00, 0x00, 0x09,  // correlation id
            0x00, 0x23,              // error_code UNSUPPORTED_VERSION
            0x00, 0x00, 0x00, 0x01,  // api_keys ARRAY of 1
            0x00, 0x12, 0x00, 0x00, 0x00, 0x02,
        ]
        let parsed = try parseApiVersionsResponse(version: 3, frame: frame)
        #expect(parsed.correlationId == 9)
        #expect(parsed.decodedVersion == 0)
        #expect(KafkaErrorCode(parsed.response.errorCode) == .unsupportedVersion)
        #expect(parsed.response.apiKeys.count == 1)
        #expect(parsed.response.apiKeys.first?.maxVersion == 2)
        // A well-formed v3 reply is read as v3.
        var ok = ApiVersionsResponse()
        ok.finalizedFeaturesEpoch = 4
        let v3 = Array(try encodeResponseFrame(ok, version: 3, correlationId: 1).dropFirst(4))
        let good = try parseApiVersionsResponse(version: 3, frame: v3)
        #expect(good.decodedVersion == 3 && good.response == ok)
    }

    @Test func controlledShutdownV0UsesRequestHeaderV0() throws {
        var req = ControlledShutdownRequest()
        req.brokerId = 1
        let frame = try encodeRequestFrame(req, version: 0, correlationId: 2, clientId: "dropped")
        #expect(frame == [
            0x00, 0x00, 0x00, 0x0C,
            0x00, 0x07, 0x00, 0x00,  // key 7, version 0
            0x00, 0x00, 0x00, 0x02,  // correlation id; header v0 has no client id
            0x00, 0x00, 0x00, 0x01,  // broker_id
        ])
        let parsed = try parseRequestHeader(Array(frame.dropFirst(4)))
        #expect(parsed.headerVersion == 0)
        #expect(parsed.clientId == nil)
    }
}
