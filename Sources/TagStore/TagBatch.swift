import Foundation
import GRDB

/// Plans the commit of one batch of queued writes with as few statements as the change log allows
/// (docs/performance.md; `TagRows.write` carries it out): a tag written several times in the batch gets one or
/// two upserts, and its earlier changes go to `tag_changes` as multi-row inserts.
///
/// The change log must read as if every write had been upserted on its own, in order: one row per write
/// that changes the tag's value, type or quality, in write order. The triggers log an upsert that changes
/// the row (an insert always), so for each tag written more than once the batch
/// - upserts its last write (the row must end up as that write left it);
/// - upserts its last change too, when that is an earlier write that the triggers would log (it differs from
///   the stored row), so that the last write finds the row as the last change left it and is not logged;
/// - inserts every other change itself, and the last change when the triggers would not log it (it equals the
///   row stored before the batch: `x`, `y`, `x`).
///
/// Inserted rows are buffered and written before the next upsert, so that seq order is write order.
struct TagBatch {
    /// A tag's logged state: what a change is a change of.
    struct State {
        var value: DatabaseValue
        var type: String?
        var quality: String

        init(_ write: TagWrite) {
            value = write.value.databaseValue
            type = write.value.typeName
            quality = write.quality.rawValue
        }

        init(value: DatabaseValue, type: String?, quality: String) {
            self.value = value
            self.type = type
            self.quality = quality
        }

        /// Whether SQLite's `IS` holds for all three columns, as the triggers compare them: numbers
        /// numerically, text and blobs byte by byte.
        func isSame(as other: State) -> Bool {
            State.same(value, other.value) && State.sameText(type, other.type) && State.sameText(quality, other.quality)
        }

        private static func same(_ a: DatabaseValue, _ b: DatabaseValue) -> Bool {
            switch (a.storage, b.storage) {
            case (.null, .null): true
            case (.int64(let x), .int64(let y)): x == y
            case (.double(let x), .double(let y)): x == y
            case (.int64(let x), .double(let y)), (.double(let y), .int64(let x)): Double(x) == y && Int64(exactly: y) == x
            case (.string(let x), .string(let y)): sameBytes(x, y)
            case (.blob(let x), .blob(let y)): x == y
            default: false
            }
        }

        /// Byte equality (Swift's `==` on strings is canonical equivalence, SQLite's is not).
        private static func sameBytes(_ a: String, _ b: String) -> Bool {
            var a = a
            var b = b
            return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0) } }
        }

        private static func sameText(_ a: String?, _ b: String?) -> Bool {
            switch (a, b) {
            case (nil, nil): true
            case (let x?, let y?): sameBytes(x, y)
            default: false
            }
        }
    }

    /// What the batch does with one write.
    enum Step: Equatable {
        /// Upsert it (the triggers log it if it changes the row).
        case upsert
        /// Insert its change-log row.
        case log
        /// Insert its change-log row, then upsert it (a change the triggers would not log).
        case logThenUpsert
        /// Nothing: a later write of the same tag supersedes it, and it changes nothing.
        case skip
    }

    /// The steps for `batch`, in order; `stored` gives a tag's row before the batch (nil: no row) and is asked
    /// only for tags written more than once.
    static func plan(_ batch: [TagWrite], stored: (String) throws -> State?) rethrows -> [Step] {
        // One entry per tag, found through one dictionary lookup per write.
        struct Entry {
            var writes = 0
            var lastWrite = 0
            var lastChange = -1
            /// Whether `before` has been read (only for tags written more than once).
            var fetched = false
            /// The row before the batch (nil: no row).
            var before: State?
            /// The state after the writes so far: the next write is a change if it differs from it.
            var current: State?
        }
        var entryIndex: [String: Int] = [:]
        entryIndex.reserveCapacity(batch.count)
        var entries: [Entry] = []
        var entryOf = [Int](repeating: 0, count: batch.count)
        for (index, write) in batch.enumerated() {
            let entry: Int
            if let known = entryIndex[write.name] {
                entry = known
            } else {
                entry = entries.count
                entryIndex[write.name] = entry
                entries.append(Entry())
            }
            entryOf[index] = entry
            entries[entry].writes += 1
            entries[entry].lastWrite = index
        }
        if entries.count == batch.count { return Array(repeating: .upsert, count: batch.count) }

        // For tags written more than once: which writes are changes, and the last of them.
        var isChange = [Bool](repeating: false, count: batch.count)
        for (index, write) in batch.enumerated() where entries[entryOf[index]].writes > 1 {
            let entry = entryOf[index]
            if !entries[entry].fetched {
                entries[entry].fetched = true
                let row = try stored(write.name)
                entries[entry].before = row
                entries[entry].current = row
            }
            let state = State(write)
            if entries[entry].current.map({ !$0.isSame(as: state) }) ?? true {
                isChange[index] = true
                entries[entry].lastChange = index
            }
            entries[entry].current = state
        }

        var steps = [Step](repeating: .upsert, count: batch.count)
        for (index, write) in batch.enumerated() where entries[entryOf[index]].writes > 1 {
            let entry = entries[entryOf[index]]
            switch (entry.lastWrite == index, entry.lastChange == index) {
            case (true, true):
                steps[index] = triggersLog(write, over: entry.before) ? .upsert : .logThenUpsert
            case (true, false):
                // Unchanged since the last change, which (upserted, or equal to the stored row) left the row as
                // this write has it: the upsert only moves updated_at.
                steps[index] = .upsert
            case (false, true):
                steps[index] = triggersLog(write, over: entry.before) ? .upsert : .log
            case (false, false):
                steps[index] = isChange[index] ? .log : .skip
            }
        }
        return steps
    }

    /// Whether the triggers log an upsert of `write` onto `row` (nil: no row, an insert).
    private static func triggersLog(_ write: TagWrite, over row: State?) -> Bool {
        row.map { !$0.isSame(as: State(write)) } ?? true
    }
}
