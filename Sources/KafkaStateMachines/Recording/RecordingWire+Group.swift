import KafkaProtocol

/// The group consumer's inputs in the flight recording: its configuration (balancers by
/// protocol name: only built-in balancers can be replayed) and commit positions.
extension RecordingWire {
    static func writeOptionalString(_ s: String?, into w: inout ByteWriter) {
        if let s { w.writeUInt8(1); writeString(s, into: &w) } else { w.writeUInt8(0) }
    }

    static func readOptionalString(_ r: inout ByteReader, _ field: StaticString) throws(KafkaDecodingError) -> String? {
        try r.readUInt8(field) == 0 ? nil : try readString(&r, field)
    }

    static func writePositions(_ p: [TopicPartition: CommitPosition], into w: inout ByteWriter) {
        let keys = p.keys.sorted()
        w.writeUnsignedVarlong(UInt64(keys.count))
        for tp in keys {
            writePartition(tp, into: &w)
            w.writeVarlong(p[tp]!.offset)
            w.writeInt32(p[tp]!.leaderEpoch)
            writeOptionalString(p[tp]!.metadata, into: &w)
        }
    }

    static func readPositions(_ r: inout ByteReader) throws -> [TopicPartition: CommitPosition] {
        let n = try r.readUnsignedVarlong("positions.count")
        guard n <= UInt64(r.remaining) else { throw FlightRecordingError.corrupt("position count \(n)") }
        var out: [TopicPartition: CommitPosition] = [:]
        for _ in 0 ..< n {
            let tp = try readPartition(&r)
            let offset = try r.readVarlong("position.offset")
            let epoch = try r.readInt32("position.epoch")
            out[tp] = CommitPosition(offset: offset, leaderEpoch: epoch, metadata: try readOptionalString(&r, "position.metadata"))
        }
        return out
    }

    static func writeGroupConfig(_ c: GroupConfig, into w: inout ByteWriter) {
        writeString(c.groupId, into: &w)
        writeOptionalString(c.instanceId, into: &w)
        for list in [c.subscription.topics, c.subscription.patterns, c.subscription.exclusions] {
            w.writeUnsignedVarlong(UInt64(list.count))
            for t in list { writeString(t, into: &w) }
        }
        writeStart(c.subscription.start, into: &w)
        w.writeUnsignedVarlong(UInt64(c.balancers.count))
        for b in c.balancers { writeString(b.protocolName, into: &w) }
        for i in [c.sessionTimeout, c.rebalanceTimeout, c.heartbeatInterval] { w.writeUnsignedVarlong(i.nanoseconds) }
        if let a = c.autocommitInterval { w.writeUInt8(1); w.writeUnsignedVarlong(a.nanoseconds) } else { w.writeUInt8(0) }
        w.writeUInt8(c.commitOnRevoke ? 1 : 0)
        writeStart(c.noCommitStart, into: &w)
        w.writeUInt8(c.requireStable ? 1 : 0)
        writeOptionalString(c.rack, into: &w)
        w.writeUnsignedVarlong(c.retryBackoff.initialInterval.nanoseconds)
        w.writeUnsignedVarlong(c.retryBackoff.maxInterval.nanoseconds)
        w.writeUInt64(c.retryBackoff.jitter.bitPattern)
        w.writeUInt8(c.transactional ? 1 : 0)
        // Added with KIP-848; a recording made before ends here (read as classic).
        w.writeUInt8(c.groupProtocol == .consumer ? 1 : 0)
        writeOptionalString(c.serverAssignor, into: &w)
    }

    static func writeTransactionOffsets(_ o: TransactionOffsets, into w: inout ByteWriter) {
        writeString(o.groupId, into: &w)
        w.writeInt32(o.generationId)
        writeString(o.memberId, into: &w)
        writeOptionalString(o.instanceId, into: &w)
        writePositions(o.offsets, into: &w)
    }

    static func readTransactionOffsets(_ r: inout ByteReader) throws -> TransactionOffsets {
        let group = try readString(&r, "txnOffsets.group")
        let generation = try r.readInt32("txnOffsets.generation")
        let member = try readString(&r, "txnOffsets.member")
        let instance = try readOptionalString(&r, "txnOffsets.instance")
        return TransactionOffsets(groupId: group, generationId: generation, memberId: member, instanceId: instance,
                                  offsets: try readPositions(&r))
    }

    static func readGroupConfig(_ r: inout ByteReader) throws -> GroupConfig {
        let groupId = try readString(&r, "group.id")
        let instanceId = try readOptionalString(&r, "group.instance")
        var lists: [[String]] = []
        for _ in 0 ..< 3 {
            let n = try r.readUnsignedVarlong("group.subscription.count")
            guard n <= UInt64(r.remaining) else { throw FlightRecordingError.corrupt("subscription list of \(n)") }
            var l: [String] = []
            for _ in 0 ..< n { l.append(try readString(&r, "group.subscription.name")) }
            lists.append(l)
        }
        let sub = TopicSubscription(topics: lists[0], patterns: lists[1], exclusions: lists[2], start: try readStart(&r))
        let nb = try r.readUnsignedVarlong("group.balancers")
        guard nb <= UInt64(r.remaining) else { throw FlightRecordingError.corrupt("balancer count \(nb)") }
        var balancers: [any GroupBalancer] = []
        for _ in 0 ..< nb {
            let name = try readString(&r, "group.balancer")
            guard let b = BuiltInBalancers.named(name) else {
                throw FlightRecordingError.badConfig("balancer \(name) is not built in; a recording made with a custom balancer cannot be replayed")
            }
            balancers.append(b)
        }
        var c = GroupConfig(groupId: groupId, instanceId: instanceId, subscription: sub, balancers: balancers)
        c.sessionTimeout = Interval(nanoseconds: try r.readUnsignedVarlong("group.session"))
        c.rebalanceTimeout = Interval(nanoseconds: try r.readUnsignedVarlong("group.rebalance"))
        c.heartbeatInterval = Interval(nanoseconds: try r.readUnsignedVarlong("group.heartbeat"))
        c.autocommitInterval = try r.readUInt8("group.autocommit") == 0 ? nil : Interval(nanoseconds: try r.readUnsignedVarlong("group.autocommit"))
        c.commitOnRevoke = try r.readUInt8("group.commitOnRevoke") != 0
        c.noCommitStart = try readStart(&r)
        c.requireStable = try r.readUInt8("group.requireStable") != 0
        c.rack = try readOptionalString(&r, "group.rack")
        let initial = Interval(nanoseconds: try r.readUnsignedVarlong("group.backoff.initial"))
        let max = Interval(nanoseconds: try r.readUnsignedVarlong("group.backoff.max"))
        c.retryBackoff = BackoffPolicy(initialInterval: initial, maxInterval: max, jitter: Double(bitPattern: try r.readUInt64("group.backoff.jitter")))
        c.transactional = try r.readUInt8("group.transactional") != 0
        if r.remaining > 0 {
            switch try r.readUInt8("group.protocol") {
            case 0: c.groupProtocol = .classic
            case 1: c.groupProtocol = .consumer
            case let x: throw FlightRecordingError.corrupt("group protocol \(x)")
            }
            c.serverAssignor = try readOptionalString(&r, "group.serverAssignor")
        }
        return c
    }
}
