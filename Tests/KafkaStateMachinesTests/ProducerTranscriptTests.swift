import Testing
@testable import KafkaStateMachines

private let t0 = TopicPartition("t", 0)
private let t1 = TopicPartition("t", 1)
private let t2 = TopicPartition("t", 2)

/// Engine transcripts of the producer's steady state: sequence numbers, pipelining, linger
/// and flush, buffer limits, acks. A `ProducerWorld` answers the plumbing; each test
/// answers the Produce requests itself and checks what went on the wire and what came back.
@Suite struct ProducerTranscriptTests {
    /// Each partition numbers its batches from 0, continuing by record count; the producer
    /// id and epoch from InitProducerId (asked with -1/-1 first) are in every batch.
    @Test func sequencesStartAtZeroAndContinuePerPartition() throws {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1), .init(leader: 1)]
        w.produceTogether("t", 0, [1, 2])
        w.produceTogether("t", 0, [3, 4, 5])
        w.produceTogether("t", 1, [6])
        w.produceTogether("t", 0, [7])
        w.produceTogether("t", 1, [8, 9])

        #expect(w.inits.count == 1)
        #expect(w.inits.first?.producerId == -1 && w.inits.first?.producerEpoch == -1)
        let batches = w.allSent.flatMap(\.batches)
        #expect(batches.map(\.tp) == [t0, t0, t1, t0, t1])
        #expect(batches.map(\.sequence) == [0, 2, 0, 5, 1])
        #expect(batches.map(\.values) == [["v1", "v2"], ["v3", "v4", "v5"], ["v6"], ["v7"], ["v8", "v9"]])
        #expect(batches.allSatisfy { $0.header.producerId == 1000 && $0.header.producerEpoch == 0 })
        #expect(batches.allSatisfy { $0.codec == CompressionCodec.none && Int($0.header.recordCount) == $0.values.count })
        #expect(w.allSent.allSatisfy { $0.broker == 1 && $0.request.acks == -1 })

        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1, 2], [3, 4, 5], [6], [7], [8, 9]])
        #expect(w.reports.map(\.partition) == [0, 0, 1, 0, 1])
        #expect(w.reports.map(\.baseOffset) == [0, 2, 0, 5, 1])
        #expect(w.reports.allSatisfy { $0.error == nil })
        #expect(w.h.engine.producerBufferedRecords == 0)
    }

    /// At most `maxInFlightPerBroker` Produce requests are outstanding to one broker, across
    /// its partitions; another broker is not held up; an answer lets the next one go.
    @Test func fiveRequestsInFlightPerBrokerThenTheNextWaits() {
        var w = ProducerWorld()
        w.topics["t"] = [.init(leader: 1), .init(leader: 1), .init(leader: 2)]
        w.produce("t", 0, [1])
        w.produce("t", 1, [2])
        w.produce("t", 0, [3])
        w.produce("t", 1, [4])
        w.produce("t", 0, [5])
        #expect(w.held.count == 5)
        w.produce("t", 1, [6])
        w.produce("t", 1, [7])  // joins 6's open batch: it could not go
        #expect(w.held.count == 5, "a sixth request to broker 1")
        w.produce("t", 2, [8])
        #expect(w.held.count == 6 && w.held.last?.broker == 2)

        w.answer(0)
        #expect(w.reports.map(\.tokens) == [[1]])
        #expect(w.held.count == 6)
        let next = w.allSent.last!
        #expect(next.broker == 1)
        #expect(next.batches.map(\.tp) == [t1] && next.batches[0].values == ["v6", "v7"] && next.batches[0].sequence == 2)
        w.answerAll()
        #expect(w.deliveredTokens.sorted() == Array(1 ... 8))
        #expect(w.log[t0] == ["v1", "v3", "v5"] && w.log[t1] == ["v2", "v4", "v6", "v7"] && w.log[t2] == ["v8"])
    }

    /// The config's in-flight limit is what counts: with 2, the third request waits.
    @Test func inFlightLimitFollowsTheConfiguration() {
        var w = ProducerWorld { $0.maxInFlightPerBroker = 2 }
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        w.produce("t", 0, [3])
        #expect(w.held.count == 2)
        w.answer()
        #expect(w.held.count == 2 && w.held.last?.batches.first?.values == ["v3"] && w.held.last?.batches.first?.sequence == 2)
    }

    /// A request carries batches up to `maxRequestBytes` (here two of these batches, not
    /// three); the next request starts at the first partition left out, so partitions
    /// early in order cannot keep the later ones waiting.
    @Test func requestsStopAtMaxRequestBytesAndTheNextStartsWhereOneStopped() {
        var w = ProducerWorld {
            $0.maxInFlightPerBroker = 1
            $0.maxRequestBytes = 400
        }
        w.topics["t"] = [.init(leader: 1), .init(leader: 1), .init(leader: 1), .init(leader: 1)]
        let t3 = TopicPartition("t", 3)
        w.produce("t", 0, [1], size: 100)
        #expect(w.held.count == 1)
        w.produce("t", 0, [2], size: 100)
        w.produce("t", 1, [3], size: 100)
        w.produce("t", 2, [4], size: 100)
        w.produce("t", 3, [5], size: 100)
        w.answer()
        #expect(w.held.map { $0.batches.map(\.tp) } == [[t0, t1]], "two batches fit, the third does not")
        #expect(w.held[0].request.topicData.count == 1)
        w.produce("t", 0, [6], size: 100)
        w.produce("t", 1, [7], size: 100)
        w.answer()
        #expect(w.held.map { $0.batches.map(\.tp) } == [[t2, t3]], "p2 and p3 go before p0 and p1 again")
        w.answer()
        #expect(w.held.map { $0.batches.map(\.tp) } == [[t0, t1]])
        w.answerAll()
        #expect(w.allSent.allSatisfy { s in s.batches.count == 1 || s.request.topicData.flatMap(\.partitionData).reduce(0) { $0 + $1.records!.count } <= 400 })
        #expect(w.deliveredTokens.sorted() == Array(1 ... 7))
        // Values are "v<token>" padded with dots to 100 bytes.
        func names(_ tp: TopicPartition) -> [String] { (w.log[tp] ?? []).map { String($0.prefix { $0 != "." }) } }
        #expect(names(t0) == ["v1", "v2", "v6"] && names(t1) == ["v3", "v7"] && names(t2) == ["v4"] && names(t3) == ["v5"])
    }

    /// With linger L a batch waits until it is L old; a tick then sends it. A batch that
    /// fills goes at once.
    @Test func lingerHoldsBatchesUntilDueOrFull() {
        var w = ProducerWorld {
            $0.linger = .milliseconds(10)
            $0.maxBatchBytes = 300
        }
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        #expect(w.allSent.isEmpty)
        #expect(w.h.engine.nextDeadline() == .milliseconds(10))
        w.run(until: 9)
        #expect(w.allSent.isEmpty)
        w.run(until: 10)
        #expect(w.allSent.map { $0.batches.map(\.values) } == [[["v1", "v2"]]])
        w.answerAll()

        // 100-byte records: two fill a 300-byte batch, the third opens another.
        w.advance(to: 20)
        w.produce("t", 0, [3, 4, 5], size: 100)
        #expect(w.allSent.count == 2, "the full batch goes before its linger")
        #expect(w.allSent.last?.batches.first?.values.count == 2)
        w.run(until: 29)
        #expect(w.allSent.count == 2)
        w.run(until: 30)
        #expect(w.allSent.count == 3)
        #expect(w.allSent.last?.batches.first?.values.count == 1)
        #expect(w.allSent.last?.batches.first?.sequence == 4)
    }

    /// Flush sends lingering batches at once, and `.flushed` comes only after the last
    /// record buffered (before or during the flush) is reported.
    @Test func flushSendsAtOnceAndCompletesAfterEveryReport() {
        var w = ProducerWorld { $0.linger = .seconds(1) }
        w.topics["t"] = [.init(leader: 1), .init(leader: 2)]
        w.produce("t", 0, [1, 2])
        w.produce("t", 1, [3])
        #expect(w.allSent.isEmpty)
        w.flush(7)
        #expect(w.held.count == 2)
        #expect(w.notices.isEmpty)
        w.produce("t", 0, [4])  // while flushing: no linger, and the flush waits for it
        #expect(w.held.count == 3)
        w.answer(0)
        w.answer(0)
        #expect(w.notices.isEmpty)
        w.answer(0)
        #expect(w.notices == [.flushed(PromiseID(7))])
        // The flushed notice is the last action, after every delivery.
        let tail = w.h.log.compactMap { a -> String? in
            switch a {
            case .delivery(let r): return "d\(r.tokens)"
            case .producer(let n): return "\(n)"
            default: return nil
            }
        }
        #expect(tail.last == "flushed(\(PromiseID(7)))")
        #expect(w.deliveredTokens.sorted() == [1, 2, 3, 4])
        // A flush with nothing buffered completes at once.
        w.flush(8)
        #expect(w.notices.last == .flushed(PromiseID(8)))
    }

    /// Manual flushing: nothing is sent however long records wait, until `flush`.
    @Test func manualFlushingSendsOnlyOnFlush() {
        var w = ProducerWorld { $0.manualFlushing = true }
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1, 2, 3])
        w.run(until: 5000)
        #expect(w.allSent.isEmpty)
        #expect(w.h.engine.producerBufferedRecords == 3)
        w.flush(1)
        #expect(w.allSent.count == 1 && w.allSent[0].batches[0].values == ["v1", "v2", "v3"])
        w.answerAll()
        #expect(w.notices == [.flushed(PromiseID(1))])
        #expect(w.reports.map(\.tokens) == [[1, 2, 3]])
    }

    /// maxBufferedRecords: the call is refused with .bufferFull and accepted again once a
    /// delivery frees room.
    @Test func recordLimitRefusesThenAcceptsAfterDelivery() {
        var w = ProducerWorld { $0.maxBufferedRecords = 3 }
        w.topics["t"] = [.init(leader: 1)]
        #expect(w.produce("t", 0, [1, 2, 3]) == [nil, nil, nil])
        #expect(w.produce("t", 0, [4]) == [.bufferFull])
        #expect(w.h.engine.producerBufferedRecords == 3)
        w.answer()
        #expect(w.h.engine.producerBufferedRecords == 2)
        #expect(w.produce("t", 0, [5]) == [nil])
        #expect(w.produce("t", 0, [6]) == [.bufferFull])
        w.answerAll()
        #expect(w.reports.map(\.tokens) == [[1], [2], [3], [5]])
        #expect(w.h.engine.producerBufferedRecords == 0 && w.h.engine.producerBufferedBytes == 0)
    }

    /// maxBufferedBytes: the same, counted in bytes.
    @Test func byteLimitRefusesThenAcceptsAfterDelivery() {
        var w = ProducerWorld {
            $0.maxBatchBytes = 1000
            $0.maxBufferedBytes = 1000
        }
        w.topics["t"] = [.init(leader: 1)]
        #expect(w.produce("t", 0, [1, 2, 3], size: 300) == [nil, nil, nil])
        let held = w.h.engine.producerBufferedBytes
        #expect(held > 900 && held <= 1000)
        #expect(w.produce("t", 0, [4], size: 300) == [.bufferFull])
        #expect(w.produce("t", 0, [5], size: 10) == [nil], "a small record still fits")
        w.answer()
        #expect(w.produce("t", 0, [6], size: 300) == [nil])
        w.answerAll()
        #expect(w.deliveredTokens == [1, 2, 3, 5, 6])
        #expect(w.h.engine.producerBufferedBytes == 0)
    }

    /// acks=0: no answer is awaited; each batch is reported when written, offset -1, in
    /// order; no producer id is asked for and batches carry none.
    @Test func acksNoneReportsOnWriteWithoutOffsets() {
        var w = ProducerWorld {
            $0.acks = .none
            $0.idempotent = false
        }
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2, 3])
        #expect(w.held.isEmpty && w.allSent.count == 3)
        #expect(w.inits.isEmpty)
        #expect(w.allSent.map(\.request.acks) == [0, 0, 0])
        #expect(w.allSent.flatMap(\.batches).allSatisfy { $0.header.producerId == -1 && $0.sequence == -1 })
        #expect(w.reports.map(\.tokens) == [[1], [2], [3]])
        #expect(w.reports.allSatisfy { $0.baseOffset == -1 && $0.error == nil })
        #expect(w.log[t0] == ["v1", "v2", "v3"])
    }

    /// acks=1 without idempotence works, one request per partition at a time (ordering
    /// without sequence numbers); idempotence with acks=1 is a configuration error.
    @Test func acksLeaderWorksWithoutIdempotenceOnly() {
        var w = ProducerWorld {
            $0.acks = .leader
            $0.idempotent = false
        }
        w.topics["t"] = [.init(leader: 1)]
        w.produce("t", 0, [1])
        w.produce("t", 0, [2])
        #expect(w.inits.isEmpty)
        #expect(w.held.count == 1, "without sequences one request per partition is in flight")
        #expect(w.held[0].request.acks == 1 && w.held[0].batches[0].header.producerId == -1)
        w.answer()
        #expect(w.held.count == 1 && w.held[0].batches[0].values == ["v2"])
        w.answer()
        #expect(w.outcomes.map(\.0) == [[1], [2]] && w.outcomes.map(\.1) == [0, 1])

        var bad = ProducerWorld { $0.acks = .leader }
        bad.topics["t"] = [.init(leader: 1)]
        #expect(bad.produce("t", 0, [1]) == [.invalidConfiguration(.idempotenceNeedsAcksAll(.leader))])
        #expect(opens(bad.h.log).isEmpty && bad.allSent.isEmpty)
    }
}
