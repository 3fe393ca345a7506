import Foundation

/// Where the package's executables (`kgo`, `kgo-examples`) were built for this test run.
/// `swift test` builds them beside the test bundle, in the directory of whichever
/// configuration it ran (CI runs the tests in release, a developer usually in debug), so the
/// directory of the running test executable is asked first; `.build/debug` and
/// `.build/release` under the package root are the fallbacks.
public enum BuiltExecutable {
    public static func url(_ name: String) -> URL? {
        var candidates: [URL] = []
        if let running = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: running).deletingLastPathComponent().appendingPathComponent(name))
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/\(name)"))
        candidates.append(root.appendingPathComponent(".build/release/\(name)"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }
}
