package pricing

import "strconv"

// promoTexts are a promotion's amounts as its explanations print them.
type promoTexts struct {
	percent, amount, threshold, off, cap, discountPercent string
	tierThresholds, tierOffs                              []string
	buy, get, buyGet                                      string
	capped                                                string // ", at most N application(s)" or ""
}

func textsOf(p *Promotion) promoTexts {
	t := promoTexts{percent: p.Percent.String(), amount: p.Amount.String(), threshold: p.Threshold.String(),
		off: p.Off.String(), cap: p.Cap.String(), discountPercent: p.DiscountPercent.String(),
		buy: strconv.FormatInt(p.Buy, 10), get: strconv.FormatInt(p.Get, 10), buyGet: strconv.FormatInt(p.Buy+p.Get, 10)}
	if p.DiscountPercent.IsZero() {
		t.discountPercent = "100"
	}
	if p.MaxApplications > 0 {
		t.capped = ", at most " + strconv.FormatInt(p.MaxApplications, 10) + " application(s)"
	}
	for _, tier := range p.Tiers {
		t.tierThresholds = append(t.tierThresholds, tier.Threshold.String())
		t.tierOffs = append(t.tierOffs, tier.Off.String())
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
