package seckill

import (
	"context"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/shopkit/shopkit/internal/opscript"
)

// bucketID names bucket b of a sale. Bucket 0 is the sale itself; the
// others add ":b", which no user-supplied ID can contain, so bucket IDs
// never collide with sale IDs.
func bucketID(saleID string, b int) string {
	if b == 0 {
		return saleID
	}
	return saleID + ":" + strconv.Itoa(b)
}

// bucketOf is the bucket that serves user: the same one every time, so the
// per-buyer limit is counted in one place.
func bucketOf(user string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(user))
	return int(h.Sum32() % uint32(n))
}

// ticketID makes a bucket's ticket ID unique in the sale: bucket b > 0
// prefixes "b-".
func ticketID(b int, id string) string {
	if b == 0 {
		return id
	}
	return strconv.Itoa(b) + "-" + id
}

func splitTicketID(id string) (int, string) {
	bs, rest, ok := strings.Cut(id, "-")
	if !ok {
		return 0, id
	}
	b, err := strconv.Atoi(bs)
	if err != nil || b <= 0 {
		return 0, id
	}
	return b, rest
}

// buckets returns how many buckets a sale has, asking the backend once.
func (g *Gate) buckets(ctx context.Context, saleID string) (int, error) {
	if n, ok := g.bucketCount.Load(saleID); ok {
		return n.(int), nil
	}
	n, err := g.backend.buckets(ctx, saleID)
	if err != nil {
		return 0, err
	}
	g.bucketCount.Store(saleID, n)
	return n, nil
}

// moveTries and movePause bound how long each side of a stock move is
// repeated after an error: ten seconds, long enough to ride out a Redis
// restart or a Sentinel failover.
const (
	moveTries = 20
	movePause = 500 * time.Millisecond
)

// repeat runs op under one operation ID until it succeeds or moveTries run
// out. Each side of a move is repeated, not abandoned, because an error
// leaves its outcome unknown: a take may have removed units that nobody
// would give back, a give may not have added them. Under one ID every
// repeat applies once (and a take reports what the first one took). The
// repeats outlive the caller's context: units in transit must not be
// stranded because one buyer gave up.
func (g *Gate) repeat(ctx context.Context, op func(ctx context.Context, opID string) error) error {
	ctx = context.WithoutCancel(ctx)
	opID := opscript.NewID()
	var err error
	for try := 0; try < moveTries; try++ {
		if err = op(ctx, opID); err == nil {
			return nil
		}
		time.Sleep(movePause)
	}
	return err
}

// rebalancePasses is a backstop against livelock, not the rule that ends
// the loop below: a pass that fails after a move means other buyers took
// what it moved, so the passes are bounded by the sale's stock long before
// they reach it.
const rebalancePasses = 1024

// transitWaits and transitPause bound how long an admission waits for
// units another admission is moving between buckets to land: a move is two
// round trips, so a few milliseconds; units still missing after that were
// lost by a mover that crashed and will not land.
const (
	transitWaits = 10
	transitPause = 2 * time.Millisecond
)

// rebalanceAndRetry moves stock into bucket b (see moveInto), then retries
// the admission there. Buyers of the same bucket may take the moved units
// first, so it moves and retries again, and answers SoldOut only once a
// pass moves nothing and the sale's books show fewer than qty units left
// anywhere: a buyer is not turned away while units sit in another bucket.
// (An earlier version gave up after eight passes, and with eight buyers
// racing for each moved unit a 300-unit sale ended with 23 units unsold
// after 320 requests.) Take then give is not atomic across buckets (they
// may live on different Cluster nodes): a crash in between loses the
// units to the sale, it never sells them twice. Each side is retry-safe on
// Redis (a resent take or give answers from its operation record), so
// client retries move stock exactly once.
func (g *Gate) rebalanceAndRetry(ctx context.Context, saleID string, b, n int, userID, requestID string, qty int64) (Admission, error) {
	var a Admission
	waits := 0
	for pass := 0; pass < rebalancePasses; pass++ {
		if err := ctx.Err(); err != nil {
			return Admission{}, err
		}
		moved, err := g.moveInto(ctx, saleID, b, n, qty)
		if err != nil {
			return Admission{}, err
		}
		a, err = g.backend.admit(ctx, bucketID(saleID, b), userID, requestID, qty)
		if err != nil || a.Outcome != SoldOut || a.Replayed {
			return a, err
		}
		if !moved {
			// Nothing left to move: units in transit between other
			// buckets are the only ones that could be left. The books
			// say: units in no bucket are in transit (or were lost by a
			// mover that crashed, which is why the waiting is bounded).
			st, err := g.status(ctx, saleID)
			if err != nil {
				return a, nil
			}
			inTransit := st.Units - st.Remaining - st.Held - st.Paid
			if st.Remaining+inTransit < qty || waits >= transitWaits {
				return a, nil
			}
			waits++
			time.Sleep(transitPause)
		}
	}
	return a, nil
}

// moveInto moves stock into bucket b from the first other bucket that has
// at least qty (taking half of what it has, so dry buckets fill up in few
// moves), and reports whether it moved any. When no bucket has qty on its
// own it gathers from each in turn until b could have qty, so a request
// for several units is not refused because the sale's last units are
// spread one here, one there.
func (g *Gate) moveInto(ctx context.Context, saleID string, b, n int, qty int64) (bool, error) {
	for i := 1; i < n; i++ {
		got, err := g.moveFrom(ctx, saleID, (b+i)%n, b, qty)
		if err != nil || got > 0 {
			return got > 0, err
		}
	}
	if qty == 1 {
		return false, nil
	}
	var gathered int64
	for i := 1; i < n && gathered < qty; i++ {
		got, err := g.moveFrom(ctx, saleID, (b+i)%n, b, 1)
		if err != nil {
			return gathered > 0, err
		}
		gathered += got
	}
	return gathered > 0, nil
}

// moveFrom moves at least min units (half the donor's stock if that is
// more) from bucket donor to bucket b, or none if donor has fewer than
// min, and returns how many it moved.
func (g *Gate) moveFrom(ctx context.Context, saleID string, donor, b int, min int64) (int64, error) {
	var got int64
	err := g.repeat(ctx, func(ctx context.Context, opID string) (err error) {
		got, err = g.backend.take(ctx, bucketID(saleID, donor), min, opID)
		return err
	})
	if err != nil || got == 0 {
		return 0, err
	}
	return got, g.repeat(ctx, func(ctx context.Context, opID string) error {
		return g.backend.give(ctx, bucketID(saleID, b), got, opID)
	})
}
