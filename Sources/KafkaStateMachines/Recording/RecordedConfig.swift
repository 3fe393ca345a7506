import KafkaCrypto

/// Encodes an `EngineConfig` into a recording and back. Every stored property of
/// EngineConfig must appear here (a test compares this list with the type's properties), or
/// a replay would run a differently configured engine.
///
/// SASL secrets (passwords) are written only when the recorder is told to include them; a
/// replay of a recording without them diverges at the first authentication that needs them.
/// An OAUTHBEARER provider is code: its tokens are recorded as inputs instead.
package enum RecordedConfig {
    /// The EngineConfig properties this codec stores, in order.
    public static let storedProperties = [
        "seeds", "clientId", "clientSoftwareName", "clientSoftwareVersion", "tls", "sasl", "connectTimeout",
        "requestTimeoutOverhead", "connectionIdleTimeout", "maxResponseBytes", "maxInFlightPerConnection", "maxRetries",
        "retryTimeout", "backoff", "metadataMaxAge", "metadataMinAge", "metadataStaleRefreshFloor", "pinnedBrokerRelease", "apiVersionsFallbackRelease",
        "versionPins", "fetcher", "producer", "observe", "allowAutoTopicCreation", "reportDecisions",
    ]

    public static func encode(_ c: EngineConfig, includeSecrets: Bool) -> [UInt8] {
        var w = ByteWriter(capacity: 256)
        w.writeUnsignedVarlong(UInt64(c.seeds.count))
        for s in c.seeds {
            RecordingWire.writeString(s.host, into: &w)
            w.writeVarlong(Int64(s.port))
        }
        writeOptional(c.clientId, into: &w)
        RecordingWire.writeString(c.clientSoftwareName, into: &w)
        RecordingWire.writeString(c.clientSoftwareVersion, into: &w)
        w.writeBool(c.tls)
        switch c.sasl {
        case nil:
            w.writeUInt8(0)
        case .plain(let user, let password, let authzid)?:
            w.writeUInt8(1)
            RecordingWire.writeString(user, into: &w)
            writeOptional(includeSecrets ? password : nil, into: &w)
            RecordingWire.writeString(authzid, into: &w)
        case .scram(let algorithm, let user, let password)?:
            w.writeUInt8(2)
            w.writeUInt8(algorithm == .sha256 ? 0 : 1)
            RecordingWire.writeString(user, into: &w)
            writeOptional(includeSecrets ? password : nil, into: &w)
        case .oauthBearer?:
            w.writeUInt8(3)
        case .delegationToken(let algorithm, let tokenId, let hmac)?:
            w.writeUInt8(4)
            w.writeUInt8(algorithm == .sha256 ? 0 : 1)
            RecordingWire.writeString(tokenId, into: &w)
            writeOptional(includeSecrets ? Base64.encode(hmac) : nil, into: &w)
        }
        for i in [c.connectTimeout, c.requestTimeoutOverhead, c.connectionIdleTimeout] { w.writeUnsignedVarlong(i.nanoseconds) }
        w.writeVarlong(Int64(c.maxResponseBytes))
        w.writeVarlong(Int64(c.maxInFlightPerConnection))
        w.writeVarlong(Int64(c.maxRetries))
        w.writeUnsignedVarlong(c.retryTimeout.nanoseconds)
        w.writeUnsignedVarlong(c.backoff.initialInterval.nanoseconds)
        w.writeUnsignedVarlong(c.backoff.maxInterval.nanoseconds)
        w.writeFloat64(c.backoff.jitter)
        w.writeUnsignedVarlong(c.metadataMaxAge.nanoseconds)
        w.writeUnsignedVarlong(c.metadataMinAge.nanoseconds)
        w.writeUnsignedVarlong(c.metadataStaleRefreshFloor.nanoseconds)
        writeOptional(c.pinnedBrokerRelease?.name, into: &w)
        writeOptional(c.apiVersionsFallbackRelease?.name, into: &w)
        let pins = c.versionPins.pinned
        w.writeUnsignedVarlong(UInt64(pins.count))
        for (key, range) in pins {
            w.writeInt16(key.rawValue)
            w.writeInt16(range.lowerBound)
            w.writeInt16(range.upperBound)
        }
        encodeFetcher(c.fetcher, into: &w)
        encodeProducer(c.producer, into: &w)
        // Last, so recordings made before it (which end here) still read: off for them.
        w.writeBool(c.observe)
        // After observe for the same reason: recordings before it have no retry limit.
        if let n = c.producer.recordRetries { w.writeUInt8(1); w.writeVarlong(Int64(n)) } else { w.writeUInt8(0) }
        // After the retry limit for the same reason: older recordings read with it off.
        w.writeBool(c.allowAutoTopicCreation)
        // After auto-creation for the same reason: older recordings read with it off.
        w.writeBool(c.reportDecisions)
        // After reportDecisions for the same reason: older recordings read with no ramp (0).
        w.writeInt32(c.fetcher.firstFetchBytes)
        // After firstFetchBytes for the same reason: older recordings read with no shrinking (0).
        w.writeInt32(c.fetcher.fetchBytesAfterCut)
        // After fetchBytesAfterCut for the same reason: older recordings read with it off.
        w.writeBool(c.fetcher.capFetchAtPartitionSizes)
        // After capFetchAtPartitionSizes for the same reason: older recordings read with it off.
        w.writeBool(c.fetcher.shareRoomAmongFetches)
        // After shareRoomAmongFetches for the same reason: older recordings read with it off.
        w.writeBool(c.fetcher.fullSizeOnceRecordsArrive)
        return w.bytes
    }

    /// The decoded configuration; `secretsMissing` tells whether a password was left out. An
    /// OAUTHBEARER configuration gets a provider that always fails: a replay feeds the
    /// recorded tokens as inputs and never calls it.
    public static func decode(_ bytes: [UInt8]) throws(FlightRecordingError) -> (config: EngineConfig, secretsMissing: Bool) {
        var r = ByteReader(bytes)
        do {
            let n = try r.readUnsignedVarlong("seeds")
            guard n <= UInt64(r.remaining) else { throw FlightRecordingError.badConfig("seed count \(n)") }
            var seeds: [BrokerAddress] = []
            for _ in 0 ..< n {
                let host = try RecordingWire.readString(&r, "seed.host")
                seeds.append(BrokerAddress(host: host, port: Int(try r.readVarlong("seed.port"))))
            }
            var c = EngineConfig(seeds: seeds)
            c.clientId = try readOptional(&r, "clientId")
            c.clientSoftwareName = try RecordingWire.readString(&r, "clientSoftwareName")
            c.clientSoftwareVersion = try RecordingWire.readString(&r, "clientSoftwareVersion")
            c.tls = try r.readBool("tls")
            var missing = false
            switch try r.readUInt8("sasl") {
            case 0: c.sasl = nil
            case 1:
                let user = try RecordingWire.readString(&r, "sasl.user")
                let password = try readOptional(&r, "sasl.password")
                missing = password == nil
                c.sasl = .plain(username: user, password: password ?? "", authzid: try RecordingWire.readString(&r, "sasl.authzid"))
            case 2:
                let algorithm: ScramAlgorithm = try r.readUInt8("sasl.algorithm") == 0 ? .sha256 : .sha512
                let user = try RecordingWire.readString(&r, "sasl.user")
                let password = try readOptional(&r, "sasl.password")
                missing = password == nil
                c.sasl = .scram(algorithm, username: user, password: password ?? "")
            case 3: c.sasl = .oauthBearer(tokenProvider: { throw OAuthTokenFailure("a replay has no token provider") })
            case 4:
                let algorithm: ScramAlgorithm = try r.readUInt8("sasl.algorithm") == 0 ? .sha256 : .sha512
                let tokenId = try RecordingWire.readString(&r, "sasl.tokenId")
                let hmac = try readOptional(&r, "sasl.hmac")
                missing = hmac == nil
                var bytes: [UInt8] = []
                if let hmac {
                    guard let decoded = Base64.decode(hmac) else { throw FlightRecordingError.badConfig("token HMAC is not base64") }
                    bytes = decoded
                }
                c.sasl = .delegationToken(algorithm, tokenId: tokenId, hmac: bytes)
            case let k: throw FlightRecordingError.badConfig("SASL kind \(k)")
            }
            c.connectTimeout = Interval(nanoseconds: try r.readUnsignedVarlong("connectTimeout"))
            c.requestTimeoutOverhead = Interval(nanoseconds: try r.readUnsignedVarlong("requestTimeoutOverhead"))
            c.connectionIdleTimeout = Interval(nanoseconds: try r.readUnsignedVarlong("connectionIdleTimeout"))
            c.maxResponseBytes = Int(try r.readVarlong("maxResponseBytes"))
            c.maxInFlightPerConnection = Int(try r.readVarlong("maxInFlightPerConnection"))
            c.maxRetries = Int(try r.readVarlong("maxRetries"))
            c.retryTimeout = Interval(nanoseconds: try r.readUnsignedVarlong("retryTimeout"))
            let initial = Interval(nanoseconds: try r.readUnsignedVarlong("backoff.initial"))
            let max = Interval(nanoseconds: try r.readUnsignedVarlong("backoff.max"))
            c.backoff = BackoffPolicy(initialInterval: initial, maxInterval: max, jitter: try r.readFloat64("backoff.jitter"))
            c.metadataMaxAge = Interval(nanoseconds: try r.readUnsignedVarlong("metadataMaxAge"))
            c.metadataMinAge = Interval(nanoseconds: try r.readUnsignedVarlong("metadataMinAge"))
            c.metadataStaleRefreshFloor = Interval(nanoseconds: try r.readUnsignedVarlong("metadataStaleRefreshFloor"))
            c.pinnedBrokerRelease = try release(try readOptional(&r, "pinnedBrokerRelease"))
            c.apiVersionsFallbackRelease = try release(try readOptional(&r, "apiVersionsFallbackRelease"))
            let pins = try r.readUnsignedVarlong("versionPins")
            guard pins <= UInt64(r.remaining) else { throw FlightRecordingError.badConfig("pin count \(pins)") }
            for _ in 0 ..< pins {
                let key = ApiKey(rawValue: try r.readInt16("pin.key"))
                let lo = try r.readInt16("pin.lower"), hi = try r.readInt16("pin.upper")
                guard lo <= hi else { throw FlightRecordingError.badConfig("pin \(lo)...\(hi)") }
                c.versionPins[key] = lo ... hi
            }
            c.fetcher = try decodeFetcher(&r)
            c.producer = try decodeProducer(&r)
            if !r.isAtEnd { c.observe = try r.readBool("observe") }
            if !r.isAtEnd, try r.readUInt8("producer.recordRetries") == 1 {
                c.producer.recordRetries = Int(try r.readVarlong("producer.recordRetries"))
            }
            if !r.isAtEnd { c.allowAutoTopicCreation = try r.readBool("allowAutoTopicCreation") }
            if !r.isAtEnd { c.reportDecisions = try r.readBool("reportDecisions") }
            if r.isAtEnd { c.fetcher.firstFetchBytes = 0 } else { c.fetcher.firstFetchBytes = try r.readInt32("fetcher.firstFetchBytes") }
            if r.isAtEnd { c.fetcher.fetchBytesAfterCut = 0 } else { c.fetcher.fetchBytesAfterCut = try r.readInt32("fetcher.fetchBytesAfterCut") }
            if r.isAtEnd { c.fetcher.capFetchAtPartitionSizes = false } else { c.fetcher.capFetchAtPartitionSizes = try r.readBool("fetcher.capFetchAtPartitionSizes") }
            if r.isAtEnd { c.fetcher.shareRoomAmongFetches = false } else { c.fetcher.shareRoomAmongFetches = try r.readBool("fetcher.shareRoomAmongFetches") }
            if r.isAtEnd { c.fetcher.fullSizeOnceRecordsArrive = false } else { c.fetcher.fullSizeOnceRecordsArrive = try r.readBool("fetcher.fullSizeOnceRecordsArrive") }
            guard r.isAtEnd else { throw FlightRecordingError.badConfig("\(r.remaining) bytes after the configuration") }
            return (c, missing)
        } catch let e as FlightRecordingError {
            throw e
        } catch {
            throw .badConfig("\(error)")
        }
    }

    private static func encodeFetcher(_ f: FetcherConfig, into w: inout ByteWriter) {
        w.writeInt8(f.isolation.rawValue)
        w.writeUInt8(f.resetPolicy == .start ? 0 : f.resetPolicy == .end ? 1 : 2)
        w.writeUnsignedVarlong(f.maxWait.nanoseconds)
        w.writeInt32(f.minBytes)
        w.writeInt32(f.maxBytes)
        w.writeInt32(f.partitionMaxBytes)
        w.writeVarlong(Int64(f.maxConcurrentFetches))
        w.writeVarlong(Int64(f.maxBufferedBytes))
        w.writeBool(f.fetchSessions)
        w.writeBool(f.keepControlRecords)
        w.writeBool(f.verifyCRC)
        writeOptional(f.rack, into: &w)
        w.writeUnsignedVarlong(f.preferredReplicaRecheck.nanoseconds)
        w.writeBool(f.validateEpochs)
        w.writeUnsignedVarlong(f.retryBackoff.nanoseconds)
        w.writeUnsignedVarlong(f.topicRefresh.nanoseconds)
    }

    private static func decodeFetcher(_ r: inout ByteReader) throws(FlightRecordingError) -> FetcherConfig {
        do {
            var f = FetcherConfig()
            guard let isolation = IsolationLevel(rawValue: try r.readInt8("fetcher.isolation")) else { throw FlightRecordingError.badConfig("isolation level") }
            f.isolation = isolation
            switch try r.readUInt8("fetcher.resetPolicy") {
            case 0: f.resetPolicy = .start
            case 1: f.resetPolicy = .end
            case 2: f.resetPolicy = .error
            case let k: throw FlightRecordingError.badConfig("reset policy \(k)")
            }
            f.maxWait = Interval(nanoseconds: try r.readUnsignedVarlong("fetcher.maxWait"))
            f.minBytes = try r.readInt32("fetcher.minBytes")
            f.maxBytes = try r.readInt32("fetcher.maxBytes")
            f.partitionMaxBytes = try r.readInt32("fetcher.partitionMaxBytes")
            f.maxConcurrentFetches = Int(try r.readVarlong("fetcher.maxConcurrentFetches"))
            f.maxBufferedBytes = Int(try r.readVarlong("fetcher.maxBufferedBytes"))
            f.fetchSessions = try r.readBool("fetcher.fetchSessions")
            f.keepControlRecords = try r.readBool("fetcher.keepControlRecords")
            f.verifyCRC = try r.readBool("fetcher.verifyCRC")
            f.rack = try readOptional(&r, "fetcher.rack")
            f.preferredReplicaRecheck = Interval(nanoseconds: try r.readUnsignedVarlong("fetcher.preferredReplicaRecheck"))
            f.validateEpochs = try r.readBool("fetcher.validateEpochs")
            f.retryBackoff = Interval(nanoseconds: try r.readUnsignedVarlong("fetcher.retryBackoff"))
            f.topicRefresh = Interval(nanoseconds: try r.readUnsignedVarlong("fetcher.topicRefresh"))
            return f
        } catch let e as FlightRecordingError {
            throw e
        } catch {
            throw .badConfig("fetcher: \(error)")
        }
    }

    private static func encodeProducer(_ p: ProducerConfig, into w: inout ByteWriter) {
        w.writeInt16(p.acks.rawValue)
        // Bit 0 idempotence, bit 1 its fallback (recordings before the fallback hold 0 or 1).
        w.writeUInt8((p.idempotent ? 1 : 0) | (p.idempotenceFallback ? 2 : 0))
        w.writeUnsignedVarlong(p.linger.nanoseconds)
        w.writeVarlong(Int64(p.maxBatchBytes))
        w.writeVarlong(Int64(p.maxBufferedRecords))
        w.writeVarlong(Int64(p.maxBufferedBytes))
        w.writeUnsignedVarlong(UInt64(p.compression.count))
        for c in p.compression { w.writeUInt8(c.rawValue) }
        switch p.partitioner {
        case .sticky: w.writeUInt8(0)
        case .uniformBytes(let bytes, let adaptive): w.writeUInt8(1); w.writeVarlong(Int64(bytes)); w.writeBool(adaptive)
        case .roundRobin: w.writeUInt8(2)
        case .leastBackup: w.writeUInt8(3)
        case .manual: w.writeUInt8(4)
        }
        if let d = p.deliveryTimeout { w.writeUInt8(1); w.writeUnsignedVarlong(d.nanoseconds) } else { w.writeUInt8(0) }
        w.writeUnsignedVarlong(p.requestTimeout.nanoseconds)
        w.writeVarlong(Int64(p.maxInFlightPerBroker))
        w.writeVarlong(Int64(p.unknownTopicRetries))
        w.writeBool(p.manualFlushing)
        writeOptional(p.transactionalId, into: &w)
        w.writeUnsignedVarlong(p.transactionTimeout.nanoseconds)
    }

    private static func decodeProducer(_ r: inout ByteReader) throws(FlightRecordingError) -> ProducerConfig {
        do {
            var p = ProducerConfig()
            guard let acks = ProducerAcks(rawValue: try r.readInt16("producer.acks")) else { throw FlightRecordingError.badConfig("acks") }
            p.acks = acks
            let idempotence = try r.readUInt8("producer.idempotent")
            guard idempotence < 4 else { throw FlightRecordingError.badConfig("idempotence \(idempotence)") }
            p.idempotent = idempotence & 1 != 0
            p.idempotenceFallback = idempotence & 2 != 0
            p.linger = Interval(nanoseconds: try r.readUnsignedVarlong("producer.linger"))
            p.maxBatchBytes = Int(try r.readVarlong("producer.maxBatchBytes"))
            p.maxBufferedRecords = Int(try r.readVarlong("producer.maxBufferedRecords"))
            p.maxBufferedBytes = Int(try r.readVarlong("producer.maxBufferedBytes"))
            let n = try r.readUnsignedVarlong("producer.compression")
            guard n <= UInt64(r.remaining) else { throw FlightRecordingError.badConfig("compression list of \(n)") }
            p.compression = []
            for _ in 0 ..< n {
                guard let c = CompressionCodec(rawValue: try r.readUInt8("producer.codec")) else { throw FlightRecordingError.badConfig("codec") }
                p.compression.append(c)
            }
            switch try r.readUInt8("producer.partitioner") {
            case 0: p.partitioner = .sticky
            case 1:
                let bytes = Int(try r.readVarlong("producer.partitioner.bytes"))
                p.partitioner = .uniformBytes(bytes: bytes, adaptive: try r.readBool("producer.partitioner.adaptive"))
            case 2: p.partitioner = .roundRobin
            case 3: p.partitioner = .leastBackup
            case 4: p.partitioner = .manual
            case let k: throw FlightRecordingError.badConfig("partitioner \(k)")
            }
            p.deliveryTimeout = try r.readUInt8("producer.deliveryTimeout") == 1
                ? Interval(nanoseconds: try r.readUnsignedVarlong("producer.deliveryTimeout")) : nil
            p.requestTimeout = Interval(nanoseconds: try r.readUnsignedVarlong("producer.requestTimeout"))
            p.maxInFlightPerBroker = Int(try r.readVarlong("producer.maxInFlightPerBroker"))
            p.unknownTopicRetries = Int(try r.readVarlong("producer.unknownTopicRetries"))
            p.manualFlushing = try r.readBool("producer.manualFlushing")
            p.transactionalId = try readOptional(&r, "producer.transactionalId")
            p.transactionTimeout = Interval(nanoseconds: try r.readUnsignedVarlong("producer.transactionTimeout"))
            return p
        } catch let e as FlightRecordingError {
            throw e
        } catch {
            throw .badConfig("producer: \(error)")
        }
    }

    private static func release(_ name: String?) throws(FlightRecordingError) -> KafkaRelease? {
        guard let name else { return nil }
        guard let r = KafkaRelease.named(name) else { throw .badConfig("unknown Kafka release \(name)") }
        return r
    }

    private static func writeOptional(_ s: String?, into w: inout ByteWriter) {
        if let s { w.writeUInt8(1); RecordingWire.writeString(s, into: &w) } else { w.writeUInt8(0) }
    }

    private static func readOptional(_ r: inout ByteReader, _ field: StaticString) throws(KafkaDecodingError) -> String? {
        try r.readUInt8(field) == 1 ? try RecordingWire.readString(&r, field) : nil
    }
}
