package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shopkit/shopkit/funnel"
	"github.com/shopkit/shopkit/inventory"
	"github.com/shopkit/shopkit/seckill"
)

// stockForSale hands the flash sale its units by reserving them in the
// inventory, so the teapots on sale cannot also be sold at full price. It
// is the seckill.StockSource the gate asks, adapted to inventory.
type stockForSale struct {
	stock     *inventory.Store
	warehouse string
	hold      time.Duration
}

func (a stockForSale) Allocate(ctx context.Context, saleID, sku string, units int64) (int64, error) {
	r, err := a.stock.Reserve(ctx, inventory.Request{ID: "sale-" + saleID,
		Lines: []inventory.Line{{SKU: sku, Location: a.warehouse, Quantity: units}}, TTL: a.hold})
	var short *inventory.StockError
	if errors.As(err, &short) && short.Available > 0 {
		return a.Allocate(ctx, saleID, sku, short.Available) // what there is
	}
	if errors.Is(err, inventory.ErrIDConflict) { // set aside before, for less
		r, err = a.stock.Reservation(ctx, "sale-"+saleID)
	}
	if err != nil {
		return 0, err
	}
	return r.Lines[0].Quantity, nil
}

// Settle sells what the sale sold and receives the rest back into the
// warehouse: committing the set-aside units first and receiving back the
// unsold second never shows more stock than there is. Both steps are
// idempotent by the sale's ID, as the gate asks.
func (a stockForSale) Settle(ctx context.Context, saleID, sku string, sold, unsold int64) error {
	if _, err := a.stock.Commit(ctx, "sale-"+saleID); err != nil && !errors.Is(err, inventory.ErrCommitted) {
		return fmt.Errorf("commit the sale's units: %w", err)
	}
	if unsold <= 0 {
		return nil
	}
	_, err := a.stock.Adjust(ctx, inventory.Adjustment{ID: "settle-" + saleID, SKU: sku, Location: a.warehouse,
		Delta: unsold, Reason: inventory.ReasonReturn})
	if err != nil {
		return fmt.Errorf("receive the unsold units back: %w", err)
	}
	return nil
}

// openFlashSale opens today's teapot sale (a week long), once. The units
// stay reserved in the inventory for the whole sale, until the admin
// settles it (admin.go); shipping paid tickets (the buyer would give an
// address when paying) is left to the shop that grows from this example.
//
// The sale starts on the day the first instance opened it; that day is
// stored, so an instance started on a later day opens the same sale.
func (s *shop) openFlashSale(ctx context.Context) (seckill.Sale, error) {
	day, err := s.st.fix(ctx, "sale-start:"+flashSaleID, s.now().UTC().Truncate(24*time.Hour).Format(time.RFC3339))
	if err != nil {
		return seckill.Sale{}, err
	}
	start, err := time.Parse(time.RFC3339, day)
	if err != nil {
		return seckill.Sale{}, fmt.Errorf("stored start of the flash sale: %w", err)
	}
	sale := seckill.Sale{ID: flashSaleID, SKU: flashSKU, Units: flashUnits, Start: start,
		End: start.Add(7 * 24 * time.Hour), PerUserLimit: 1, PayWithin: s.holdFor}
	src := stockForSale{stock: s.st.stock, warehouse: flashWarehse, hold: 8 * 24 * time.Hour}
	return s.st.gate.OpenFrom(ctx, sale, src)
}

// admit is one buyer's try for the sale: the gate decides atomically.
func (s *shop) admit(ctx context.Context, user, variant, requestID string) (seckill.Admission, error) {
	a, err := s.st.gate.Admit(ctx, seckill.AdmitRequest{SaleID: flashSaleID, UserID: user, RequestID: requestID, Quantity: 1})
	if err == nil && a.Outcome == seckill.Admitted && !a.Replayed {
		if err := s.st.countAdmission(ctx, s.now()); err != nil {
			s.warn("admissions", "counting a flash-sale admission: %v", err)
		}
		s.track(ctx, "admit-"+a.Ticket.ID, user, variant, funnel.DefaultOrderEvent, flashPrice, "flash-"+a.Ticket.ID)
	}
	return a, err
}

// flashOrder creates the order of an admitted ticket, once: the
// admission and the queue consumer both call it.
func (s *shop) flashOrder(ctx context.Context, t seckill.Ticket, variant string) (orderRecord, error) {
	p, _ := s.product(flashSKU)
	now := s.now().UTC()
	o := orderRecord{ID: "flash-" + t.ID, User: t.UserID, Variant: variant, State: stateAwaitingPayment, FlashTicket: t.ID,
		Lines: []orderLine{{SKU: flashSKU, Quantity: t.Quantity, UnitPrice: p.Price,
			Discount: yuan(p.Price.Sub(flashPrice)), Total: yuan(flashPrice)}},
		Subtotal: p.Price, Discount: yuan(p.Price.Sub(flashPrice)), Total: yuan(flashPrice), ExpiresAt: t.Deadline,
		Fulfilment: []fulfilment{{Warehouse: flashWarehse, Lines: []lineQty{{SKU: flashSKU, Quantity: t.Quantity}}}},
		Created:    now, Updated: now}
	return s.st.orders.create(ctx, o)
}

// consumeTickets turns admitted tickets from the sale's order queue into
// orders awaiting payment; a ticket is acknowledged once its order exists,
// so a crash in between redelivers it (and the order is created once).
func (s *shop) consumeTickets(ctx context.Context) error {
	tickets, err := s.st.gate.Consume(ctx, seckill.ConsumeRequest{SaleID: flashSaleID, Group: "orders", Consumer: "shop", Count: 100, MinIdle: time.Minute})
	if err != nil {
		return err
	}
	var acks []string
	for _, q := range tickets {
		variant, err := s.variant(ctx, q.Ticket.UserID)
		if err != nil {
			return err // unacknowledged: delivered again
		}
		if _, err := s.flashOrder(ctx, q.Ticket, variant); err != nil {
			return err // unacknowledged: delivered again
		}
		acks = append(acks, q.MessageID)
	}
	if len(acks) == 0 {
		return nil
	}
	return s.st.gate.Ack(ctx, seckill.AckRequest{SaleID: flashSaleID, Group: "orders", MessageIDs: acks})
}
