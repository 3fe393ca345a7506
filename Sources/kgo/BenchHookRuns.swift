import ArgumentParser
import KafkaIO

/// `kgo bench produce|consume --hooks …`: the rounds themselves. Each run has a client of
/// its own and, with metrics, a backend of its own, whose totals are checked against what
/// the run saw (a backend that missed records would make the adapter look cheaper).
extension BenchProduceCommand {
    func runHookRounds(_ modes: [BenchHookMode]) async throws {
        let rounds = hookRounds.rounds
        var samples: [BenchHookSample] = []
        var err = StandardError()
        for round in 1 ... rounds {
            for mode in BenchHookOptions.order(modes, round: round) {
                let factory = BenchMetricsFactory()
                let client = try connection.makeClient(producer: try producer.configuration()) { $0.hooks = mode.hooks(factory) }
                // A topic per run, deleted after it: every run starts from an empty log.
                let runTopic = "\(topic)-\(round)-\(mode.rawValue)"
                try await createTopic(client, runTopic, partitions: max(partitions, 1))
                let tally = ProduceTally()
                let done: ProduceCompletion = { tally.record($0) }
                let cpu0 = processCPUSeconds()
                let start = ContinuousClock.now
                await Self.produceAll(client, topic: runTopic, range: 0 ..< records, size: size, keyed: partitions > 1, completion: done)
                await client.flush()
                let elapsed = ContinuousClock.now - start
                let cpu = processCPUSeconds() - cpu0
                _ = try? await KafkaAdmin(client: client).deleteTopics([runTopic], timeout: .seconds(10))
                await client.close()
                let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let (delivered, failed, first) = tally.snapshot
                let sample = BenchHookSample(mode: mode, round: round, records: delivered, bytes: delivered * size, seconds: secs, cpuSeconds: cpu)
                print("RESULT producer=kgo hooks=\(mode.rawValue) round=\(round) count=\(records) size=\(size) delivered=\(delivered) failed=\(failed) "
                      + "secs=\(format3(secs)) rec_per_s=\(Int(sample.recordsPerSecond.rounded())) MB_per_s=\(format2(sample.megabytesPerSecond)) cpu_s=\(format3(cpu))")
                if let first { print("delivery error: \(first)", to: &err) }
                if failed > 0 || delivered != records { throw ExitCode(1) }
                if mode == .metrics {
                    let counted = factory.counterTotal("kafka_produced_records_total")
                    guard counted == Int64(delivered) else {
                        throw KgoFailure("the metrics backend counted \(counted) produced records of \(delivered)")
                    }
                }
                samples.append(sample)
            }
        }
        for line in BenchHookSummary.lines(samples, modes: modes, rounds: rounds, what: "producer") { print(line) }
    }
}

extension BenchConsumeCommand {
    func runHookRounds(_ modes: [BenchHookMode]) async throws {
        let rounds = hookRounds.rounds
        var samples: [BenchHookSample] = []
        for round in 1 ... rounds {
            for mode in BenchHookOptions.order(modes, round: round) {
                let factory = BenchMetricsFactory()
                let r = try await consumeOnce(hooks: mode.hooks(factory))
                let sample = BenchHookSample(mode: mode, round: round, records: r.records, bytes: r.bytes, seconds: r.seconds, cpuSeconds: r.cpuSeconds)
                print("RESULT consumer=\(group == nil ? "kgo" : "kgo-group") hooks=\(mode.rawValue) round=\(round) count=\(r.records) bytes=\(r.bytes) "
                      + "secs=\(format3(r.seconds)) rec_per_s=\(Int(sample.recordsPerSecond.rounded())) MB_per_s=\(format2(sample.megabytesPerSecond)) cpu_s=\(format3(r.cpuSeconds))")
                if r.records < records { throw ExitCode(1) }
                if mode == .metrics {
                    // Counted per fetched batch, so at least what was read (a fetch may bring more).
                    let counted = factory.counterTotal("kafka_consumed_records_total")
                    guard counted >= Int64(r.records) else {
                        throw KgoFailure("the metrics backend counted \(counted) consumed records of \(r.records)")
                    }
                }
                samples.append(sample)
            }
        }
        for line in BenchHookSummary.lines(samples, modes: modes, rounds: rounds, what: "consumer") { print(line) }
    }
}
