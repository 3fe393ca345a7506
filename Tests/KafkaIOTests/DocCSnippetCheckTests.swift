import Foundation
import Testing

/// Every `swift` code block of the DocC articles is code the tests compile: its lines
/// (imports and blank lines aside, indentation ignored) appear in this order, one after the
/// other, in one of the compiled snippet files (DocCSnippets.swift, the Readme*Example.swift
/// files, Examples/). A block that needs a package this one does not depend on is listed in
/// `notCompiled` with why.
@Suite struct DocCSnippetCheckTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Blocks that cannot compile here, recognised by a line they contain.
    static let notCompiled: [(line: String, why: String)] = [
        (".package(url:", "a Package.swift excerpt"),
        (".product(name:", "a Package.swift excerpt"),
        ("PrometheusMetricsFactory", "needs swift-prometheus, which this package does not depend on"),
    ]

    static func normalized(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("import ") }
    }

    /// The `swift` fenced blocks of a markdown text.
    static func swiftBlocks(_ markdown: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]? = nil
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if current == nil, t == "```swift" {
                current = []
            } else if current != nil, t == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else if current != nil {
                current!.append(line)
            }
        }
        return blocks
    }

    static func files(under folder: String, ext: String) throws -> [URL] {
        let dir = root.appendingPathComponent(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(ext) }.sorted()
        return names.map { dir.appendingPathComponent($0) }
    }

    @Test func everySwiftBlockOfTheArticlesIsCompiled() throws {
        var compiled: [[String]] = []
        for folder in ["Tests/KafkaIOTests", "Tests/KafkaMetricsTests", "Tests/KafkaTracingTests", "Examples"] {
            for file in try Self.files(under: folder, ext: ".swift") {
                compiled.append(Self.normalized(try String(contentsOf: file, encoding: .utf8)))
            }
        }
        let articles = try Self.files(under: "Sources/KafkaIO/KafkaIO.docc", ext: ".md")
        #expect(articles.count >= 10)
        var checked = 0
        for article in articles {
            for block in Self.swiftBlocks(try String(contentsOf: article, encoding: .utf8)) {
                if Self.notCompiled.contains(where: { block.contains($0.line) }) { continue }
                let lines = Self.normalized(block)
                guard !lines.isEmpty else { continue }
                let found = compiled.contains { file in
                    file.indices.contains { i in i + lines.count <= file.count && Array(file[i ..< i + lines.count]) == lines }
                }
                #expect(found, "\(article.lastPathComponent): a swift block not found in any compiled file:\n\(block)")
                checked += 1
            }
        }
        #expect(checked >= 20)
    }

    /// The check itself can fail: a block with a line no file has is not found.
    @Test func aBlockNotInAnyFileIsReported() {
        let blocks = Self.swiftBlocks("text\n```swift\nlet x = nowhere()\n```\n")
        #expect(blocks == ["let x = nowhere()"])
        #expect(Self.normalized("import KafkaIO\n\n   let a = 1\n") == ["let a = 1"])
    }
}
