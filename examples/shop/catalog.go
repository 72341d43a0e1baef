package main

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/shopkit/shopkit/abtest"
	"github.com/shopkit/shopkit/logistics"
	"github.com/shopkit/shopkit/payout"
	"github.com/shopkit/shopkit/pricing"
	"github.com/shopkit/shopkit/routing"
)

// The shop's static data: what a real shop loads from its database and
// admin tools. Everything here is plain configuration for the packages.

// scale is the currency's minor-unit scale: prices in CNY, to the fen.
const scale = 2

var d = decimal.RequireFromString

type product struct {
	SKU   string   `json:"sku"`
	Name  string   `json:"name"`
	Price money    `json:"price"`
	Tags  []string `json:"tags"`
	Grams int64    `json:"grams"`
}

// products is the catalogue the shop opens with; an admin edits names and
// prices through the API (stored, so every instance sees the edit).
var products = []product{
	{SKU: "tea-longjing", Name: "Longjing green tea, 250 g", Price: yuan(d("168.00")), Tags: []string{"tea"}, Grams: 300},
	{SKU: "tea-puer", Name: "Pu'er tea cake, 357 g", Price: yuan(d("238.00")), Tags: []string{"tea"}, Grams: 420},
	{SKU: "cup-celadon", Name: "Celadon cup", Price: yuan(d("59.00")), Tags: []string{"teaware"}, Grams: 250},
	{SKU: "pot-yixing", Name: "Yixing clay teapot", Price: yuan(d("399.00")), Tags: []string{"teaware"}, Grams: 650},
}

// productBySKU finds sku in the opening catalogue: what the shop sells is
// fixed, its names and prices are not (see shop.product).
func productBySKU(sku string) (product, bool) {
	for _, p := range products {
		if p.SKU == sku {
			return p, true
		}
	}
	return product{}, false
}

// Warehouses, the delivery zones customers live in, and the lanes between
// them (cost in yuan per shipment, hours in transit).
var (
	warehouses = []string{"wh-hangzhou", "wh-guangzhou", "wh-beijing"}
	zones      = []string{"east", "south", "north"}
)

func network() (*routing.Graph, error) {
	locs := []routing.Location{
		{ID: "wh-hangzhou", Region: "east", Priority: 2},
		{ID: "wh-guangzhou", Region: "south", Priority: 1},
		{ID: "wh-beijing", Region: "north", Priority: 1},
		{ID: "east", Region: "east"}, {ID: "south", Region: "south"}, {ID: "north", Region: "north"},
	}
	lane := func(from, to string, cost, hours float64) routing.Lane {
		return routing.Lane{From: from, To: to, Cost: cost, Hours: hours}
	}
	lanes := []routing.Lane{
		lane("wh-hangzhou", "east", 8, 24), lane("wh-hangzhou", "south", 14, 48), lane("wh-hangzhou", "north", 14, 48),
		lane("wh-guangzhou", "south", 8, 24), lane("wh-guangzhou", "east", 14, 48), lane("wh-guangzhou", "north", 18, 72),
		lane("wh-beijing", "north", 8, 24), lane("wh-beijing", "east", 14, 48), lane("wh-beijing", "south", 18, 72),
		lane("wh-hangzhou", "wh-guangzhou", 5, 36), lane("wh-guangzhou", "wh-hangzhou", 5, 36),
		lane("wh-hangzhou", "wh-beijing", 5, 36), lane("wh-beijing", "wh-hangzhou", 5, 36),
	}
	return routing.Build(locs, lanes, routing.ByCost)
}

// openingStock is received into every warehouse when the shop starts
// (idempotently: restarting the shop receives nothing twice).
var openingStock = map[string]map[string]int64{
	"wh-hangzhou":  {"tea-longjing": 40, "tea-puer": 10, "cup-celadon": 60, "pot-yixing": 30},
	"wh-guangzhou": {"tea-longjing": 5, "tea-puer": 30, "cup-celadon": 20, "pot-yixing": 5},
	"wh-beijing":   {"tea-longjing": 10, "tea-puer": 10, "cup-celadon": 20, "pot-yixing": 5},
}

// Promotions: 10% off tea, 每满300减30 (30 off every full 300, at most 90),
// free shipping from 199, and a welcome coupon.
func promotions() []pricing.Promotion {
	return []pricing.Promotion{
		{ID: "tea-10", Kind: pricing.PercentOff, Percent: d("10"), Target: pricing.Target{Tags: []string{"tea"}}, Priority: 1},
		{ID: "every-300-save-30", Kind: pricing.Threshold, Threshold: d("300"), Off: d("30"), Repeat: true, Cap: d("90"), Priority: 2},
		{ID: "free-shipping-199", Kind: pricing.ShippingOff, Amount: d("10"), MinSpend: d("199"), Priority: 3},
		{ID: "welcome-20", Kind: pricing.FixedOff, Amount: d("20"), Coupon: "WELCOME20", MinSpend: d("100"), Priority: 4},
	}
}

// shippingCharge is what a customer pays for shipping before promotions.
var shippingCharge = d("10.00")

// coupons are the limits of each coupon code.
var coupons = map[string]pricing.CouponLimits{
	"WELCOME20": {Global: 1000, PerCustomer: 1},
}

// carriers are the rate tables the shop ships with.
func carriers() []logistics.Table {
	zonesFrom := func(local string) map[string]string {
		z := map[string]string{}
		for _, zone := range zones {
			z[zone] = "national"
		}
		z[local] = "local"
		return z
	}
	origin := map[string]map[string]string{
		"wh-hangzhou": zonesFrom("east"), "wh-guangzhou": zonesFrom("south"), "wh-beijing": zonesFrom("north"),
	}
	price := func(first, extra string) logistics.Price {
		return logistics.Price{FirstGrams: 1000, First: d(first), AdditionalGrams: 1000, Additional: d(extra)}
	}
	return []logistics.Table{
		{Carrier: "sf", Service: "express", Days: 1, StepGrams: 100, Zones: origin, Volumetric: logistics.Volumetric{Divisor: 6000},
			Prices: map[string]logistics.Price{"local": price("12", "2"), "national": price("22", "12")}},
		{Carrier: "yto", Service: "standard", Days: 3, StepGrams: 100, Zones: origin, Volumetric: logistics.Volumetric{Divisor: 6000},
			Prices: map[string]logistics.Price{"local": price("7", "1"), "national": price("11", "5")}},
	}
}

// boxFor packs a parcel of the given weight in the shop's standard boxes.
func boxFor(grams int64) logistics.Parcel {
	switch {
	case grams <= 1000:
		return logistics.Parcel{Grams: grams, LengthMM: 250, WidthMM: 180, HeightMM: 120}
	case grams <= 3000:
		return logistics.Parcel{Grams: grams, LengthMM: 350, WidthMM: 250, HeightMM: 200}
	}
	return logistics.Parcel{Grams: grams, LengthMM: 450, WidthMM: 350, HeightMM: 300}
}

// The money split of a paid order: the platform's commission, the payment
// processor's fee, the merchant's remainder, settled to the merchant seven
// days later.
var (
	commission   = payout.Fee{BasisPoints: 500, Min: 1} // 5%
	processorFee = payout.Fee{BasisPoints: 60}          // 0.6%
	settleAfter  = 7 * 24 * time.Hour
)

// Ledger accounts.
const (
	accountClearing  = "clearing"  // money received from buyers, before it is split
	accountPlatform  = "platform"  // commissions
	accountProcessor = "processor" // payment fees
	accountMerchant  = "merchant"  // the seller's proceeds
)

// experiment is the A/B test every visitor is in: the checkout page's copy.
var experiment = abtest.Experiment{Key: "checkout-copy", Variations: 2, HashVersion: 2}

var variantNames = []string{"A", "B"}

// The flash sale the shop runs: 20 teapots at 199, one per buyer.
const (
	flashSaleID  = "teapot-199"
	flashSKU     = "pot-yixing"
	flashUnits   = 20
	flashWarehse = "wh-hangzhou"
)

var flashPrice = d("199.00")
