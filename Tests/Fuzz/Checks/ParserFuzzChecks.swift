/// The fuzz targets for the parsers outside the codec (issue 22): FakeCluster's request
/// handling, the engine's handling of well-framed but wrong answers, the flight-recording
/// reader and the scenario parsers. A library target of the root package, not a copied file
/// like Tests/Fuzz/Replay/FuzzChecks.swift, because these parsers are `package` API that
/// the harness package (a different package) could not see; the libFuzzer executables in
/// Tests/Fuzz/Harness and FuzzReplayTests both call it.
public enum ParserFuzzChecks {
    /// Input: arbitrary bytes, read as request frames by a FakeCluster broker.
    public static func cluster(_ input: [UInt8]) { ClusterFuzz.run(input) }
    /// Input: which of the engine's requests gets the bad answer (byte 0), then the answer's body.
    public static func engine(_ input: [UInt8]) { EngineFuzz.run(input) }
    /// Input: flight-recording segment bytes.
    public static func recording(_ input: [UInt8]) { RecordingFuzz.run(input) }
    /// Input: a scenario file's text (direct or group scenario).
    public static func scenario(_ input: [UInt8]) { ScenarioFuzz.run(input) }
}
