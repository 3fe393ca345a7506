import Foundation
import Testing

/// `kgo fake-cluster` as a user runs it: the built command starts three brokers on
/// consecutive ports, says `ready`, serves kcat (librdkafka 2.16), and stops cleanly on
/// SIGTERM.
@Suite(.serialized)
struct FakeClusterCommandTests {
    /// The `kgo` binary `swift test` built next to this test bundle.
    static var kgo: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kgo").path
    }

    @Test func commandStartsServesKcatAndStopsOnSigterm() throws {
        try Peers.check()
        #expect(FileManager.default.isExecutableFile(atPath: Self.kgo), "no \(Self.kgo)")
        // A port range unlikely to be taken, different per run of this process.
        let port = 29_000 + Int(getpid() % 500) * 3
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.kgo)
        p.arguments = ["fake-cluster", "--brokers", "3", "--port", "\(port)", "--topic", "cmd:3"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        let lines = DataBox()
        Thread.detachNewThread {
            var all = Data()
            while true {
                let d = out.fileHandleForReading.availableData
                if d.isEmpty { break }
                all += d
                lines.set(all)
            }
        }
        let deadline = Date().addingTimeInterval(30)
        var output = ""
        while Date() < deadline {
            output = String(decoding: lines.get(), as: UTF8.self)
            if output.split(separator: "\n").contains(where: { $0.hasPrefix("ready") }) { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        try #require(output.split(separator: "\n").contains(where: { $0.hasPrefix("ready") }), "no ready line: \(output)")

        let bootstrap = "127.0.0.1:\(port),127.0.0.1:\(port + 2)"
        let values = (1 ... 25).map { "cmd-\($0)" }
        let produced = try Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-P", "-t", "cmd", "-p", "2"],
                                     stdin: values.joined(separator: "\n") + "\n")
        #expect(produced.status == 0, "\(produced.stderr)")
        let consumed = try Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-C", "-t", "cmd", "-p", "2", "-o", "beginning", "-e", "-q"])
        #expect(consumed.status == 0, "\(consumed.stderr)")
        #expect(consumed.stdout.split(separator: "\n").map(String.init) == values)
        let metadata = try Peers.run("/usr/bin/kcat", ["-b", bootstrap, "-L", "-t", "cmd"])
        #expect(metadata.stdout.contains("3 brokers"), "\(metadata.stdout)")

        kill(p.processIdentifier, SIGTERM)
        let stopBy = Date().addingTimeInterval(10)
        while p.isRunning && Date() < stopBy { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!p.isRunning, "still running 10 s after SIGTERM")
        if !p.isRunning { #expect(p.terminationStatus == 0) }
    }
}
