import Foundation
import TestSupport
import Testing
@testable import KafkaSimulation

/// The timeline page rendered by a real browser: headless Chromium screenshots it, and
/// Tools/png-stats.py reads the picture back. Needs `chromium` (Tools/install-test-deps.sh
/// installs Debian's; KGO_CHROMIUM names another binary) and fails without it.
@Suite struct TimelineRenderTests {
    static var root: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    static func chromium() -> String? {
        if let p = ProcessInfo.processInfo.environment["KGO_CHROMIUM"] { return p }
        return ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a program to its end; its standard output.
    static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = try ChildProcess(path, arguments, standardOutput: .pipe, standardError: .null)
        let data = p.standardOutput!.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func aBrowserDrawsTheTimeline() throws {
        guard let browser = Self.chromium() else {
            Issue.record("no chromium: run Tools/install-test-deps.sh (Debian's chromium package) or set KGO_CHROMIUM")
            return
        }
        var sim = Simulation(try Scenario.parse(TimelineTests.leaderMoves))
        let t = SimTimeline(title: "render test")
        sim.timeline = t
        _ = sim.run()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kgo-timeline-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let page = dir.appendingPathComponent("timeline.html")
        let shot = dir.appendingPathComponent("timeline.png")
        try TimelineHTML.render(t).write(to: page, atomically: true, encoding: .utf8)
        let browserRun = try Self.run(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                                "--user-data-dir=\(dir.appendingPathComponent("profile").path)",
                                                "--window-size=1720,1000", "--screenshot=\(shot.path)", page.absoluteString])
        #expect(browserRun.status == 0)
        try #require(FileManager.default.fileExists(atPath: shot.path), "the browser wrote no screenshot")
        // Colours drawn as solid fills: a down broker, broker 2 leading (t/0 after the move),
        // produce and fetch spans.
        let colours = ["#c0392b", TimelineHTML.tones[2], "#1f77b4", "#2ca02c"]
        let stats = try Self.run("/usr/bin/env", ["python3", Self.root.appendingPathComponent("Tools/png-stats.py").path, shot.path] + colours)
        #expect(stats.status == 0)
        var values: [String: Int] = [:]
        for token in stats.output.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let kv = token.split(separator: "=")
            if kv.count == 2, let n = Int(kv[1]) { values[String(kv[0])] = n }
        }
        let pixels = (values["width"] ?? 0) * (values["height"] ?? 0)
        #expect(pixels == 1720 * 1000, "\(stats.output)")
        // Not blank: a good part of the page is drawn, in many colours.
        #expect((values["nonwhite"] ?? 0) * 20 > pixels, "\(stats.output)")
        #expect((values["distinct"] ?? 0) >= 12, "\(stats.output)")
        for c in colours { #expect((values[c] ?? 0) >= 50, "\(c) barely drawn: \(stats.output)") }
    }
}
