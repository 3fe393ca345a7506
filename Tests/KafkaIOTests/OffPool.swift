import Foundation

/// Runs blocking work (waiting for a child process) on a thread of its own and awaits it.
/// Swift concurrency's cooperative pool has one thread per core, two here: a test that
/// blocks one of them in a child's wait for seconds starves every other test running in
/// parallel, and their timing bounds fail under a full run although each passes alone.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
