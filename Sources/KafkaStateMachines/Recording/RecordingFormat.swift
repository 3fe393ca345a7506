/// The flight recorder's file format, version 5 (format 4 holds the same entries without
/// their checksums and is still read; older formats are refused). All integers are big-endian or Kafka
/// varints (unsigned LEB128, zig-zag for signed); strings and byte strings are an unsigned
/// varint length then the bytes. See docs/flight-recorder.md.
///
///     segment  = header entry*
///     header   = magic "KGOFLREC" | u16 format version | u64 recording id | u32 segment index (1-based)
///                [segment 1 only: u64 seed | string library version | bytes engine config]
///     entry    = uvarint length | u8 kind | uvarlong now (ns) | uvarlong actions observed | u64 digest | body
///                | u32 CRC-32C of the bytes the length covers (format 5; format 4 has no checksum)
///
/// An entry's (actions observed, digest) is the driver's action digest at the moment the
/// entry was written, before its input reached the engine: a replay that has emitted that
/// many actions must have the same digest. A crash can leave a partial last entry; readers
/// treat it as the end of the recording. The checksum tells a damaged file from a replay
/// that diverged: without it, one flipped byte in a recorded response replays as an engine
/// divergence that sends someone hunting a non-determinism that does not exist.
package enum RecordingFormat {
    public static let magic: [UInt8] = Array("KGOFLREC".utf8)
    public static let version: UInt16 = 5
    /// Format 4 stores the same entries without checksums; it is still read.
    public static let oldestReadable: UInt16 = 4
    /// Names the segment files of a recording: `base-000001.kgorec`, `base-000002.kgorec`, ...
    public static func segmentName(base: String, index: Int) -> String {
        let n = String(index)
        return base + "-" + String(repeating: "0", count: max(0, 6 - n.count)) + n + ".kgorec"
    }

    enum Kind: UInt8 {
        case connectionOpened = 1, connectionFailed, connectionClosed, bytesReceived, request, tick, close
        case oauthToken, oauthTokenFailed, end, cancel
        case assign, unassign, subscribe, seek, skip, stopPartition, pause, resume, fetchConsumed
        case produce, flush
        case joinGroup, leaveGroup, commitOffsets, groupConsumed, groupRevocationHandled
        case beginTransaction, endTransaction
        case sendOffsetsToTransaction, transactionEnded, transactionRebalanced
        /// The `EngineInput.oauthToken` answer. (`oauthToken` and `oauthTokenFailed` above held
        /// the answers of the synchronous provider of older builds; they are no longer read.)
        case oauthTokenAnswer
    }
}

/// What a recording segment starts with.
package struct RecordingHeader: Sendable, Equatable {
    public var recordingId: UInt64
    public var segmentIndex: UInt32
    /// Segment 1 only.
    public var start: RecordingStart?

    public init(recordingId: UInt64, segmentIndex: UInt32, start: RecordingStart?) {
        self.recordingId = recordingId
        self.segmentIndex = segmentIndex
        self.start = start
    }
}

/// How the recorded engine was created.
package struct RecordingStart: Sendable, Equatable {
    public var seed: UInt64
    public var libraryVersion: String
    /// The encoded `EngineConfig` (RecordedConfig).
    public var config: [UInt8]

    public init(seed: UInt64, libraryVersion: String, config: [UInt8]) {
        self.seed = seed
        self.libraryVersion = libraryVersion
        self.config = config
    }
}

/// One recorded entry: an input, or the end marker a clean close writes.
package struct RecordingEntry: Sendable, Equatable {
    public enum Payload: Sendable, Equatable {
        case input(EngineInput)
        /// The recorder stopped (the client closed, or the size limit was reached); the
        /// checkpoint covers every action observed.
        case end
    }
    public var now: Instant
    public var actionsObserved: UInt64
    public var digest: UInt64
    public var payload: Payload

    public init(now: Instant, actionsObserved: UInt64, digest: UInt64, payload: Payload) {
        self.now = now
        self.actionsObserved = actionsObserved
        self.digest = digest
        self.payload = payload
    }
}

/// A recording that cannot be read.
package enum FlightRecordingError: Error, Sendable, Equatable, CustomStringConvertible {
    case notARecording
    case unsupportedFormatVersion(UInt16)
    case corrupt(String)
    /// Segment files that do not belong together (another recording, a gap, a wrong order).
    case segmentMismatch(String)
    case unknownEntryKind(UInt8)
    case badConfig(String)
    /// An entry's bytes do not match its checksum: the file was damaged after it was written.
    /// `entry` counts from 0 across segments (as a replay's divergence does), `segment`
    /// from 1, `offset` is the entry's first byte in its segment file.
    case damagedEntry(entry: Int, segment: Int, offset: Int)

    public var description: String {
        switch self {
        case .notARecording: return "not a kgo flight recording (bad magic)"
        case .unsupportedFormatVersion(let v):
            return "recorded by format \(v), this build reads formats \(RecordingFormat.oldestReadable) to \(RecordingFormat.version)"
        case .corrupt(let m): return "corrupt flight recording: \(m)"
        case .segmentMismatch(let m): return "recording segments do not match: \(m)"
        case .unknownEntryKind(let k): return "unknown flight recording entry kind \(k)"
        case .badConfig(let m): return "recorded engine configuration cannot be used: \(m)"
        case .damagedEntry(let e, let seg, let at):
            return "damaged flight recording: entry \(e) (segment \(seg), byte \(at)) does not match its checksum"
        }
    }
}

// MARK: encoding

extension RecordingHeader {
    public func encoded() -> [UInt8] {
        var w = ByteWriter(capacity: 64)
        w.writeRaw(RecordingFormat.magic)
        w.writeUInt16(RecordingFormat.version)
        w.writeUInt64(recordingId)
        w.writeUInt32(segmentIndex)
        if let start {
            w.writeUInt64(start.seed)
            RecordingWire.writeString(start.libraryVersion, into: &w)
            RecordingWire.writeBytes(start.config, into: &w)
        }
        return w.bytes
    }
}

extension RecordingEntry {
    /// The entry framed with its length prefix; nil when it holds a user request that no
    /// version of its schema carries faithfully (`UserRequest.faithfulEncoding`).
    public func encoded() -> [UInt8]? {
        var body = ByteWriter(capacity: 32)
        func header(_ kind: RecordingFormat.Kind) {
            body.writeUInt8(kind.rawValue)
            body.writeUnsignedVarlong(now.nanoseconds)
            body.writeUnsignedVarlong(actionsObserved)
            body.writeUInt64(digest)
        }
        switch payload {
        case .end:
            header(.end)
        case .input(let input):
            switch input {
            case .connectionOpened(let c):
                header(.connectionOpened)
                body.writeUnsignedVarlong(c.rawValue)
            case .connectionClosed(let c):
                header(.connectionClosed)
                body.writeUnsignedVarlong(c.rawValue)
            case .connectionFailed(let c, let reason):
                header(.connectionFailed)
                body.writeUnsignedVarlong(c.rawValue)
                RecordingWire.writeFailure(reason, into: &body)
            case .oauthToken(let c, let result):
                header(.oauthTokenAnswer)
                body.writeUnsignedVarlong(c.rawValue)
                switch result {
                case .success(let t):
                    body.writeUInt8(1)
                    RecordingWire.writeString(t.token, into: &body)
                    let keys = t.extensions.keys.sorted()
                    body.writeUnsignedVarlong(UInt64(keys.count))
                    for k in keys {
                        RecordingWire.writeString(k, into: &body)
                        RecordingWire.writeString(t.extensions[k]!, into: &body)
                    }
                case .failure(let f):
                    body.writeUInt8(0)
                    RecordingWire.writeString(f.message, into: &body)
                }
            case .bytesReceived(let c, let bytes):
                header(.bytesReceived)
                body.writeUnsignedVarlong(c.rawValue)
                RecordingWire.writeBytes(bytes, into: &body)
            case .request(let r):
                guard let (version, encoded) = r.faithfulEncoding else { return nil }
                header(.request)
                body.writeUnsignedVarlong(r.promise.rawValue)
                body.writeInt16(type(of: r.request).apiKey.rawValue)
                body.writeInt16(version)
                RecordingWire.writeBytes(encoded, into: &body)
                RecordingWire.writeTarget(r.target, into: &body)
                if let pin = r.pin {
                    body.writeUInt8(1); body.writeInt16(pin.lowerBound); body.writeInt16(pin.upperBound)
                } else {
                    body.writeUInt8(0)
                }
                if let m = r.maxRetries { body.writeUInt8(1); body.writeVarlong(Int64(m)) } else { body.writeUInt8(0) }
            case .cancel(let p):
                header(.cancel)
                body.writeUnsignedVarlong(p.rawValue)
            case .assign(let a):
                header(.assign)
                let keys = a.keys.sorted()
                body.writeUnsignedVarlong(UInt64(keys.count))
                for tp in keys {
                    RecordingWire.writePartition(tp, into: &body)
                    RecordingWire.writeStart(a[tp]!, into: &body)
                }
            case .unassign(let p):
                header(.unassign)
                RecordingWire.writePartitions(p, into: &body)
            case .pause(let p):
                header(.pause)
                RecordingWire.writePartitions(p, into: &body)
            case .resume(let p):
                header(.resume)
                RecordingWire.writePartitions(p, into: &body)
            case .subscribe(let sub):
                header(.subscribe)
                for list in [sub.topics, sub.patterns, sub.exclusions] {
                    body.writeUnsignedVarlong(UInt64(list.count))
                    for t in list { RecordingWire.writeString(t, into: &body) }
                }
                RecordingWire.writeStart(sub.start, into: &body)
            case .seek(let tp, let start):
                header(.seek)
                RecordingWire.writePartition(tp, into: &body)
                RecordingWire.writeStart(start, into: &body)
            case .skip(let tp):
                header(.skip)
                RecordingWire.writePartition(tp, into: &body)
            case .stopPartition(let tp, let offset, let error, let skipTo):
                header(.stopPartition)
                RecordingWire.writePartition(tp, into: &body)
                body.writeVarlong(offset)
                RecordingWire.writeConsumerError(error, into: &body)
                body.writeVarlong(skipTo)
            case .fetchConsumed(let n):
                header(.fetchConsumed)
                body.writeVarlong(Int64(n))
            case .produce(let records):
                header(.produce)
                body.writeUnsignedVarlong(UInt64(records.count))
                for r in records { RecordingWire.writeProducerRecord(r, into: &body) }
            case .flush(let p):
                header(.flush)
                body.writeUnsignedVarlong(p.rawValue)
            case .beginTransaction(let p):
                header(.beginTransaction)
                body.writeUnsignedVarlong(p.rawValue)
            case .endTransaction(let commit, let p):
                header(.endTransaction)
                body.writeBool(commit)
                body.writeUnsignedVarlong(p.rawValue)
            case .sendOffsetsToTransaction(let o, let p):
                header(.sendOffsetsToTransaction)
                body.writeUnsignedVarlong(p.rawValue)
                if let o { body.writeUInt8(1); RecordingWire.writeTransactionOffsets(o, into: &body) } else { body.writeUInt8(0) }
            case .transactionEnded(let committed, let offsets):
                header(.transactionEnded)
                body.writeBool(committed)
                let groups = offsets.keys.sorted()
                body.writeUnsignedVarlong(UInt64(groups.count))
                for g in groups {
                    RecordingWire.writeString(g, into: &body)
                    RecordingWire.writePositions(offsets[g]!, into: &body)
                }
            case .transactionRebalanced:
                header(.transactionRebalanced)
            case .joinGroup(let c):
                header(.joinGroup)
                RecordingWire.writeGroupConfig(c, into: &body)
            case .leaveGroup(let p):
                header(.leaveGroup)
                body.writeUnsignedVarlong(p.rawValue)
            case .commitOffsets(let offsets, let p):
                header(.commitOffsets)
                body.writeUnsignedVarlong(p.rawValue)
                if let offsets { body.writeUInt8(1); RecordingWire.writePositions(offsets, into: &body) } else { body.writeUInt8(0) }
            case .groupConsumed(let positions):
                header(.groupConsumed)
                RecordingWire.writePositions(positions, into: &body)
            case .groupRevocationHandled(let id):
                header(.groupRevocationHandled)
                body.writeUnsignedVarlong(id)
            case .tick:
                header(.tick)
            case .close:
                header(.close)
            }
        }
        var w = ByteWriter(capacity: body.count + 9)
        w.writeUnsignedVarlong(UInt64(body.count))
        w.writeRaw(body.bytes)
        w.writeUInt32(CRC32C.checksum(body.bytes))
        return w.bytes
    }
}

// MARK: decoding

/// A parsed recording: the first segment's header and every entry of every segment, in order.
package struct FlightRecording: Sendable {
    public var recordingId: UInt64
    public var start: RecordingStart
    public var entries: [RecordingEntry]
    /// The last segment ended inside an entry (the process stopped while writing it).
    public var truncatedTail: Bool
    /// An end marker was found: the recorder stopped cleanly.
    public var endedCleanly: Bool

    /// Parses segments given in order (segment 1 first).
    public init(segments: [[UInt8]]) throws(FlightRecordingError) {
        guard !segments.isEmpty else { throw .segmentMismatch("no segment files") }
        var id: UInt64 = 0
        var start: RecordingStart?
        var entries: [RecordingEntry] = []
        var truncated = false
        var ended = false
        for (i, bytes) in segments.enumerated() {
            if truncated || ended {
                throw .segmentMismatch("segment \(i) is still \(truncated ? "incomplete" : "ended") but segment \(i + 1) follows")
            }
            var r = ByteReader(bytes)
            let (header, format) = try RecordingWire.readHeader(&r)
            if i == 0 {
                guard header.segmentIndex == 1, let s = header.start else {
                    throw .segmentMismatch("the first file is segment \(header.segmentIndex), not segment 1")
                }
                id = header.recordingId
                start = s
            } else {
                guard header.recordingId == id else { throw .segmentMismatch("segment \(i + 1) belongs to another recording") }
                guard header.segmentIndex == UInt32(i + 1) else {
                    throw .segmentMismatch("expected segment \(i + 1), found segment \(header.segmentIndex)")
                }
            }
            while !r.isAtEnd {
                guard let entry = try RecordingWire.readEntry(&r, format: format, index: entries.count, segment: i + 1) else {
                    truncated = true
                    break
                }
                if case .end = entry.payload { ended = true }
                entries.append(entry)
                if ended, !r.isAtEnd { throw .corrupt("bytes after the end marker in segment \(i + 1)") }
            }
        }
        self.recordingId = id
        self.start = start!
        self.entries = entries
        self.truncatedTail = truncated
        self.endedCleanly = ended
    }
}

/// Shared field encodings of the format.
enum RecordingWire {
    static func writeString(_ s: String, into w: inout ByteWriter) { writeBytes(Array(s.utf8), into: &w) }

    static func writeBytes(_ b: [UInt8], into w: inout ByteWriter) {
        w.writeUnsignedVarlong(UInt64(b.count))
        w.writeRaw(b)
    }

    static func readBytes(_ r: inout ByteReader, _ field: StaticString) throws(KafkaDecodingError) -> [UInt8] {
        let n = try r.readUnsignedVarlong(field)
        guard n <= UInt64(r.remaining) else {
            throw KafkaDecodingError(field: "\(field)", offset: r.offset, kind: .lengthPastEnd(length: Int(clamping: n), available: r.remaining))
        }
        return try r.readRaw(Int(n), field)
    }

    static func readString(_ r: inout ByteReader, _ field: StaticString) throws(KafkaDecodingError) -> String {
        let at = r.offset
        let b = try readBytes(&r, field)
        guard let s = String(validating: b, as: UTF8.self) else {
            throw KafkaDecodingError(field: "\(field)", offset: at, kind: .invalidUTF8)
        }
        return s
    }

    static func writeFailure(_ f: ConnectionFailure, into w: inout ByteWriter) {
        let (kind, detail): (UInt8, String)
        switch f {
        case .dns(let d): (kind, detail) = (0, d)
        case .refused(let d): (kind, detail) = (1, d)
        case .timeout(let d): (kind, detail) = (2, d)
        case .tls(.certificate, let d): (kind, detail) = (3, d)
        case .tls(.handshake, let d): (kind, detail) = (4, d)
        case .closed(let d): (kind, detail) = (5, d)
        case .other(let d): (kind, detail) = (6, d)
        }
        w.writeUInt8(kind)
        writeString(detail, into: &w)
    }

    static func readFailure(_ r: inout ByteReader) throws(KafkaDecodingError) -> ConnectionFailure {
        let at = r.offset
        let kind = try r.readUInt8("reason.kind")
        let detail = try readString(&r, "reason.detail")
        switch kind {
        case 0: return .dns(detail)
        case 1: return .refused(detail)
        case 2: return .timeout(detail)
        case 3: return .tls(.certificate, detail)
        case 4: return .tls(.handshake, detail)
        case 5: return .closed(detail)
        case 6: return .other(detail)
        default: throw KafkaDecodingError(field: "reason.kind", offset: at, kind: .invalidValue("connection failure kind \(kind)"))
        }
    }

    static func writePartition(_ tp: TopicPartition, into w: inout ByteWriter) {
        writeString(tp.topic, into: &w)
        w.writeInt32(tp.partition)
    }

    static func readPartition(_ r: inout ByteReader) throws(KafkaDecodingError) -> TopicPartition {
        let topic = try readString(&r, "topic")
        return TopicPartition(topic, try r.readInt32("partition"))
    }

    static func writePartitions(_ p: [TopicPartition], into w: inout ByteWriter) {
        w.writeUnsignedVarlong(UInt64(p.count))
        for tp in p { writePartition(tp, into: &w) }
    }

    static func readPartitions(_ r: inout ByteReader) throws(KafkaDecodingError) -> [TopicPartition] {
        let n = try r.readUnsignedVarlong("partitions")
        guard n <= UInt64(r.remaining) else {
            throw KafkaDecodingError(field: "partitions", offset: r.offset, kind: .lengthPastEnd(length: Int(clamping: n), available: r.remaining))
        }
        var out: [TopicPartition] = []
        for _ in 0 ..< n { out.append(try readPartition(&r)) }
        return out
    }

    static func writeStart(_ s: StartOffset, into w: inout ByteWriter) {
        switch s {
        case .start: w.writeUInt8(0)
        case .end: w.writeUInt8(1)
        case .exact(let o): w.writeUInt8(2); w.writeVarlong(o)
        case .exactWithEpoch(let o, let e): w.writeUInt8(3); w.writeVarlong(o); w.writeInt32(e)
        case .relativeToStart(let n): w.writeUInt8(4); w.writeVarlong(n)
        case .relativeToEnd(let n): w.writeUInt8(5); w.writeVarlong(n)
        case .afterTimestamp(let t): w.writeUInt8(6); w.writeVarlong(t)
        }
    }

    static func readStart(_ r: inout ByteReader) throws(KafkaDecodingError) -> StartOffset {
        let at = r.offset
        switch try r.readUInt8("start") {
        case 0: return .start
        case 1: return .end
        case 2: return .exact(try r.readVarlong("start.offset"))
        case 3:
            let o = try r.readVarlong("start.offset")
            return .exactWithEpoch(o, epoch: try r.readInt32("start.epoch"))
        case 4: return .relativeToStart(try r.readVarlong("start.n"))
        case 5: return .relativeToEnd(try r.readVarlong("start.n"))
        case 6: return .afterTimestamp(try r.readVarlong("start.timestamp"))
        case let k: throw KafkaDecodingError(field: "start", offset: at, kind: .invalidValue("start offset kind \(k)"))
        }
    }

    static func writeConsumerError(_ e: ConsumerPartitionError, into w: inout ByteWriter) {
        switch e {
        case .corruptBatch(let o, let reason): w.writeUInt8(0); w.writeVarlong(o); writeString(reason, into: &w)
        case .offsetOutOfRange(let o): w.writeUInt8(1); w.writeVarlong(o)
        case .broker(let c): w.writeUInt8(2); w.writeInt16(c.rawValue)
        case .batchTooLarge(let o): w.writeUInt8(3); w.writeVarlong(o)
        }
    }

    static func readConsumerError(_ r: inout ByteReader) throws(KafkaDecodingError) -> ConsumerPartitionError {
        let at = r.offset
        switch try r.readUInt8("error") {
        case 0:
            let o = try r.readVarlong("error.offset")
            return .corruptBatch(offset: o, reason: try readString(&r, "error.reason"))
        case 1: return .offsetOutOfRange(offset: try r.readVarlong("error.offset"))
        case 2: return .broker(KafkaErrorCode(rawValue: try r.readInt16("error.code")))
        case 3: return .batchTooLarge(offset: try r.readVarlong("error.offset"))
        case let k: throw KafkaDecodingError(field: "error", offset: at, kind: .invalidValue("consumer error kind \(k)"))
        }
    }

    static func writeOptionalBytes(_ b: [UInt8]?, into w: inout ByteWriter) {
        if let b { w.writeUInt8(1); writeBytes(b, into: &w) } else { w.writeUInt8(0) }
    }

    static func readOptionalBytes(_ r: inout ByteReader, _ field: StaticString) throws(KafkaDecodingError) -> [UInt8]? {
        try r.readUInt8(field) == 1 ? try readBytes(&r, field) : nil
    }

    static func writeProducerRecord(_ r: ProducerRecord, into w: inout ByteWriter) {
        writeString(r.topic, into: &w)
        if let p = r.partition { w.writeUInt8(1); w.writeInt32(p) } else { w.writeUInt8(0) }
        writeOptionalBytes(r.key, into: &w)
        writeOptionalBytes(r.value, into: &w)
        w.writeUnsignedVarlong(UInt64(r.headers.count))
        for h in r.headers {
            writeString(h.key, into: &w)
            writeOptionalBytes(h.value, into: &w)
        }
        w.writeVarlong(r.timestamp)
        w.writeUnsignedVarlong(r.token)
    }

    static func readProducerRecord(_ r: inout ByteReader) throws(KafkaDecodingError) -> ProducerRecord {
        let topic = try readString(&r, "record.topic")
        let partition: Int32? = try r.readUInt8("record.partition") == 1 ? try r.readInt32("record.partition") : nil
        let key = try readOptionalBytes(&r, "record.key")
        let value = try readOptionalBytes(&r, "record.value")
        let n = try r.readUnsignedVarlong("record.headers")
        guard n <= UInt64(r.remaining) else {
            throw KafkaDecodingError(field: "record.headers", offset: r.offset, kind: .lengthPastEnd(length: Int(clamping: n), available: r.remaining))
        }
        var headers: [RecordHeader] = []
        for _ in 0 ..< n {
            let k = try readString(&r, "header.key")
            headers.append(RecordHeader(key: k, value: try readOptionalBytes(&r, "header.value")))
        }
        let timestamp = try r.readVarlong("record.timestamp")
        return ProducerRecord(topic: topic, partition: partition, key: key, value: value, headers: headers, timestamp: timestamp,
                              token: try r.readUnsignedVarlong("record.token"))
    }

    static func writeTarget(_ t: RequestTarget, into w: inout ByteWriter) {
        switch t {
        case .automatic: w.writeUInt8(0)
        case .anyBroker: w.writeUInt8(1)
        case .broker(let n): w.writeUInt8(2); w.writeInt32(n)
        case .controller: w.writeUInt8(3)
        case .groupCoordinator(let g): w.writeUInt8(4); writeString(g, into: &w)
        case .transactionCoordinator(let t): w.writeUInt8(5); writeString(t, into: &w)
        case .partitionLeaders: w.writeUInt8(6)
        case .keyCoordinators: w.writeUInt8(7)
        case .everyBroker: w.writeUInt8(8)
        case .namedBrokers: w.writeUInt8(9)
        }
    }

    static func readTarget(_ r: inout ByteReader) throws(KafkaDecodingError) -> RequestTarget {
        let at = r.offset
        switch try r.readUInt8("target") {
        case 0: return .automatic
        case 1: return .anyBroker
        case 2: return .broker(try r.readInt32("target.broker"))
        case 3: return .controller
        case 4: return .groupCoordinator(try readString(&r, "target.group"))
        case 5: return .transactionCoordinator(try readString(&r, "target.transactionalId"))
        case 6: return .partitionLeaders
        case 7: return .keyCoordinators
        case 8: return .everyBroker
        case 9: return .namedBrokers
        case let k: throw KafkaDecodingError(field: "target", offset: at, kind: .invalidValue("request target \(k)"))
        }
    }

    /// The segment's header and the format version it was written in.
    static func readHeader(_ r: inout ByteReader) throws(FlightRecordingError) -> (RecordingHeader, UInt16) {
        do {
            guard r.remaining >= RecordingFormat.magic.count,
                  try r.readRaw(RecordingFormat.magic.count, "magic") == RecordingFormat.magic else { throw FlightRecordingError.notARecording }
            let version = try r.readUInt16("version")
            guard (RecordingFormat.oldestReadable ... RecordingFormat.version).contains(version) else {
                throw FlightRecordingError.unsupportedFormatVersion(version)
            }
            let id = try r.readUInt64("recordingId")
            let index = try r.readUInt32("segmentIndex")
            var start: RecordingStart?
            if index == 1 {
                let seed = try r.readUInt64("seed")
                let lib = try readString(&r, "libraryVersion")
                let config = try readBytes(&r, "config")
                start = RecordingStart(seed: seed, libraryVersion: lib, config: config)
            }
            return (RecordingHeader(recordingId: id, segmentIndex: index, start: start), version)
        } catch let e as FlightRecordingError {
            throw e
        } catch {
            throw .corrupt("header: \(error)")
        }
    }

    /// The next entry, or nil when the bytes end inside it. `index` and `segment` name the
    /// entry in a checksum error.
    static func readEntry(_ r: inout ByteReader, format: UInt16, index: Int, segment: Int) throws(FlightRecordingError) -> RecordingEntry? {
        let startOffset = r.offset
        let length: UInt64
        do { length = try r.readUnsignedVarlong("entry.length") } catch {
            if case .truncated = error.kind { return nil }
            throw .corrupt("entry at byte \(startOffset): \(error)")
        }
        let checksumBytes = format >= 5 ? 4 : 0
        guard length <= UInt64(r.remaining), Int(length) + checksumBytes <= r.remaining else { return nil }
        let bodyStart = r.offset
        let bytes = try! r.readRaw(Int(length), "entry")
        if checksumBytes > 0, try! r.readUInt32("entry.checksum") != CRC32C.checksum(bytes) {
            throw .damagedEntry(entry: index, segment: segment, offset: startOffset)
        }
        var e = ByteReader(bytes)
        do {
            let rawKind = try e.readUInt8("kind")
            guard let kind = RecordingFormat.Kind(rawValue: rawKind) else { throw FlightRecordingError.unknownEntryKind(rawKind) }
            let now = Instant(nanoseconds: try e.readUnsignedVarlong("now"))
            let observed = try e.readUnsignedVarlong("actionsObserved")
            let digest = try e.readUInt64("digest")
            let payload: RecordingEntry.Payload
            switch kind {
            case .end: payload = .end
            case .connectionOpened: payload = .input(.connectionOpened(ConnectionID(try e.readUnsignedVarlong("connection"))))
            case .connectionClosed: payload = .input(.connectionClosed(ConnectionID(try e.readUnsignedVarlong("connection"))))
            case .connectionFailed:
                let c = ConnectionID(try e.readUnsignedVarlong("connection"))
                payload = .input(.connectionFailed(c, reason: try readFailure(&e)))
            case .cancel: payload = .input(.cancel(PromiseID(try e.readUnsignedVarlong("promise"))))
            case .assign:
                let n = try e.readUnsignedVarlong("assign.count")
                guard n <= UInt64(e.remaining) else { throw FlightRecordingError.corrupt("assignment count \(n)") }
                var a: [TopicPartition: StartOffset] = [:]
                for _ in 0 ..< n { a[try readPartition(&e)] = try readStart(&e) }
                payload = .input(.assign(a))
            case .unassign: payload = .input(.unassign(try readPartitions(&e)))
            case .pause: payload = .input(.pause(try readPartitions(&e)))
            case .resume: payload = .input(.resume(try readPartitions(&e)))
            case .subscribe:
                var lists: [[String]] = []
                for _ in 0 ..< 3 {
                    let n = try e.readUnsignedVarlong("subscribe.count")
                    guard n <= UInt64(e.remaining) else { throw FlightRecordingError.corrupt("subscription list of \(n)") }
                    var l: [String] = []
                    for _ in 0 ..< n { l.append(try readString(&e, "subscribe.name")) }
                    lists.append(l)
                }
                payload = .input(.subscribe(TopicSubscription(topics: lists[0], patterns: lists[1], exclusions: lists[2], start: try readStart(&e))))
            case .seek:
                let tp = try readPartition(&e)
                payload = .input(.seek(tp, try readStart(&e)))
            case .skip: payload = .input(.skip(try readPartition(&e)))
            case .stopPartition:
                let tp = try readPartition(&e)
                let offset = try e.readVarlong("stop.offset")
                let error = try readConsumerError(&e)
                payload = .input(.stopPartition(tp, offset: offset, error: error, skipTo: try e.readVarlong("stop.skipTo")))
            case .fetchConsumed: payload = .input(.fetchConsumed(Int(try e.readVarlong("fetchConsumed"))))
            case .produce:
                let n = try e.readUnsignedVarlong("produce.count")
                guard n <= UInt64(e.remaining) else { throw FlightRecordingError.corrupt("record count \(n)") }
                var records: [ProducerRecord] = []
                for _ in 0 ..< n { records.append(try readProducerRecord(&e)) }
                payload = .input(.produce(records))
            case .flush: payload = .input(.flush(PromiseID(try e.readUnsignedVarlong("promise"))))
            case .beginTransaction: payload = .input(.beginTransaction(PromiseID(try e.readUnsignedVarlong("promise"))))
            case .endTransaction:
                let commit = try e.readBool("endTransaction.commit")
                payload = .input(.endTransaction(commit: commit, PromiseID(try e.readUnsignedVarlong("promise"))))
            case .sendOffsetsToTransaction:
                let p = PromiseID(try e.readUnsignedVarlong("promise"))
                let some = try e.readUInt8("txnOffsets.some") != 0
                payload = .input(.sendOffsetsToTransaction(some ? try RecordingWire.readTransactionOffsets(&e) : nil, p))
            case .transactionEnded:
                let committed = try e.readBool("transactionEnded.committed")
                let n = try e.readUnsignedVarlong("transactionEnded.groups")
                guard n <= UInt64(e.remaining) else { throw FlightRecordingError.corrupt("group count \(n)") }
                var offsets: [String: [TopicPartition: CommitPosition]] = [:]
                for _ in 0 ..< n {
                    let g = try readString(&e, "transactionEnded.group")
                    offsets[g] = try readPositions(&e)
                }
                payload = .input(.transactionEnded(committed: committed, offsets: offsets))
            case .transactionRebalanced: payload = .input(.transactionRebalanced)
            case .joinGroup: payload = .input(.joinGroup(try readGroupConfig(&e)))
            case .leaveGroup: payload = .input(.leaveGroup(PromiseID(try e.readUnsignedVarlong("promise"))))
            case .commitOffsets:
                let p = PromiseID(try e.readUnsignedVarlong("promise"))
                let some = try e.readUInt8("commit.some") != 0
                payload = .input(.commitOffsets(some ? try readPositions(&e) : nil, p))
            case .groupConsumed: payload = .input(.groupConsumed(try readPositions(&e)))
            case .groupRevocationHandled: payload = .input(.groupRevocationHandled(try e.readUnsignedVarlong("revocation")))
            case .bytesReceived:
                let c = ConnectionID(try e.readUnsignedVarlong("connection"))
                payload = .input(.bytesReceived(c, try readBytes(&e, "bytes")))
            case .request:
                let promise = PromiseID(try e.readUnsignedVarlong("promise"))
                let key = ApiKey(rawValue: try e.readInt16("apiKey"))
                let version = try e.readInt16("version")
                let body = try readBytes(&e, "body")
                let target = try readTarget(&e)
                var pin: ClosedRange<Int16>?
                if try e.readUInt8("pin") == 1 {
                    let lo = try e.readInt16("pin.lower"), hi = try e.readInt16("pin.upper")
                    guard lo <= hi else { throw FlightRecordingError.corrupt("pin \(lo)...\(hi)") }
                    pin = lo ... hi
                }
                var maxRetries: Int?
                if try e.readUInt8("maxRetries") == 1 { maxRetries = Int(try e.readVarlong("maxRetries")) }
                var requestBytes = ByteReader(body)
                let request: any KafkaRequest
                do { request = try KafkaProtocol.decodeRequest(apiKey: key, version: version, from: &requestBytes) } catch {
                    throw FlightRecordingError.corrupt("the recorded \(key) v\(version) request does not decode: \(error)")
                }
                payload = .input(.request(UserRequest(request, to: target, pin: pin, maxRetries: maxRetries, promise: promise)))
            case .tick: payload = .input(.tick)
            case .close: payload = .input(.close)
            case .oauthToken, .oauthTokenFailed:
                throw FlightRecordingError.corrupt("an OAUTHBEARER token answer of an older build's synchronous provider (entry at byte \(bodyStart)): this build cannot replay it")
            case .oauthTokenAnswer:
                let c = ConnectionID(try e.readUnsignedVarlong("connection"))
                if try e.readUInt8("ok") == 1 {
                    let token = try readString(&e, "token")
                    let n = try e.readUnsignedVarlong("extensions")
                    guard n <= UInt64(e.remaining) else { throw FlightRecordingError.corrupt("extension count \(n)") }
                    var ext: [String: String] = [:]
                    for _ in 0 ..< n { ext[try readString(&e, "extension.key")] = try readString(&e, "extension.value") }
                    payload = .input(.oauthToken(c, .success(OAuthBearerToken(token: token, extensions: ext))))
                } else {
                    payload = .input(.oauthToken(c, .failure(OAuthTokenFailure(try readString(&e, "message")))))
                }
            }
            guard e.isAtEnd else { throw FlightRecordingError.corrupt("\(e.remaining) bytes left in the entry at byte \(bodyStart)") }
            return RecordingEntry(now: now, actionsObserved: observed, digest: digest, payload: payload)
        } catch let err as FlightRecordingError {
            throw err
        } catch {
            throw .corrupt("entry at byte \(bodyStart): \(error)")
        }
    }
}
