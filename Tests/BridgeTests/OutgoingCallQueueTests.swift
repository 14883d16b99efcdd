import OCPPRPC
import Testing

@testable import Bridge

@Suite struct OutgoingCallQueueTests {
    func call(_ id: String) -> OutgoingCallQueue.Call { .init(id: id, action: "Reset", payload: ["type": "Soft"]) }

    @Test func sendsTheFirstCallAtOnceAndQueuesTheRest() {
        var queue = OutgoingCallQueue()
        #expect(queue.enqueue(call("a")) == call("a"))
        #expect(queue.enqueue(call("b")) == nil)
        #expect(queue.enqueue(call("c")) == nil)
        #expect(queue.count == 3)
        #expect(queue.inFlight == call("a"))
    }

    @Test func anAnswerReleasesTheNextCallInOrder() {
        var queue = OutgoingCallQueue()
        _ = queue.enqueue(call("a"))
        _ = queue.enqueue(call("b"))
        _ = queue.enqueue(call("c"))
        let first = queue.complete(id: "a")
        #expect(first.completed == call("a"))
        #expect(first.next == call("b"))
        let second = queue.complete(id: "b")
        #expect(second.next == call("c"))
        let third = queue.complete(id: "c")
        #expect(third.completed == call("c"))
        #expect(third.next == nil)
        #expect(queue.count == 0)
    }

    @Test func anAnswerWithAnUnknownIdChangesNothing() {
        var queue = OutgoingCallQueue()
        _ = queue.enqueue(call("a"))
        _ = queue.enqueue(call("b"))
        let result = queue.complete(id: "b")  // b is not in flight yet
        #expect(result.completed == nil)
        #expect(result.next == nil)
        #expect(queue.inFlight == call("a"))
        #expect(queue.count == 2)
    }

    @Test func cancellingTheCallInFlightSendsTheNext() {
        var queue = OutgoingCallQueue()
        _ = queue.enqueue(call("a"))
        _ = queue.enqueue(call("b"))
        let result = queue.cancel(id: "a")
        #expect(result.found)
        #expect(result.next == call("b"))
        // A late answer to the cancelled call is unknown now.
        #expect(queue.complete(id: "a").completed == nil)
    }

    @Test func cancellingAWaitingCallRemovesItOnly() {
        var queue = OutgoingCallQueue()
        _ = queue.enqueue(call("a"))
        _ = queue.enqueue(call("b"))
        _ = queue.enqueue(call("c"))
        let result = queue.cancel(id: "b")
        #expect(result.found)
        #expect(result.next == nil)
        #expect(queue.complete(id: "a").next == call("c"))
    }

    @Test func drainReturnsEverythingPending() {
        var queue = OutgoingCallQueue()
        for id in ["a", "b", "c"] { _ = queue.enqueue(call(id)) }
        #expect(queue.drain().map(\.id) == ["a", "b", "c"])
        #expect(queue.count == 0)
        #expect(queue.enqueue(call("d")) == call("d"))
    }

    @Test func longQueuesStayInOrder() {
        var queue = OutgoingCallQueue()
        for n in 0..<500 { _ = queue.enqueue(call("\(n)")) }
        var order: [String] = []
        var current: String? = "0"
        while let id = current {
            order.append(id)
            current = queue.complete(id: id).next?.id
        }
        #expect(order == (0..<500).map { "\($0)" })
    }
}
