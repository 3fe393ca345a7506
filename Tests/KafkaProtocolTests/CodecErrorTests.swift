import Testing
import KafkaProtocol

/// What the generated codec refuses, and what it keeps.
@Suite struct CodecErrorTests {
    private func produceV3() throws -> [UInt8] {
        var p = ProduceRequest.PartitionProduceData()
        p.records = [1, 2, 3]
        var t = ProduceRequest.TopicProduceData()
        t.name = "t"
        t.partitionData = [p]
        var req = ProduceRequest()
        req.topicData = [t]
        return try req.encoded(version: 3)
    }

    @Test func truncatedInputNamesMessageFieldAndOffset() throws {
        let bytes = try produceV3()
        // Drop the last record byte: the records length (3) now runs past the end.
        let cut = Array(bytes.dropLast())
        let recordsLengthAt = cut.count - 2 - 4
        #expect(throws: KafkaDecodingError(message: "ProduceRequest v3", field: "topicData.partitionData.records", offset: recordsLengthAt, kind: .lengthPastEnd(length: 3, available: 2))) {
            try ProduceRequest.decode(cut, version: 3)
        }
        // Every shorter prefix fails too, with a typed error and no trap.
        for n in 0 ..< bytes.count {
            #expect(throws: KafkaDecodingError.self) { try ProduceRequest.decode(Array(bytes[0 ..< n]), version: 3) }
        }
    }

    @Test func trailingBytesAreAnError() throws {
        let bytes = try produceV3() + [0]
        #expect(throws: KafkaDecodingError(message: "ProduceRequest v3", field: "", offset: bytes.count - 1, kind: .trailingBytes(1))) {
            try ProduceRequest.decode(bytes, version: 3)
        }
    }

    @Test func unsupportedVersions() {
        #expect(throws: KafkaEncodingError(message: "ProduceRequest v13", field: "", kind: .unsupportedVersion(13))) {
            try ProduceRequest().encoded(version: 13)
        }
        #expect(throws: KafkaEncodingError(message: "ProduceRequest v-1", field: "", kind: .unsupportedVersion(-1))) {
            try ProduceRequest().encoded(version: -1)
        }
        #expect(throws: KafkaDecodingError(message: "MetadataResponse v13", field: "", offset: 0, kind: .unsupportedVersion(13))) {
            try MetadataResponse.decode([], version: 13)
        }
    }

    @Test func nonIgnorableFieldMissingFromTheVersionIsRefused() {
        var req = ProduceRequest()
        req.transactionalId = "txn"  // exists from v3 and is not ignorable
        #expect(throws: KafkaEncodingError(message: "ProduceRequest v2", field: "transactionalId", kind: .fieldNotInVersion(2))) {
            try req.encoded(version: 2)
        }
        var meta = MetadataRequest()
        meta.allowAutoTopicCreation = false  // v4+; default true
        #expect(throws: KafkaEncodingError(message: "MetadataRequest v3", field: "allowAutoTopicCreation", kind: .fieldNotInVersion(3))) {
            try meta.encoded(version: 3)
        }
        // A nested field reports its path.
        var resp = FetchResponse()
        var topic = FetchResponse.FetchableTopicResponse()
        var part = FetchResponse.PartitionData()
        part.preferredReadReplica = 3  // v11+
        topic.partitions = [part]
        resp.responses = [topic]
        #expect(throws: KafkaEncodingError(message: "FetchResponse v10", field: "responses.partitions.preferredReadReplica", kind: .fieldNotInVersion(10))) {
            try resp.encoded(version: 10)
        }
        // A known tagged field outside its tagged versions is refused like any other.
        var ep = ProduceResponse.NodeEndpoint()
        ep.host = "h"
        var pr = ProduceResponse()
        pr.nodeEndpoints = [ep]
        #expect(throws: KafkaEncodingError(message: "ProduceResponse v9", field: "nodeEndpoints", kind: .fieldNotInVersion(9))) {
            try pr.encoded(version: 9)
        }
    }

    @Test func ignorableFieldIsDroppedSilently() throws {
        var req = ApiVersionsRequest()
        req.clientSoftwareName = "kgo"  // v3+, ignorable
        #expect(try req.encoded(version: 2) == [])
        var resp = FetchResponse()
        resp.throttleTimeMs = 100  // v1+, ignorable
        #expect(try resp.encoded(version: 0) == [0x00, 0x00, 0x00, 0x00])
    }

    @Test func nullWhereTheVersionForbidsIt() {
        var meta = MetadataRequest()
        meta.topics = nil  // nullable from v1 only
        #expect(throws: KafkaEncodingError(message: "MetadataRequest v0", field: "topics", kind: .nullNotAllowed(0))) {
            try meta.encoded(version: 0)
        }
        #expect(throws: KafkaDecodingError(message: "MetadataRequest v0", field: "topics", offset: 0, kind: .unexpectedNull)) {
            try MetadataRequest.decode([0xFF, 0xFF, 0xFF, 0xFF], version: 0)
        }
        // A topic name is nullable only from v10.
        var named = MetadataRequest()
        named.topics = [MetadataRequest.MetadataRequestTopic()]
        named.topics?[0].name = nil
        #expect(throws: KafkaEncodingError(message: "MetadataRequest v9", field: "topics.name", kind: .nullNotAllowed(9))) {
            try named.encoded(version: 9)
        }
        #expect(throws: Never.self) { try named.encoded(version: 10) }
        // Null in a never-nullable string.
        #expect(throws: KafkaDecodingError(message: "ProduceRequest v3", field: "topicData.name", offset: 12, kind: .unexpectedNull)) {
            try ProduceRequest.decode([0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF], version: 3)
        }
    }

    @Test func unknownTaggedFieldsArePreservedByteForByte() throws {
        let bytes: [UInt8] = [
            0x00, 0x00,              // error_code
            0x01,                    // api_keys: empty
            0x00, 0x00, 0x00, 0x00,  // throttle_time_ms
            0x03,                    // three tagged fields
            0x01, 0x08, 0, 0, 0, 0, 0, 0, 0, 5,  // tag 1: finalized_features_epoch 5 (known)
            0x09, 0x03, 0xAA, 0xBB, 0xCC,        // tag 9: unknown
            0x80, 0x02, 0x00,                    // tag 256 (two-byte varint), empty body: unknown
        ]
        let resp = try ApiVersionsResponse.decode(bytes, version: 3)
        #expect(resp.finalizedFeaturesEpoch == 5)
        #expect(resp.unknownTaggedFields == [TaggedField(tag: 9, data: [0xAA, 0xBB, 0xCC]), TaggedField(tag: 256, data: [])])
        #expect(try resp.encoded(version: 3) == bytes)

        // An unknown tag below a known one is written back in tag order around it.
        var header = RequestHeader()
        header.unknownTaggedFields = [TaggedField(tag: 0, data: [7])]
        let h = try header.encoded(version: 2)
        #expect(h.suffix(4) == [0x01, 0x00, 0x01, 0x07])
        #expect(try RequestHeader.decode(h, version: 2) == header)
    }

    @Test func unknownTaggedFieldsCannotGoOutInANonFlexibleVersion() throws {
        var req = ProduceRequest()
        req.unknownTaggedFields = [TaggedField(tag: 4, data: [1])]
        #expect(throws: KafkaEncodingError(message: "ProduceRequest v8", field: "unknownTaggedFields", kind: .fieldNotInVersion(8))) {
            try req.encoded(version: 8)
        }
        var topic = ProduceRequest.TopicProduceData()
        topic.unknownTaggedFields = [TaggedField(tag: 4, data: [1])]
        req.unknownTaggedFields = []
        req.topicData = [topic]
        #expect(throws: KafkaEncodingError(message: "ProduceRequest v8", field: "topicData.unknownTaggedFields", kind: .fieldNotInVersion(8))) {
            try req.encoded(version: 8)
        }
        #expect(try req.encoded(version: 9).count > 0)
    }

    @Test func stringsLongerThan32767BytesAreRefusedInBothForms() {
        var req = ApiVersionsRequest()
        req.clientSoftwareName = String(repeating: "x", count: 32768)
        #expect(throws: KafkaEncodingError(message: "ApiVersionsRequest v3", field: "clientSoftwareName", kind: .valueTooLong(32768))) {
            try req.encoded(version: 3)
        }
        var header = RequestHeader()
        header.clientId = String(repeating: "é", count: 16384)
        #expect(throws: KafkaEncodingError(message: "RequestHeader v1", field: "clientId", kind: .valueTooLong(32768))) {
            try header.encoded(version: 1)
        }
    }

    @Test func apiVersionsAtAnUnknownVersionStillYieldsItsHeader() throws {
        // A newer client's ApiVersions v9: the broker must read the correlation id to answer
        // UNSUPPORTED_VERSION, even though it cannot decode the body.
        let frame: [UInt8] = [0x00, 0x12, 0x00, 0x09, 0x00, 0x00, 0x00, 0x05, 0xFF, 0xFF, 0x00, 0x00]
        let parsed = try parseRequestHeader(frame)
        #expect(parsed.correlationId == 5)
        #expect(parsed.headerVersion == 2)
        #expect(parsed.clientId == nil)
        #expect(throws: KafkaDecodingError(message: "ApiVersionsRequest v9", field: "", offset: 11, kind: .unsupportedVersion(9))) {
            try parsed.decodeBody()
        }
    }

    @Test func requestBodiesMayBeFollowedByBytesBrokersIgnore() throws {
        // librdkafka 2.16's "all topics" Metadata v12 (from the peer captures): the null
        // topics array is written as a 4-byte zero, so the real fields follow as extra bytes.
        let frame: [UInt8] = [0x00, 0x03, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x03, 0x00, 0x08]
            + Array("metadata".utf8) + [0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]
        let parsed = try parseRequestHeader(frame)
        let request = try #require(try parsed.decodeBody() as? MetadataRequest)
        #expect(request.topics == nil)
        #expect(throws: KafkaDecodingError(message: "MetadataRequest v12", field: "", offset: 23, kind: .trailingBytes(3))) {
            try parsed.decodeBody(rejectTrailingBytes: true)
        }
    }

    @Test func knownTaggedFieldWithALongerBodyIsRejected() {
        let bytes: [UInt8] = [0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                              0x01, 0x03, 0x02, 0x01, 0x00]  // tag 3 (bool) with a 2-byte body
        #expect(throws: KafkaDecodingError(message: "ApiVersionsResponse v3", field: "zkMigrationReady", offset: 11, kind: .trailingBytes(1))) {
            try ApiVersionsResponse.decode(bytes, version: 3)
        }
    }

    @Test func dispatchByApiKey() throws {
        var r = ByteReader([])
        #expect(throws: KafkaDecodingError(field: "", offset: 0, kind: .unknownApiKey(999))) {
            try decodeRequest(apiKey: ApiKey(999), version: 0, from: &r)
        }
        #expect(requestType(for: .produce) == ProduceRequest.self)
        #expect(responseType(for: .fetch) == FetchResponse.self)
        var body = ByteReader(try produceV3())
        let any = try decodeRequest(apiKey: .produce, version: 3, from: &body)
        #expect((any as? ProduceRequest)?.topicData.first?.name == "t")
    }

    @Test func apiKeyAndErrorCodeTables() {
        #expect(ApiKey.all.count == 88)
        #expect(ApiKey.all == ApiKey.all.sorted())
        #expect(ApiKey.produce.rawValue == 0 && ApiKey.produce.name == "Produce")
        #expect(ApiKey.apiVersions.rawValue == 18)
        #expect(ApiKey(18).description == "ApiVersions")
        #expect(ApiKey(999).name == "Unknown(999)")
        #expect(ApiKey(999).validVersions == nil)
        #expect(ApiKey.fetch.validVersions == 0 ... 17)
        #expect(ApiKey.fetch.firstFlexibleVersion == 12)
        #expect(ApiKey.saslHandshake.firstFlexibleVersion == nil)
        #expect(KafkaErrorCode.noError.rawValue == 0)
        #expect(KafkaErrorCode.offsetOutOfRange.rawValue == 1)
        #expect(KafkaErrorCode.notLeaderOrFollower.name == "NOT_LEADER_OR_FOLLOWER")
        #expect(KafkaErrorCode.notLeaderOrFollower.isRetriable)
        #expect(!KafkaErrorCode.offsetOutOfRange.isRetriable)
        #expect(KafkaErrorCode(rawValue: 500).name == "UNKNOWN_CODE(500)")
        #expect(KafkaErrorCode.requestTimedOut.message == "The request timed out.")
    }
}
