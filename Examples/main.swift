// Runnable examples of the KafkaIO library, one file each; `swift run kgo-examples` lists them.
//
//   swift run kgo-examples producer       127.0.0.1:9092 demo
//   swift run kgo-examples consumer       127.0.0.1:9092 demo
//   swift run kgo-examples group-consumer 127.0.0.1:9092 demo my-group
//
// They are kept short on purpose and built in CI (Tools/test.sh builds every target), so
// they stay in step with the API.
import Foundation

let arguments = CommandLine.arguments.dropFirst()
let usage = "usage: kgo-examples producer|consumer BROKER TOPIC | group-consumer BROKER TOPIC GROUP\n"

func run(_ body: @escaping @Sendable () async throws -> Void) -> Never {
    let done = DispatchSemaphore(value: 0)
    let failure = FailureBox()
    Task.detached {
        do { try await body() } catch { failure.error = error }
        done.signal()
    }
    done.wait()
    if let error = failure.error {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

final class FailureBox: @unchecked Sendable { var error: (any Error)? }

switch (arguments.first, arguments.count) {
case ("producer", 3): run { [a = Array(arguments)] in try await ProducerExample.run(broker: a[1], topic: a[2]) }
case ("consumer", 3): run { [a = Array(arguments)] in try await ConsumerExample.run(broker: a[1], topic: a[2]) }
case ("group-consumer", 4): run { [a = Array(arguments)] in try await GroupConsumerExample.run(broker: a[1], topic: a[2], group: a[3]) }
default:
    FileHandle.standardError.write(Data(usage.utf8))
    exit(64)
}
