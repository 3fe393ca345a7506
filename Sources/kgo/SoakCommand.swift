import ArgumentParser
import ChaosProxy
import FakeCluster
import FakeClusterTCP
import Foundation
import KafkaIO
import KafkaProtocol
import Logging
import NIOConcurrencyHelpers

/// `kgo soak` (issue 22): a long produce+consume loop through `ChaosProxy` in front of an
/// in-process one-broker FakeCluster, with the process's resident memory sampled every
/// second. Records are paced (`--rate`) and the log is trimmed behind the consumer
/// (DeleteRecords), so a client, proxy and cluster that keep nothing they should not have a
/// steady state: after the warm-up, resident memory must stay flat. Every acknowledged
/// record must come back once and in order for its key. Exit status 1 on either failure.
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Produce and consume through a fault-injecting proxy for a while; check every record and that memory stays flat.")

    @Option(help: "How long to produce, in seconds.") var seconds: Int = 60
    @Option(help: "Records produced per second.") var rate: Int = 2_000
    @Option(help: "Bytes per record value.") var size: Int = 200
    @Option(help: "Partitions of the topic.") var partitions: Int32 = 4
    @Option(help: "Distinct keys; each key's records must come back in produce order.") var keys: Int = 64
    @Option(help: "Seed of the proxy's draws (reset thresholds, jitter).") var seed: UInt64 = 1
    @Option(name: .customLong("warmup-percent"), help: "Share of the run, from its start, left out of the memory verdict.")
    var warmupPercent: Int = 20
    @Option(name: .customLong("max-growth-percent"),
            help: "Most the median resident memory of the last third after warm-up may exceed that of the first third.")
    var maxGrowthPercent: Double = 10
    @Option(name: .customLong("rss-csv"), help: "Write every memory sample (seconds,bytes) to this file.") var rssCSV: String?
    @Flag(name: .customLong("no-memory-check"),
          help: "Sample memory but do not judge it (for runs under a leak checker, whose own memory grows).")
    var noMemoryCheck = false
    @Flag(name: .shortAndLong, help: "Log the clients' connections and retries to standard error.") var verbose = false

    func validate() throws {
        guard seconds >= 5 else { throw ValidationError("--seconds must be at least 5") }
        guard (1 ... 100_000).contains(rate) else { throw ValidationError("--rate must be 1…100000") }
        guard (32 ... 100_000).contains(size) else { throw ValidationError("--size must be 32…100000") }
        guard (1 ... 64).contains(partitions) else { throw ValidationError("--partitions must be 1…64") }
        guard (1 ... 100_000).contains(keys) else { throw ValidationError("--keys must be 1…100000") }
        guard (0 ... 80).contains(warmupPercent) else { throw ValidationError("--warmup-percent must be 0…80") }
        guard maxGrowthPercent >= 0 else { throw ValidationError("--max-growth-percent must not be negative") }
    }

    /// The faults the proxy cycles through, one per phase of `phaseSeconds`: the connection
    /// resets are on in every phase (a threshold is drawn per connection), shaping changes.
    static let phases: [(name: String, faults: ChaosFaults)] = [
        ("latency 1 ms + jitter 0-4 ms, reset after 200 KB-2 MB",
         ChaosFaults(latency: .milliseconds(1), jitter: .milliseconds(4), resetAfterBytes: 200_000 ... 2_000_000)),
        ("1-byte writes + latency 1 ms, reset after 20-200 KB",
         ChaosFaults(latency: .milliseconds(1), singleByteWrites: true, resetAfterBytes: 20_000 ... 200_000)),
        ("jitter 0-10 ms, reset after 50-500 KB",
         ChaosFaults(jitter: .milliseconds(10), resetAfterBytes: 50_000 ... 500_000)),
    ]
    static let phaseSeconds = 4

    func run() async throws {
        let topic = "soak"
        var proxyBox: ChaosProxy?
        let server = try FakeClusterServer.start(FakeClusterConfig(brokers: [.init(nodeId: 1, port: 0)],
                                                                   topics: [.init(name: topic, partitions: partitions)]),
                                                 advertising: { bound in
            // Metadata advertises the proxy, so every connection of every client goes through it.
            let p = try ChaosProxy.start(upstreamHost: bound.host, upstreamPort: Int(bound.port), faults: Self.phases[0].faults,
                                         random: ChaosRandom(seed: seed))
            proxyBox = p
            var advertised = bound
            advertised.port = Int32(p.port)
            return advertised
        })
        let proxy = proxyBox!
        defer {
            try? proxy.shutdown()
            try? server.shutdown()
        }
        say("soak     \(seconds)s at \(rate) records/s of \(size) B, \(keys) keys over \(partitions) partitions, through a chaos proxy (seed \(seed))")

        var logger = Logger(label: "kgo-soak") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = verbose ? .debug : .critical
        var config = try KafkaClientConfiguration(seedBrokers: ["\(proxy.host):\(proxy.port)"])
        config.clientId = "kgo-soak"
        config.producer.idempotent = true
        config.producer.maxBatchBytes = 16_384
        // A bounded buffer: a producer faster than the faults allow waits instead of piling up.
        config.producer.maxBufferedRecords = 20_000
        config.consumer.maxWait = .milliseconds(100)
        let producer = try KafkaClient(configuration: config, logger: logger)
        // Default fetch sizes: answers bigger than a connection lets through before its reset
        // (20 KB at the least here) shrink after each cut (fetchBytesAfterCut). Before that,
        // with 1 MB answers, the consumer was 109,000 records behind after 60 s.
        let consumer = try KafkaClient(configuration: config, logger: logger)
        let admin = KafkaAdmin(client: producer)

        let clock = ContinuousClock()
        let start = clock.now
        let sampler = RSSSampler()
        sampler.sample(at: 0)
        let tally = SoakTally(keys: keys, partitions: Int(partitions))
        let producing = NIOLockedValueBox(true)
        // Acknowledged records not yet read back, each second: a growing backlog (the log
        // trimmed late) tells itself apart from memory kept per record.
        let lags = NIOLockedValueBox<[Int]>([])

        let sampling = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                sampler.sample(at: Self.seconds(clock.now - start))
                let s = tally.summary()
                lags.withLockedValue { $0.append(s.acked - s.readBack) }
            }
        }
        let chaos = Task {
            var phase = 0
            while producing.withLockedValue({ $0 }) {
                try? await Task.sleep(for: .seconds(Self.phaseSeconds))
                phase += 1
                proxy.setFaults(Self.phases[phase % Self.phases.count].faults)
                tally.phaseChanged(phase % Self.phases.count)
            }
        }
        let partitionCount = partitions
        let reading = Task { await Self.consume(consumer, topic: topic, partitions: partitionCount, tally: tally) }
        let trimming = Task {
            // Behind the consumer, so the broker's log (and memory) stays bounded.
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                let before = tally.consumedOffsets(topic)
                if before.isEmpty { continue }
                do {
                    let results = try await admin.deleteRecords(before, timeout: .seconds(10))
                    tally.trimmed(failed: results.filter { if case .failure = $0.result { true } else { false } }.count)
                } catch {
                    tally.trimmed(failed: before.count)
                }
            }
        }

        // Produce, paced: record n is due at n / rate seconds.
        var payload = [UInt8](repeating: UInt8(ascii: "."), count: size)
        var nextSeq = [Int](repeating: 0, count: keys)
        var n = 0
        let total = seconds * rate
        while n < total {
            let due = min(total, Int(Self.seconds(clock.now - start) * Double(rate)))
            while n < due {
                let k = n % keys
                let stamp = Array("\(k) \(nextSeq[k]) ".utf8)
                payload.replaceSubrange(0 ..< stamp.count, with: stamp)
                nextSeq[k] += 1
                await producer.produce(KafkaRecord(topic: topic, key: Array("k\(k)".utf8), value: payload)) { tally.acknowledged($0) }
                n += 1
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        producing.withLockedValue { $0 = false }
        await chaos.value
        // The drain: faults off, every acknowledgement in, the consumer caught up.
        proxy.setFaults(.none)
        await producer.flush()
        let drainDeadline = clock.now + .seconds(60)
        while tally.readBack < tally.summary().acked, clock.now < drainDeadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        trimming.cancel()
        reading.cancel()
        await reading.value
        sampling.cancel()
        await sampling.value
        sampler.sample(at: Self.seconds(clock.now - start))
        await consumer.close()
        await producer.close()

        let s = tally.summary()
        let stats = proxy.stats
        say("produce  \(n) records: \(s.acked) acknowledged, \(s.failed) failed\(s.firstError.map { " (first: \($0))" } ?? "")")
        say("consume  \(s.readBack) records read back; \(s.duplicates) duplicates, \(s.outOfOrder) out of order, \(s.foreign) unreadable")
        say("faults   \(stats.resets) connection resets of \(stats.accepted) connections, \(s.phaseChanges) fault-phase changes "
            + "(\(Self.phases.count) phases of \(Self.phaseSeconds)s, 1-byte writes in one), "
            + "\(stats.bytesToUpstream / 1_000_000) MB to the broker, \(stats.bytesToClient / 1_000_000) MB back")
        say("trim     \(s.trims) DeleteRecords rounds, \(s.trimFailures) partition trims failed (retried next round)")

        let samples = sampler.samples()
        if let path = rssCSV {
            let text = samples.map { "\(String(format: "%.1f", $0.t)),\($0.bytes)" }.joined(separator: "\n") + "\n"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let verdict = RSSVerdict(samples, warmupFraction: Double(warmupPercent) / 100, producedSeconds: Double(seconds))
        say(verdict.series)
        let lagSeries = lags.withLockedValue { $0 }
        let lagStep = max(1, lagSeries.count / 12)
        say("lag      " + stride(from: 0, to: lagSeries.count, by: lagStep).map { "\($0 + 1)s \(lagSeries[$0])" }.joined(separator: ", ")
            + " records acknowledged and not yet read back")
        say(verdict.summary)

        let missing = s.acked - s.readBack
        var checks: [(String, Bool, String)] = [
            ("every record was acknowledged", s.failed == 0 && s.acked == n, "\(s.failed) failed, \(n - s.acked - s.failed) unanswered"),
            ("every acknowledged record was read back", missing == 0, "\(missing) missing"),
            ("no record was read twice", s.duplicates == 0, "\(s.duplicates) duplicates"),
            ("each key kept produce order", s.outOfOrder == 0, "\(s.outOfOrder) out of order"),
            ("nothing unexpected in the topic", s.foreign == 0, "\(s.foreign) unreadable"),
            ("the proxy reset connections", stats.resets > 0, "no reset happened: the faults were not exercised"),
        ]
        if !noMemoryCheck {
            checks.append(("resident memory flat after warm-up (growth <= \(maxGrowthPercent)%)",
                           verdict.growthPercent <= maxGrowthPercent, String(format: "%.1f%% growth", verdict.growthPercent)))
        }
        for (name, ok, detail) in checks { say("check    \(name): \(ok ? "ok" : "FAILED (\(detail))")") }
        guard checks.allSatisfy(\.1) else { throw ExitCode.failure }
        say("ok")
    }

    /// Reads every partition from its start until cancelled, checking each record against its key's sequence.
    static func consume(_ client: KafkaClient, topic: String, partitions: Int32, tally: SoakTally) async {
        var assignment: [TopicPartition: StartOffset] = [:]
        for p in 0 ..< partitions { assignment[TopicPartition(topic, p)] = .start }
        client.assign(assignment)
        while !Task.isCancelled {
            let poll = await client.poll(timeout: .milliseconds(500))
            if poll.closed { return }
            for part in poll.partitions {
                for r in part.records { tally.read(partition: part.partition, offset: r.offset, value: r.value) }
            }
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func say(_ line: String) {
        print(line)
        fflush(nil)
    }
}

/// What the producer and the consumer saw, from their tasks and the client's event loop.
final class SoakTally: Sendable {
    struct State {
        var acked = 0
        var failed = 0
        var firstError: String?
        var readBack = 0
        var duplicates = 0
        var outOfOrder = 0
        var foreign = 0
        /// The sequence number each key's next record must carry.
        var expected: [Int]
        /// The offset after the last record read, by partition (what may be trimmed).
        var consumedNext: [Int64]
        var trims = 0
        var trimFailures = 0
        var phaseChanges = 0
    }
    private let state: NIOLockedValueBox<State>

    init(keys: Int, partitions: Int) {
        state = NIOLockedValueBox(State(expected: [Int](repeating: 0, count: keys), consumedNext: [Int64](repeating: -1, count: partitions)))
    }

    func acknowledged(_ result: Result<ProducedRecord, ProduceError>) {
        state.withLockedValue { s in
            switch result {
            case .success: s.acked += 1
            case .failure(let e):
                s.failed += 1
                if s.firstError == nil { s.firstError = "\(e)" }
            }
        }
    }

    /// A record's value starts "<key> <sequence> ".
    func read(partition: Int32, offset: Int64, value: ArraySlice<UInt8>?) {
        let fields = (value ?? []).split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        state.withLockedValue { s in
            s.consumedNext[Int(partition)] = max(s.consumedNext[Int(partition)], offset + 1)
            guard fields.count == 3, let k = Int(String(decoding: fields[0], as: UTF8.self)),
                  let seq = Int(String(decoding: fields[1], as: UTF8.self)), s.expected.indices.contains(k) else {
                s.foreign += 1
                return
            }
            if seq == s.expected[k] {
                s.readBack += 1
                s.expected[k] += 1
            } else if seq < s.expected[k] {
                s.duplicates += 1
            } else {
                // A gap: records of this key were skipped (or came late).
                s.outOfOrder += 1
                s.readBack += 1
                s.expected[k] = seq + 1
            }
        }
    }

    var readBack: Int { state.withLockedValue { $0.readBack } }

    func consumedOffsets(_ topic: String) -> [TopicPartition: Int64] {
        state.withLockedValue { s in
            var out: [TopicPartition: Int64] = [:]
            for (p, next) in s.consumedNext.enumerated() where next > 0 { out[TopicPartition(topic, Int32(p))] = next }
            return out
        }
    }

    func trimmed(failed: Int) { state.withLockedValue { $0.trims += 1; $0.trimFailures += failed } }
    func phaseChanged(_ phase: Int) { state.withLockedValue { $0.phaseChanges += 1 } }
    func summary() -> State { state.withLockedValue { $0 } }
}

/// The process's resident set size, from /proc/self/statm (Linux).
final class RSSSampler: Sendable {
    private let series = NIOLockedValueBox<[(t: Double, bytes: Int)]>([])
    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    func sample(at t: Double) {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return }
        series.withLockedValue { $0.append((t, pages * pageSize)) }
    }

    func samples() -> [(t: Double, bytes: Int)] { series.withLockedValue { $0 } }
}

/// Whether resident memory stayed flat: the samples after the warm-up are split in thirds,
/// and the median of the last third is compared with the median of the first (medians, so
/// a single allocator spike does not decide); the least-squares slope is reported too.
struct RSSVerdict {
    var growthPercent = 0.0
    var series = ""
    var summary = ""

    init(_ samples: [(t: Double, bytes: Int)], warmupFraction: Double, producedSeconds: Double) {
        func mb(_ b: Double) -> String { String(format: "%.1f", b / 1_048_576) }
        func median(_ xs: ArraySlice<(t: Double, bytes: Int)>) -> Double {
            let s = xs.map(\.bytes).sorted()
            return s.isEmpty ? 0 : Double(s[s.count / 2])
        }
        let step = max(1, samples.count / 12)
        series = "rss      " + stride(from: 0, to: samples.count, by: step).map { i in
            String(format: "%.0fs ", samples[i].t) + mb(Double(samples[i].bytes))
        }.joined(separator: ", ") + " MB"
        let after = samples.filter { $0.t >= warmupFraction * producedSeconds }
        guard after.count >= 3, let first = samples.first, let last = samples.last else {
            summary = "rss      too few samples after warm-up to judge"
            return
        }
        let third = after.count / 3
        let early = median(after.prefix(third)), late = median(after.suffix(third))
        growthPercent = early > 0 ? (late - early) / early * 100 : 0
        let n = Double(after.count)
        let mt: Double = after.reduce(0.0) { $0 + $1.t } / n
        let mbar: Double = after.reduce(0.0) { $0 + Double($1.bytes) } / n
        let cov: Double = after.reduce(0.0) { acc, s in acc + (s.t - mt) * (Double(s.bytes) - mbar) }
        let vt: Double = after.reduce(0.0) { acc, s in acc + (s.t - mt) * (s.t - mt) }
        let slope = vt > 0 ? cov / vt * 60 : 0
        let peak = samples.map(\.bytes).max() ?? 0
        summary = "rss      start \(mb(Double(first.bytes))) MB, after warm-up (\(String(format: "%.0f", after[0].t))s) \(mb(Double(after[0].bytes))) MB, "
            + "end \(mb(Double(last.bytes))) MB, peak \(mb(Double(peak))) MB; median first third after warm-up \(mb(early)) MB, "
            + "last third \(mb(late)) MB: \(String(format: "%+.1f", growthPercent))%; slope \(String(format: "%+.2f", slope / 1_048_576)) MB/min "
            + "over \(after.count) samples"
    }
}
