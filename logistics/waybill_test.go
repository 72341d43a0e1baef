package logistics_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/shopkit/shopkit/logistics"
)

func TestCreateWaybills(t *testing.T) {
	ctx := context.Background()
	carrier := &logistics.FakeCarrier{Fail: map[string]bool{"o007": true, "o042": true}}
	var reg logistics.MemoryRegistry
	var reqs []logistics.WaybillRequest
	for i := 0; i < 120; i++ {
		reqs = append(reqs, logistics.WaybillRequest{OrderCode: fmt.Sprintf("o%03d", i)})
	}
	reqs = append(reqs, logistics.WaybillRequest{OrderCode: "o001"}) // a duplicate in the batch

	res := logistics.CreateWaybills(ctx, carrier, &reg, reqs, logistics.BatchOptions{ChunkSize: 25, Concurrency: 3})
	failed := 0
	for _, r := range res {
		if r.Err != nil {
			failed++
		}
	}
	if failed != 3 || carrier.Created() != 118 || carrier.Calls != 5 {
		t.Fatalf("failed %d, created %d, calls %d; want 3 (two rejected, one duplicate), 118, 5 chunks", failed, carrier.Created(), carrier.Calls)
	}
	if res[7].Err == nil || res[8].Err != nil || res[8].Waybill.Number == "" {
		t.Fatalf("per-item results out of place: %+v %+v", res[7], res[8])
	}

	// Retry the whole batch: only the two failures are sent, and nobody
	// gets a second waybill (the fake carrier would refuse).
	res = logistics.CreateWaybills(ctx, carrier, &reg, reqs[:120], logistics.BatchOptions{ChunkSize: 25, Concurrency: 3})
	reused := 0
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("retry: %v", r.Err)
		}
		if r.Reused {
			reused++
		}
	}
	if reused != 118 || carrier.Created() != 120 {
		t.Fatalf("retry reused %d, created %d; want 118 and 120", reused, carrier.Created())
	}
}
