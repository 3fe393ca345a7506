import ArgumentParser
import Foundation
import KafkaStateMachines

/// `kgo sim replay`: runs a flight recording's inputs through the engine offline and checks
/// that it emits the recorded actions.
struct SimReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a flight recording (KafkaClient's flightRecorder, kgo --record) through the engine offline.")
    @Argument(help: "The recording: its first segment (NAME-000001.kgorec) or the path it was recorded to (NAME).")
    var file: String
    @Flag(help: "Print every action the replayed engine emits.") var actions = false
    @Option(help: "Also draw the recording's connections and requests as one self-contained HTML page at PATH.")
    var timeline: String?

    func run() throws {
        let paths = try Self.segmentPaths(for: file)
        var segments: [[UInt8]] = []
        for p in paths {
            guard let data = FileManager.default.contents(atPath: p) else { throw KgoFailure("cannot read \(p)") }
            segments.append([UInt8](data))
        }
        let recording: FlightRecording
        do { recording = try FlightRecording(segments: segments) } catch { throw ValidationError("\(file): \(error)") }
        let printActions = actions
        let (report, wall) = try timed {
            try RecordingReplay.run(recording) { action, now in
                if printActions { print("\(now) \(action)") }
            }
        }
        print("recording \(paths.count) segment(s), \(recording.entries.count) entries, seed \(recording.start.seed), recorded by kgo-swift \(recording.start.libraryVersion)")
        print("inputs=\(report.inputs) requests=\(report.requests) bytes-received=\(report.bytesReceived) actions=\(report.actions) connections=\(report.connectionsOpened) completions=\(report.completions) failed=\(report.failures)")
        print(String(format: "recorded time %.3fs, replayed in %.3fs wall", Double(report.duration.nanoseconds) / 1e9, wall))
        if report.truncatedTail { print("note: the last entry was cut short (the process stopped while writing it)") }
        if !report.endedCleanly && !report.truncatedTail { print("note: no end marker (the recording was not closed cleanly)") }
        if let d = report.divergence {
            print("DIVERGED at \(d)")
            if report.secretsMissing { print("note: SASL passwords were not recorded (record with includeSecrets / --record-secrets to replay logins)") }
            throw ExitCode.failure
        }
        if let timeline {
            try TimelineOutput.write(timeline, title: "kgo sim replay \(file)") { t in
                do { try TimelineOutput.recording(recording, into: t) } catch { print("timeline: \(error)") }
            }
        }
        print("digest=\(report.digest.hex)")
        print("ok: the engine reproduced every recorded action")
    }

    /// The segment files in order: from NAME-000001.kgorec (or NAME) up to the last that exists.
    static func segmentPaths(for file: String) throws -> [String] {
        var base = file
        if file.hasSuffix(".kgorec") {
            let stem = String(file.dropLast(".kgorec".count))
            guard let dash = stem.lastIndex(of: "-"), Int(stem[stem.index(after: dash)...]) == 1 else {
                throw ValidationError("\(file) is not the first segment of a recording (NAME-000001.kgorec)")
            }
            base = String(stem[..<dash])
        }
        var paths: [String] = []
        var i = 1
        while FileManager.default.fileExists(atPath: RecordingFormat.segmentName(base: base, index: i)) {
            paths.append(RecordingFormat.segmentName(base: base, index: i))
            i += 1
        }
        guard !paths.isEmpty else { throw KgoFailure("no recording at \(RecordingFormat.segmentName(base: base, index: 1))") }
        return paths
    }
}
