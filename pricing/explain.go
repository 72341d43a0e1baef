package pricing

import (
	"strconv"

	"github.com/shopspring/decimal"
)

// promoTexts are a promotion's amounts as its explanations print them.
type promoTexts struct {
	percent, amount, threshold, off, cap, discountPercent string
	tierThresholds, tierOffs                              []string
	buy, get, buyGet                                      string
	capped                                                string // ", at most N application(s)" or ""
	minSpend                                              string
}

// textsOf formats p's amounts at cart scale sc, as the engine counts them
// (rounded down to the scale, as scale does), and its percentages as given.
func textsOf(p *Promotion, sc int32) promoTexts {
	money := func(v decimal.Decimal) string { return v.RoundFloor(sc).StringFixed(sc) }
	t := promoTexts{percent: p.Percent.String(), amount: money(p.Amount), threshold: money(p.Threshold),
		off: money(p.Off), cap: money(p.Cap), discountPercent: p.DiscountPercent.String(), minSpend: money(p.MinSpend),
		buy: strconv.FormatInt(p.Buy, 10), get: strconv.FormatInt(p.Get, 10), buyGet: strconv.FormatInt(p.Buy+p.Get, 10)}
	if p.DiscountPercent.IsZero() {
		t.discountPercent = "100"
	}
	if p.MaxApplications > 0 {
		t.capped = ", at most " + strconv.FormatInt(p.MaxApplications, 10) + " application(s)"
	}
	for _, tier := range p.Tiers {
		t.tierThresholds = append(t.tierThresholds, money(tier.Threshold))
		t.tierOffs = append(t.tierOffs, money(tier.Off))
	}
	return t
}

// formatMinor writes v minor units at scale sc as a decimal with exactly
// sc decimals, as decimal.New(v, -sc).StringFixed(sc) does, without its
// allocations.
func formatMinor(v int64, sc int32) string {
	u := uint64(v)
	if v < 0 {
		u = -u
	}
	var d [24]byte // 20 digits, a point and a sign
	i := len(d)
	for n := int32(0); ; n++ {
		if n == sc && sc > 0 {
			i--
			d[i] = '.'
		}
		i--
		d[i] = byte('0' + u%10)
		if u /= 10; u == 0 && n >= sc {
			break
		}
	}
	if v < 0 {
		i--
		d[i] = '-'
	}
	return string(d[i:])
}
