import Testing
@testable import FakeCluster

/// Runs a seeded random workload over the whole state layer and returns a transcript of
/// every result plus the final state. Two runs with one seed must agree exactly; the
/// dictionaries inside are separate instances, so an order leak has a chance to show.
private func workload(seed: UInt64) -> (transcript: [String], state: ClusterState) {
    var ops = SeededGenerator(seed: seed &+ 1)
    var c = ClusterState(brokers: (1 ... 4).map { .init(nodeId: Int32($0), host: "b\($0)", port: 9092, rack: "r\($0 % 2)") },
                         seed: seed)
    var out: [String] = []
    for name in ["a", "b", "c"] { out.append("\(c.createTopic(name: name, partitions: 3, replicationFactor: 3))") }
    var now = Instant.zero
    var sequences: [String: Int32] = [:] // per producer and partition, as Kafka keeps them
    var memberIds: [String] = []
    for step in 0 ..< 400 {
        now = now.adding(milliseconds: Int64(ops.next(upperBound: UInt64(500))))
        let tps = c.metadata.allPartitions
        let tp = tps[Int(ops.next(upperBound: UInt64(tps.count)))]
        switch ops.next(upperBound: UInt64(10)) {
        case 0, 1, 2:
            let broker = c.metadata.partition(tp)!.leader
            let pid = Int64(ops.next(upperBound: UInt64(3)))
            let count = Int(ops.next(upperBound: UInt64(4))) + 1
            let key = "\(pid)/\(tp)"
            let seq = sequences[key] ?? 0
            let r = c.produce(broker: broker, tp, records: makeBatch(count: count, timestamp: now.milliseconds, producerId: 100 + pid,
                                                                  epoch: 0, sequence: seq), acks: -1, now: now)
            if r.error == .noError { sequences[key] = ProducerSequence.add(seq, Int32(count)) }
            out.append("produce \(tp) \(r)")
        case 3:
            out.append("move \(tp) \(c.moveLeader(tp))")
        case 4:
            let b = Int32(ops.next(upperBound: UInt64(4))) + 1
            if c.metadata.isUp(b), c.metadata.liveBrokerIds.count > 2 { out.append("stop \(b) \(c.stopBroker(b, now: now))") }
            else { out.append("restart \(b) \(c.restartBroker(b, now: now))") }
        case 5:
            let leader = c.metadata.partition(tp)!.leader
            let f = c.fetchPartition(broker: leader, .init(topicPartition: tp, fetchOffset: 0, partitionMaxBytes: 300,
                                                           isolation: .readCommitted, clientRack: "r1"), maxBytes: 1000)
            out.append("fetch \(tp) \(f.error) \(f.records.count) \(f.highWatermark) \(f.preferredReadReplica)")
        case 6:
            var rng = c.rng
            let o = c.groups.joinGroup(.init(groupId: "g", memberId: memberIds.randomElement(using: &ops) ?? "",
                                             protocols: [.init(name: "range", metadata: [])], version: 3), now: now, using: &rng)
            c.rng = rng
            if case .immediate(let r) = o, r.error == .noError, !memberIds.contains(r.memberId) { memberIds.append(r.memberId) }
            out.append("join \(o) \(c.groups.takeCompletions())")
        case 7:
            if let m = memberIds.randomElement(using: &ops) {
                let gen = c.groups.groups["g"]?.generationId ?? 0
                out.append("sync \(c.groups.syncGroup(.init(groupId: "g", generationId: gen, memberId: m, groupInstanceId: nil, assignments: memberIds.map { ($0, [1]) }), now: now))")
                out.append("hb \(c.groups.heartbeat(groupId: "g", memberId: m, groupInstanceId: nil, generationId: gen, now: now))")
            }
        case 8:
            let tid = "tx\(step % 2)"
            let initResult = c.transactions.initProducerId(transactionalId: tid, timeoutMs: 2_000, now: now)
            out.append("txn init \(initResult)")
            if case .abortingOngoing(let comp) = initResult { out.append("txn fence \(c.finishTransaction(comp, now: now))") }
            if case .success(let pe) = initResult {
                out.append("txn add \(c.transactions.addPartitions(transactionalId: tid, producerId: pe.producerId, producerEpoch: pe.producerEpoch, [tp], now: now))")
                out.append("txn produce \(c.produce(broker: c.metadata.partition(tp)!.leader, tp, records: makeBatch(producerId: pe.producerId, epoch: pe.producerEpoch, sequence: 0, transactional: true), acks: -1, now: now))")
                if ops.next(upperBound: UInt64(2)) == 0,
                   case .ending(let comp) = c.transactions.endTransaction(transactionalId: tid, producerId: pe.producerId, producerEpoch: pe.producerEpoch, commit: step % 3 == 0, now: now) {
                    out.append("txn end \(c.finishTransaction(comp, now: now))")
                }
            }
        default:
            let t = c.tick(now: now)
            out.append("tick \(t)")
        }
    }
    return (out, c)
}

@Suite struct DeterminismTests {
    @Test(arguments: [1, 2, 3] as [UInt64])
    func sameSeedSameRun(seed: UInt64) {
        let a = workload(seed: seed), b = workload(seed: seed)
        #expect(a.transcript == b.transcript)
        #expect(a.state == b.state)
        // The workload really exercises the layer.
        #expect(a.transcript.filter { $0.hasPrefix("produce") && $0.contains("(error: NONE (0),") }.count > 20)
        #expect(a.transcript.contains { $0.hasPrefix("stop") })
        #expect(a.transcript.contains { $0.hasPrefix("txn end") })
        #expect(!a.state.groups.groups.isEmpty)
    }

    @Test func differentSeedsDiffer() {
        #expect(workload(seed: 1).transcript != workload(seed: 2).transcript)
    }
}
