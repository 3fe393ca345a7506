import Foundation
import KafkaIO
import TestSupport
import Testing

/// What every member of a mixed group saw, by member name: its current partitions, the records
/// it consumed (by partition and offset), its commits and its events. Written from the peers'
/// reader threads and our members' tasks.
final class GroupTally: @unchecked Sendable {
    private let lock = NSLock()
    private var owned: [String: Set<Int32>] = [:]
    private var reads: [String: Int] = [:]          // "p/offset" -> times read
    private var readBy: [String: [String: Int]] = [:]  // member -> "p/offset" -> times
    private var log: [String] = []
    private var leaders: [String: Bool] = [:]       // our members: leader in their last generation

    func locked<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }

    func assigned(_ member: String, _ parts: [Int32]) {
        locked { owned[member, default: []].formUnion(parts); log.append("\(member) assigned \(parts.sorted())") }
    }
    func revoked(_ member: String, _ parts: [Int32], lost: Bool = false) {
        locked { owned[member, default: []].subtract(parts); log.append("\(member) \(lost ? "lost" : "revoked") \(parts.sorted())") }
    }
    func read(_ member: String, partition: Int32, offset: Int64) {
        locked {
            let k = "\(partition)/\(offset)"
            reads[k, default: 0] += 1
            readBy[member, default: [:]][k, default: 0] += 1
        }
    }
    func note(_ member: String, _ line: String) { locked { log.append("\(member) \(line)") } }
    func joined(_ member: String, leader: Bool) { locked { leaders[member] = leader } }

    var assignment: [String: Set<Int32>] { locked { owned } }
    var readCount: Int { locked { reads.count } }
    var duplicates: [String] { locked { reads.filter { $0.value > 1 }.keys.sorted() } }
    func missing(partitions: Int32, perPartition: Int) -> [String] {
        locked {
            (0 ..< partitions).flatMap { p in (0 ..< perPartition).map { "\(p)/\($0)" } }.filter { reads[$0] == nil }
        }
    }
    func offsets(readBy member: String) -> [String] { locked { readBy[member].map { $0.keys.sorted() } ?? [] } }
    func isLeader(_ member: String) -> Bool? { locked { leaders[member] } }
    var events: String { locked { log.suffix(60).joined(separator: "\n") } }
}

/// A member of the group in the test: ours (KafkaGroupConsumer) or librdkafka's (group_member.py).
protocol GroupTestMember: AnyObject {
    var name: String { get }
    /// Commits what it consumed, leaves the group and stops.
    func leave() async throws
    /// Stops without care (cleanup after a failure).
    func kill()
}

/// confluent-kafka (librdkafka 2.16) running Scripts/group_member.py; its JSON lines feed the tally.
final class RdkafkaMember: GroupTestMember, @unchecked Sendable {
    let name: String
    let process: ChildProcess
    private let stdin: FileHandle
    private let tally: GroupTally
    private let stderrBox = DataBox()
    private let lock = NSLock()
    private var lines: [String] = []
    private let done = DispatchGroup()
    private(set) var memberId: String?

    init(name: String, bootstrap: String, group: String, topic: String, strategy: String, sessionTimeoutMs: Int, tally: GroupTally) throws {
        try Peers.check()
        self.name = name
        self.tally = tally
        var env = ProcessInfo.processInfo.environment
        env["LD_LIBRARY_PATH"] = Peers.dir.appendingPathComponent("lib").path + (env["LD_LIBRARY_PATH"].map { ":" + $0 } ?? "")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        process = try ChildProcess(Peers.python, [Peers.scripts.appendingPathComponent("group_member.py").path,
                                                  bootstrap, group, topic, strategy, String(sessionTimeoutMs), name],
                                   environment: env, standardInput: .pipe, standardOutput: .pipe, standardError: .pipe)
        stdin = process.standardInput!
        let out = process.standardOutput!, err = process.standardError!
        done.enter()
        Thread.detachNewThread { [self] in
            var pending = Data()
            let h = out
            while true {
                let chunk = h.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    handle(String(decoding: pending[pending.startIndex ..< nl], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex ... nl)
                }
            }
            tally.note(name, "stdout closed")
            done.leave()
        }
        done.enter()
        Thread.detachNewThread { [self] in stderrBox.set(err.readDataToEndOfFile()); done.leave() }
    }

    private func handle(_ line: String) {
        lock.lock(); lines.append(line); lock.unlock()
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let ev = obj["ev"] as? String else {
            tally.note(name, "unparsed: \(line)")
            return
        }
        let parts = (obj["parts"] as? [Int])?.map(Int32.init) ?? []
        switch ev {
        case "record": tally.read(name, partition: Int32(obj["p"] as? Int ?? -1), offset: Int64(obj["o"] as? Int ?? -1))
        case "assigned": tally.assigned(name, parts)
        case "revoked": tally.revoked(name, parts)
        case "lost": tally.revoked(name, parts, lost: true)
        case "member":
            lock.lock(); memberId = obj["id"] as? String; lock.unlock()
            tally.note(name, line)
        default: tally.note(name, line)
        }
    }

    var output: [String] { lock.lock(); defer { lock.unlock() }; return lines }

    /// Asks for a synchronous commit of everything consumed.
    func commit() { stdin.write(Data("commit\n".utf8)) }

    func leave() async throws {
        try? stdin.close()
        // 60 s, not 30: under the full suite's load a librdkafka member once took longer
        // than 30 s to close (its leave still came; the wait only bounds a hang).
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let clean = !process.isRunning
        _ = try? await offPool { [self] in kill() }
        #expect(clean && process.terminationStatus == 0 && output.last?.contains("closed") == true,
                "\(name) did not leave cleanly: \(String(decoding: stderrBox.get(), as: UTF8.self).suffix(2000))")
    }

    func kill() {
        let diedAlone = !process.isRunning && process.terminationStatus != 0
        if process.isRunning { process.terminate() }
        // A peer stuck in its close (librdkafka leaving a group through a slow broker) is
        // killed after 10 s: waitUntilExit would otherwise spin, and hang the whole run.
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        process.signal(SIGKILL)
        process.waitUntilExit()
        done.wait()
        if diedAlone { print("\(name) (librdkafka) exited with \(process.terminationStatus):\n\(stderr.suffix(3000))") }
    }

    var stderr: String { String(decoding: stderrBox.get(), as: UTF8.self) }
}

/// Our member: a KafkaGroupConsumer polled in a task; its events and records feed the tally.
/// Strategy "range" or "cooperative-sticky" (classic), or "consumer" (KIP-848).
final class OurMember: GroupTestMember, @unchecked Sendable {
    let name: String
    let consumer: KafkaGroupConsumer
    private var run: Task<Void, any Error>!
    private var polling: Task<Void, Never>!
    private var watching: Task<Void, Never>!

    init(name: String, bootstrap: String, group: String, topic: String, strategy: String, sessionTimeout: Duration, tally: GroupTally) throws {
        self.name = name
        var c = KafkaClientConfiguration(seedBrokers: [try BrokerAddress(parsing: bootstrap)])
        c.connectTimeout = .seconds(3)
        c.retryTimeout = .seconds(5)
        c.backoff = BackoffPolicy(initial: .milliseconds(50), max: .milliseconds(200))
        c.closeTimeout = .seconds(2)
        c.clientId = name
        c.consumer.maxWait = .milliseconds(100)
        var g = GroupConfiguration(groupId: group, topics: [topic])
        // "consumer": KIP-848, as group_member.py takes it (the coordinator assigns).
        if strategy == "consumer" { g.groupProtocol = .consumer }
        g.balancers = strategy == "range" ? [RangeBalancer()] : [CooperativeStickyBalancer()]
        g.sessionTimeout = sessionTimeout
        g.heartbeatInterval = max(.milliseconds(100), sessionTimeout / 10)
        g.rebalanceTimeout = .seconds(10)
        g.autocommitInterval = .seconds(1)
        consumer = try KafkaGroupConsumer(configuration: c, group: g)
        let consumer = consumer
        watching = Task {
            for await e in consumer.events {
                switch e {
                case .assigned(let ps): tally.assigned(name, ps.map(\.partition))
                case .revoked(let ps): tally.revoked(name, ps.map(\.partition))
                case .lost(let ps): tally.revoked(name, ps.map(\.partition), lost: true)
                case .joined(_, _, let leader, _): tally.joined(name, leader: leader); tally.note(name, "\(e)")
                default: tally.note(name, "\(e)")
                }
            }
        }
        run = Task { try await consumer.run() }
        polling = Task {
            while !Task.isCancelled {
                let poll = await consumer.poll(timeout: .milliseconds(200))
                for r in poll.records { tally.read(name, partition: r.partition, offset: r.offset) }
                if poll.closed { return }
            }
        }
    }

    func leave() async throws {
        await consumer.leave()
        try await run.value
        await polling.value
        await watching.value
    }

    func kill() {
        let (consumer, run, polling) = (consumer, run!, polling!)
        Task { await consumer.leave(); run.cancel(); polling.cancel() }
    }
}

/// Waits (polling every 50 ms) until `condition` holds; past `timeout` records an issue naming
/// what was awaited with the tally's recent events, and throws.
func waitUntil(_ what: String, _ tally: GroupTally, timeout: Duration = .seconds(30),
               _ condition: () -> Bool) async throws {
    let clock = ContinuousClock()
    let start = clock.now
    while !condition() {
        if clock.now - start > timeout {
            Issue.record("timed out after \(timeout) waiting for \(what); assignment \(tally.assignment); recent events:\n\(tally.events)")
            throw GroupWaitTimeout(what: what)
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}

struct GroupWaitTimeout: Error { var what: String }
