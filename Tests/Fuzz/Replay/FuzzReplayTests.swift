import Foundation
import KafkaFuzzChecks
import Testing

/// Replays every committed fuzz input — the seed corpus (recorded peer bytes plus what
/// fuzzing found interesting) and every past crash — through the same checks the fuzzers
/// run. A past crash stays here forever as a regression test.
@Suite struct FuzzReplayTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    static func inputs(_ target: String) throws -> [(String, [UInt8])] {
        var out: [(String, [UInt8])] = []
        for dir in ["Corpus", "Crashes"] {
            let folder = root.appendingPathComponent(dir).appendingPathComponent(target)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in names.sorted() where !name.hasPrefix(".") {
                out.append(("\(dir)/\(target)/\(name)", Array(try Data(contentsOf: folder.appendingPathComponent(name)))))
            }
        }
        return out
    }

    @Test(arguments: ["requests", "responses", "records"])
    func corpusReplays(target: String) throws {
        let inputs = try Self.inputs(target)
        // The seed corpus is committed; an empty folder means the replay tests nothing.
        #expect(inputs.count >= 10, "Tests/Fuzz/Corpus/\(target) holds only \(inputs.count) inputs")
        for (_, bytes) in inputs {
            switch target {
            case "requests": FuzzChecks.request(bytes)
            case "responses": FuzzChecks.response(bytes)
            default: FuzzChecks.records(bytes)
            }
        }
    }

    /// The parsers outside the codec (Tests/Fuzz/Checks): FakeCluster's request handling,
    /// the engine given wrong answers, the flight-recording reader, the scenario parsers.
    @Test(arguments: ["cluster", "engine", "recording", "scenario"])
    func parserCorpusReplays(target: String) throws {
        let inputs = try Self.inputs(target)
        #expect(inputs.count >= 10, "Tests/Fuzz/Corpus/\(target) holds only \(inputs.count) inputs")
        for (_, bytes) in inputs {
            switch target {
            case "cluster": ParserFuzzChecks.cluster(bytes)
            case "engine": ParserFuzzChecks.engine(bytes)
            case "recording": ParserFuzzChecks.recording(bytes)
            default: ParserFuzzChecks.scenario(bytes)
            }
        }
    }
}
