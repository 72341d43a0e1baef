package payout

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrMonthlyCap means a share would take a personal receiver past its
// monthly cap (SharingOptions.PersonalMonthlyCap). Nothing was posted.
var ErrMonthlyCap = errors.New("payout: personal receiver's monthly cap reached")

// MaxSharingReceivers bounds the receivers of one sharing instruction, as
// WeChat Pay does.
const MaxSharingReceivers = 50

// Sharing runs profit sharing the way WeChat Pay's 分账 runs it, as
// transactions on a guarded Ledger: an order's funds are frozen when it is
// paid, net of the payment fee; sharing instructions move parts of what is
// still frozen to receivers; refunds come out of what is frozen; a
// receiver may return a share (never more than it got from that share);
// and unfreezing moves what is left to the merchant. Every call is one
// balanced, atomic, idempotent posting (by the request's ID), and the
// ledger's balance guard does the checking: a share or refund beyond what
// is frozen, a return beyond what the receiver got or still holds, and a
// personal receiver past its monthly cap are refused with nothing posted.
//
// The books it keeps, beside the receivers' and the merchant's own
// accounts: "sharing.frozen.<order>" (what is frozen),
// "sharing.ret.<len(share ID)>.<share ID>.<receiver>" (what the receiver
// may still return from that share),
// "sharing.cap.<receiver>.<YYYYMM>" (what a personal receiver may still
// take that month) and "sharing.control", the opposite side of the last
// two, which NewSharing opens as allowed to go negative. Keep your own
// accounts out of the "sharing." names. Accounts and IDs follow the
// ledger's ID rules, the composed names included (at most 128 bytes), so
// keep order, share and receiver IDs short. WeChat Pay allows 50 receivers
// per order; this bounds each instruction at MaxSharingReceivers.
type Sharing struct {
	l    *Ledger
	opts SharingOptions
}

// SharingOptions configure a Sharing. The zero value means the defaults.
type SharingOptions struct {
	// Clearing is the account payments arrive from (allowed to go
	// negative; NewSharing opens it so). Default "sharing.clearing".
	Clearing string
	// Fees is the account payment fees go to. Default "sharing.fees".
	Fees string
	// PersonalMonthlyCap is how much one personal receiver may receive in
	// shares per calendar month, in minor units; 0 for no cap.
	PersonalMonthlyCap int64
	// Location sets the calendar months of the cap. Default UTC.
	Location *time.Location
	// Now is the clock that picks the month. Default time.Now.
	Now func() time.Time
}

// NewSharing returns a Sharing on l, which must guard balances
// (LedgerOptions.GuardBalances): the guard is what keeps shares, refunds,
// returns and caps within bounds. It opens the clearing and control
// accounts as allowed to go negative.
func NewSharing(ctx context.Context, l *Ledger, opts SharingOptions) (*Sharing, error) {
	if !l.GuardsBalances() {
		return nil, &InputError{Field: "Ledger", Rule: "must guard balances (LedgerOptions.GuardBalances)"}
	}
	if opts.Clearing == "" {
		opts.Clearing = "sharing.clearing"
	}
	if opts.Fees == "" {
		opts.Fees = "sharing.fees"
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PersonalMonthlyCap < 0 || opts.PersonalMonthlyCap > MaxAmount {
		return nil, &InputError{Field: "PersonalMonthlyCap", Rule: "must be in 0..2^53-1"}
	}
	for _, a := range []string{opts.Clearing, sharingControl} {
		if err := l.OpenAccount(ctx, AccountOptions{Account: a, AllowNegative: true}); err != nil {
			return nil, err
		}
	}
	return &Sharing{l: l, opts: opts}, nil
}

const sharingControl = "sharing.control"

func frozenAccount(order string) string { return "sharing.frozen." + order }

// returnableAccount names what receiver may still return from share. The
// share ID's length goes first, so no two (share, receiver) pairs share a
// name whatever dots their IDs hold.
func returnableAccount(share, receiver string) string {
	return "sharing.ret." + strconv.Itoa(len(share)) + "." + share + "." + receiver
}

// FreezeRequest freezes a paid order's funds for sharing.
type FreezeRequest struct {
	// ID makes the call idempotent.
	ID      string
	OrderID string
	// Amount is what the customer paid; Fee is the payment fee, taken
	// first. What is frozen is Amount − Fee.
	Amount, Fee int64
}

// Freeze posts a paid order's funds: Amount from the clearing account,
// Fee to the fee account, the rest frozen for the order.
func (s *Sharing) Freeze(ctx context.Context, r FreezeRequest) (Posted, error) {
	if r.Amount <= 0 || r.Fee < 0 || r.Fee > r.Amount {
		return Posted{}, &InputError{Field: "Amount", Rule: "must be > 0, with 0 ≤ Fee ≤ Amount"}
	}
	ps := []Posting{{Account: s.opts.Clearing, Amount: -r.Amount}, {Account: frozenAccount(r.OrderID), Amount: r.Amount - r.Fee}}
	if r.Fee > 0 {
		ps = append(ps, Posting{Account: s.opts.Fees, Amount: r.Fee})
	}
	return s.l.Post(ctx, Transaction{ID: r.ID, Postings: ps})
}

// Receiver is one receiver of a sharing instruction.
type Receiver struct {
	Account string
	Amount  int64 // > 0
	// Personal receivers (individuals, not merchants) count against
	// SharingOptions.PersonalMonthlyCap.
	Personal bool
}

// ShareRequest is one sharing instruction for an order.
type ShareRequest struct {
	// ID identifies the instruction: it makes Share idempotent and names
	// the share in ReturnRequest.
	ID        string
	OrderID   string
	Receivers []Receiver // 1..MaxSharingReceivers, distinct accounts
}

// Share moves each receiver's amount out of what is frozen for the order,
// in one posting. It is refused (*InsufficientFundsError naming the
// frozen account) when the order has less frozen than the instruction
// shares — after refunds, earlier shares and the fee — and with
// ErrMonthlyCap when a personal receiver would pass its monthly cap.
func (s *Sharing) Share(ctx context.Context, r ShareRequest) (Posted, error) {
	if len(r.Receivers) == 0 || len(r.Receivers) > MaxSharingReceivers {
		return Posted{}, &InputError{Field: "Receivers", Rule: "must hold 1.." + strconv.Itoa(MaxSharingReceivers) + " receivers"}
	}
	month := s.opts.Now().In(s.opts.Location).Format("200601")
	seen := map[string]bool{}
	var total, personal int64
	var ps []Posting
	for i, rc := range r.Receivers {
		f := "Receivers[" + strconv.Itoa(i) + "]"
		if err := checkID(f+".Account", rc.Account); err != nil {
			return Posted{}, err
		}
		if seen[rc.Account] {
			return Posted{}, &InputError{Field: f + ".Account", Rule: "must be distinct"}
		}
		seen[rc.Account] = true
		if rc.Amount <= 0 || rc.Amount > MaxAmount {
			return Posted{}, &InputError{Field: f + ".Amount", Rule: "must be in 1..2^53-1"}
		}
		total += rc.Amount
		if total > MaxAmount {
			return Posted{}, &InputError{Field: "Receivers", Rule: "must share at most 2^53-1 in all"}
		}
		ps = append(ps, Posting{Account: rc.Account, Amount: rc.Amount}, Posting{Account: returnableAccount(r.ID, rc.Account), Amount: rc.Amount})
		if rc.Personal && s.opts.PersonalMonthlyCap > 0 {
			if err := s.fundCap(ctx, rc.Account, month); err != nil {
				return Posted{}, err
			}
			ps = append(ps, Posting{Account: capAccount(rc.Account, month), Amount: -rc.Amount})
			personal += rc.Amount
		}
	}
	ps = append(ps, Posting{Account: frozenAccount(r.OrderID), Amount: -total})
	if personal != total { // the returnable credits less the cap debits
		ps = append(ps, Posting{Account: sharingControl, Amount: personal - total})
	}
	p, err := s.l.Post(ctx, Transaction{ID: r.ID, Postings: ps})
	var short *InsufficientFundsError
	if errors.As(err, &short) && strings.HasPrefix(short.Account, "sharing.cap.") {
		return Posted{}, fmt.Errorf("%w: %w", ErrMonthlyCap, err)
	}
	return p, err
}

func capAccount(receiver, month string) string { return "sharing.cap." + receiver + "." + month }

// fundCap gives a personal receiver its month's allowance, once: the
// posting's ID is the receiver and month, so every later call replays it.
func (s *Sharing) fundCap(ctx context.Context, receiver, month string) error {
	_, err := s.l.Post(ctx, Transaction{ID: "sharing.cap." + receiver + "." + month, Postings: []Posting{
		{Account: sharingControl, Amount: -s.opts.PersonalMonthlyCap}, {Account: capAccount(receiver, month), Amount: s.opts.PersonalMonthlyCap}}})
	if errors.Is(err, ErrIDConflict) {
		return nil // funded this month under another cap; that one stands
	}
	return err
}

// Sharable returns what is still frozen for the order: what it paid, less
// the fee, shares, refunds, and plus returns.
func (s *Sharing) Sharable(ctx context.Context, orderID string) (int64, error) {
	b, err := s.l.Balances(ctx, frozenAccount(orderID))
	if err != nil {
		return 0, err
	}
	return b[0].Available, nil
}

// RefundRequest refunds part of an order from what is still frozen.
type RefundRequest struct {
	ID      string
	OrderID string
	Amount  int64
}

// Refund moves Amount from the order's frozen funds back to the clearing
// account, refused (*InsufficientFundsError) beyond what is frozen: have
// receivers return shares first.
func (s *Sharing) Refund(ctx context.Context, r RefundRequest) (Posted, error) {
	if r.Amount <= 0 || r.Amount > MaxAmount {
		return Posted{}, &InputError{Field: "Amount", Rule: "must be in 1..2^53-1"}
	}
	return s.l.Post(ctx, Transaction{ID: r.ID, Postings: []Posting{
		{Account: frozenAccount(r.OrderID), Amount: -r.Amount}, {Account: s.opts.Clearing, Amount: r.Amount}}})
}

// ReturnRequest returns part of one receiver's share to the order.
type ReturnRequest struct {
	ID       string
	OrderID  string
	ShareID  string
	Receiver string
	Amount   int64
}

// Return moves Amount from the receiver back into the order's frozen
// funds (to refund, or share again, or unfreeze to the merchant). It is
// refused (*InsufficientFundsError) beyond what the receiver got from that
// share less what it returned, or beyond what the receiver holds.
func (s *Sharing) Return(ctx context.Context, r ReturnRequest) (Posted, error) {
	if r.Amount <= 0 || r.Amount > MaxAmount {
		return Posted{}, &InputError{Field: "Amount", Rule: "must be in 1..2^53-1"}
	}
	return s.l.Post(ctx, Transaction{ID: r.ID, Postings: []Posting{
		{Account: r.Receiver, Amount: -r.Amount},
		{Account: returnableAccount(r.ShareID, r.Receiver), Amount: -r.Amount},
		{Account: frozenAccount(r.OrderID), Amount: r.Amount},
		{Account: sharingControl, Amount: r.Amount}}})
}

// UnfreezeRequest releases what is left of an order to its merchant.
type UnfreezeRequest struct {
	ID       string
	OrderID  string
	Merchant string
}

// Unfreeze moves everything still frozen for the order to the merchant
// and returns the posting (an order with nothing frozen posts nothing and
// returns ErrNothingFrozen). A share racing it makes one of the two fail
// on the guard; Unfreeze reads again and retries a few times.
func (s *Sharing) Unfreeze(ctx context.Context, r UnfreezeRequest) (Posted, error) {
	if p, err := s.l.Transaction(ctx, r.ID); err == nil {
		p.Replayed = true
		return p, nil
	}
	for try := 0; ; try++ {
		b, err := s.l.Balances(ctx, frozenAccount(r.OrderID))
		if err != nil {
			return Posted{}, err
		}
		left := b[0].Available
		if left <= 0 {
			return Posted{}, ErrNothingFrozen
		}
		p, err := s.l.Post(ctx, Transaction{ID: r.ID, Postings: []Posting{
			{Account: frozenAccount(r.OrderID), Amount: -left}, {Account: r.Merchant, Amount: left}}})
		if errors.Is(err, ErrInsufficientFunds) && try < 3 {
			continue
		}
		return p, err
	}
}

// ErrNothingFrozen means Unfreeze found nothing frozen for the order.
var ErrNothingFrozen = errors.New("payout: nothing frozen for the order")
