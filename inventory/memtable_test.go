package inventory

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestResTableChains: IDs whose hashes collide share a chain and are each
// found; removing any of them (head, middle, tail) leaves the others
// found; freed slots are reused with a new generation; multi-line records
// keep their lines.
func TestResTableChains(t *testing.T) {
	var tb resTable
	c := &cell{item: Item{"sku", "wh"}}
	ids := []string{"a", "b", "c", "d"}
	slots := map[string]uint32{}
	for i, id := range ids {
		_, found, head := tb.find(7, id) // every ID hashes to 7
		if found {
			t.Fatalf("%s found before it was added", id)
		}
		lines := []memLine{{cell: c, qty: int64(i + 1)}}
		if id == "c" {
			lines = append(lines, memLine{cell: c, qty: 9})
		}
		slots[id] = tb.add(7, id, head, memReservation{state: Held}, lines)
	}
	check := func(present ...string) {
		t.Helper()
		for _, id := range ids {
			slot, found, _ := tb.find(7, id)
			want := false
			for _, p := range present {
				want = want || p == id
			}
			if found != want || found && (slot != slots[id] || tb.id(slot) != id) {
				t.Fatalf("find(%s) = slot %d, %v; want slot %d, %v", id, slot, found, slots[id], want)
			}
		}
	}
	check("a", "b", "c", "d")
	if l := tb.lines(slots["c"]); len(l) != 2 || l[1].qty != 9 {
		t.Fatalf("lines of c = %+v", l)
	}
	if l := tb.lines(slots["b"]); len(l) != 1 || l[0].qty != 2 {
		t.Fatalf("lines of b = %+v", l)
	}
	tb.remove(slots["c"], 7) // middle of the chain
	check("a", "b", "d")
	tb.remove(slots["d"], 7) // head: the newest
	check("a", "b")
	tb.remove(slots["a"], 7) // tail: the oldest
	check("b")
	_, _, head := tb.find(7, "e")
	slots["e"] = tb.add(7, "e", head, memReservation{state: Held}, []memLine{{cell: c, qty: 5}})
	ids = append(ids, "e")
	check("b", "e")
	if tb.slots != 4 {
		t.Fatalf("%d slots used, want 4 (freed ones reused)", tb.slots)
	}
	// The last freed slot (a's) is reused, one generation on.
	if s := slots["e"]; s != slots["a"] || tb.rec(s).gen != 1 {
		t.Fatalf("e took slot %d generation %d, want a's slot %d generation 1", s, tb.rec(s).gen, slots["a"])
	}
	if l := tb.lines(slots["c"]); l != nil {
		t.Fatalf("removed multi-line record c kept its lines %+v", l)
	}
}

// TestResTableChunks: records spread over several chunks keep their IDs,
// lines and states.
func TestResTableChunks(t *testing.T) {
	var tb resTable
	c := &cell{}
	const n = 3*chunkSize + 5
	for i := range n {
		id := "r" + strconv.Itoa(i)
		_, _, head := tb.find(uint64(i), id)
		tb.add(uint64(i), id, head, memReservation{state: Held, deadline: int64(i)}, []memLine{{cell: c, qty: int64(i + 1)}})
	}
	for i := range n {
		id := "r" + strconv.Itoa(i)
		slot, found, _ := tb.find(uint64(i), id)
		if !found || tb.rec(slot).deadline != int64(i) || tb.lines(slot)[0].qty != int64(i+1) {
			t.Fatalf("record %s: found %v, %+v", id, found, tb.rec(slot))
		}
	}
}

// TestDueQueueOrder: whatever order entries arrive in (in order, as a
// steady TTL gives, with some earlier ones among them, as a shorter TTL
// or a clock step back gives), pops return them by due time, interleaved
// with pushes, across chunk boundaries, and headDue agrees with the
// earliest entry held.
func TestDueQueueOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, lateShare := range []int{0, 1, 10, 50, 100} {
		var q dueQueue[slotEntry]
		var want []int64 // what the queue holds, kept sorted
		clock := int64(0)
		for step := 0; step < 20*runChunk; step++ {
			if rng.IntN(3) > 0 || len(want) == 0 {
				clock += int64(rng.IntN(3))
				at := clock
				if rng.IntN(100) < lateShare {
					at -= int64(rng.IntN(50))
				}
				q.push(slotEntry{at: at})
				i, _ := slices.BinarySearch(want, at)
				want = slices.Insert(want, i, at)
			} else {
				if !q.headDue(want[0]) || q.headDue(want[0]-1) {
					t.Fatalf("late %d%%, step %d: headDue wrong around %d", lateShare, step, want[0])
				}
				if got := q.pop().at; got != want[0] {
					t.Fatalf("late %d%%, step %d: pop = %d, want %d", lateShare, step, got, want[0])
				}
				want = want[1:]
			}
			if q.len() != len(want) {
				t.Fatalf("late %d%%, step %d: len = %d, want %d", lateShare, step, q.len(), len(want))
			}
		}
		for len(want) > 0 {
			if got := q.pop().at; got != want[0] {
				t.Fatalf("late %d%%, draining: pop = %d, want %d", lateShare, got, want[0])
			}
			want = want[1:]
		}
		if q.headDue(1 << 62) {
			t.Fatalf("late %d%%: an empty queue has something due", lateShare)
		}
	}
}
