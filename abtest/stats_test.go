package abtest_test

import (
	"errors"
	"math"
	"testing"

	"github.com/shopkit/shopkit/abtest"
)

// near checks agreement to within tol.
func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.12g, want %.12g (±%g)", name, got, want, tol)
	}
}

// gbstats' TwoSidedTTest test case (packages/stats/tests/frequentist/
// test_tests.py): control mean 0.41, sd 3.9, n 3407; treatment mean 0.70,
// sd 6.2, n 3461. Published to 5 decimals: relative effect 0.70732 with
// delta-method sd 0.37879, CI [-0.03526, 1.44989], p 0.06191; an earlier
// version of the same test published the absolute reading: 0.29,
// CI [0.04538, 0.53462], p 0.02016.
func TestTTestGBStats(t *testing.T) {
	a := abtest.StatFromMean(0.41, 3.9, 3407)
	b := abtest.StatFromMean(0.70, 6.2, 3461)
	r, err := abtest.TTest(a, b, abtest.Relative, 0)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 5e-6
	near(t, "relative", r.Estimate, 0.70732, tol)
	near(t, "relative sd", r.StdErr, 0.37879, tol)
	near(t, "CI low", r.CI[0], -0.03526, tol)
	near(t, "CI high", r.CI[1], 1.44989, tol)
	near(t, "p", r.PValue, 0.06191, tol)

	r, err = abtest.TTest(a, b, abtest.Absolute, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "absolute", r.Estimate, 0.29, tol)
	near(t, "absolute CI low", r.CI[0], 0.04538, tol)
	near(t, "absolute CI high", r.CI[1], 0.53462, tol)
	near(t, "absolute p", r.PValue, 0.02016, tol)
	// Welch–Satterthwaite, worked to 40 digits with mpmath: 5841.74203209...
	near(t, "df", r.DF, 5841.742032093564, 1e-6)
}

// The Gaussian-posterior reading of the same data. With a flat prior the
// posterior is N(0.707317…, 0.378794…²); values worked with mpmath from
// Φ, φ and E[max(X,0)] = μΦ(μ/σ) + σφ(μ/σ).
func TestBayesian(t *testing.T) {
	a := abtest.StatFromMean(0.41, 3.9, 3407)
	b := abtest.StatFromMean(0.70, 6.2, 3461)
	r, err := abtest.Bayesian(a, b, abtest.Relative, 0)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 1e-9
	near(t, "chance to win", r.ChanceToWin, 0.9690691085323815, tol)
	near(t, "CI low", r.CI[0], -0.03510623324566783, tol)
	near(t, "CI high", r.CI[1], 1.449740379587131, tol)
	near(t, "risk of control", r.Risk[0], 0.7118738401388185, tol)
	near(t, "risk of treatment", r.Risk[1], 0.004556766968086793, tol)

	// Identical arms: a coin flip.
	same := abtest.Proportion(500, 1000)
	r, err = abtest.Bayesian(same, same, abtest.Relative, 0)
	if err != nil || r.ChanceToWin != 0.5 || r.Estimate != 0 {
		t.Fatalf("identical arms = %+v, %v", r, err)
	}
}

// Chi-square p-values worked with mpmath's regularized incomplete gamma.
func TestSRM(t *testing.T) {
	tests := []struct {
		name     string
		observed []int64
		weights  []float64
		chi, p   float64
		mismatch bool
	}{
		{"even split, 3 ways", []int64{5020, 4912, 5068}, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, 2.5536, 0.2789284448852926, false},
		{"3% more in B", []int64{10000, 10300}, []float64{0.5, 0.5}, 4.433497536945813, 0.03524022382427453, false},
		{"1000 vs 1200", []int64{1000, 1200}, []float64{0.5, 0.5}, 18.18181818181818, 2.007865612426485e-05, true},
		{"uneven weights", []int64{2000, 3000, 5100}, []float64{0.2, 0.3, 0.5}, 0.9900990099009901, 0.6095407312656580, false},
	}
	for _, tt := range tests {
		r, err := abtest.SRM(tt.observed, tt.weights, abtest.SRMOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		near(t, tt.name+" chi", r.ChiSquare, tt.chi, 1e-9)
		near(t, tt.name+" p", r.PValue, tt.p, 1e-12+1e-9*tt.p)
		if r.Mismatch != tt.mismatch || r.Skipped {
			t.Errorf("%s: %+v, want mismatch %v", tt.name, r, tt.mismatch)
		}
	}
	r, err := abtest.SRM([]int64{3, 100}, []float64{0.5, 0.5}, abtest.SRMOptions{})
	if err != nil || !r.Skipped {
		t.Fatalf("below MinCount: %+v, %v", r, err)
	}
}

func TestStatsInvalid(t *testing.T) {
	ok := abtest.Proportion(10, 100)
	tests := []struct {
		name      string
		err       error
		wantField string
	}{
		{"n < 2", second(abtest.TTest(abtest.Stat{N: 1, Sum: 1, SumSquares: 1}, ok, abtest.Relative, 0)), "Control.N"},
		{"NaN sum", second(abtest.TTest(ok, abtest.Stat{N: 10, Sum: math.NaN()}, abtest.Relative, 0)), "Treatment.Sum"},
		{"alpha", second(abtest.TTest(ok, ok, abtest.Relative, 1.5)), "Alpha"},
		{"zero control mean", second(abtest.TTest(abtest.Proportion(0, 100), ok, abtest.Relative, 0)), "Control"},
		{"no variance", second(abtest.TTest(abtest.Stat{N: 5, Sum: 5, SumSquares: 5}, abtest.Stat{N: 5, Sum: 5, SumSquares: 5}, abtest.Absolute, 0)), "Stats"},
		{"negative count", second(abtest.SRM([]int64{-1, 5}, []float64{0.5, 0.5}, abtest.SRMOptions{})), "Observed[0]"},
		{"weights sum", second(abtest.SRM([]int64{5, 5}, []float64{0.5, 0.6}, abtest.SRMOptions{})), "Weights"},
		{"NaN weight", second(abtest.SRM([]int64{5, 5}, []float64{math.NaN(), 0.5}, abtest.SRMOptions{})), "Weights[0]"},
		{"one variation", second(abtest.SRM([]int64{5}, []float64{1}, abtest.SRMOptions{})), "Observed"},
	}
	for _, tt := range tests {
		var ie *abtest.InputError
		if !errors.As(tt.err, &ie) || ie.Field != tt.wantField || !errors.Is(tt.err, abtest.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want InputError on %s", tt.name, tt.err, tt.wantField)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// Student t and chi-square against values worked with mpmath.
func TestSpecialFunctionsThroughTTest(t *testing.T) {
	// Two arms of 6 with means 0 and 1 and sd 1: se = √(2/6), t = 1.7320…,
	// df = 10 exactly; p = 2(1 − T₁₀(√3)) = 0.1139374121519204 (mpmath), and
	// the 95% CI uses
	// t₀.₉₇₅,₁₀ = 2.2281388519862747.
	a := abtest.StatFromMean(0, 1, 6)
	b := abtest.StatFromMean(1, 1, 6)
	r, err := abtest.TTest(a, b, abtest.Absolute, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "df", r.DF, 10, 1e-9)
	se := math.Sqrt(2.0 / 6)
	near(t, "CI low", r.CI[0], 1-2.2281388519862747*se, 1e-9)
	near(t, "p", r.PValue, 0.1139374121519204, 1e-12)
}

// TestCUPED: a covariate that predicts the metric shrinks the standard
// error; one that is unrelated leaves it (nearly) unchanged; the adjusted
// means keep the raw difference when the covariate is balanced.
func TestCUPED(t *testing.T) {
	build := func(xs, ys []float64) abtest.Covariate {
		c := abtest.Covariate{N: int64(len(xs))}
		for i := range xs {
			c.SumX += xs[i]
			c.SumX2 += xs[i] * xs[i]
			c.SumY += ys[i]
			c.SumY2 += ys[i] * ys[i]
			c.SumXY += xs[i] * ys[i]
		}
		return c
	}
	// y = x + effect + small noise; x balanced between groups.
	xs := []float64{10, 12, 8, 15, 11, 9, 14, 13}
	noise := []float64{0.1, -0.2, 0.15, -0.05, 0.0, 0.2, -0.1, -0.1}
	ya, yb := make([]float64, 8), make([]float64, 8)
	for i, x := range xs {
		ya[i] = x + noise[i]
		yb[i] = x + 1 + noise[(i+3)%8]
	}
	ca, cb := build(xs, ya), build(xs, yb)
	raw, err := abtest.TTest(abtest.Stat{N: 8, Sum: ca.SumY, SumSquares: ca.SumY2}, abtest.Stat{N: 8, Sum: cb.SumY, SumSquares: cb.SumY2}, abtest.Absolute, 0)
	if err != nil {
		t.Fatal(err)
	}
	adjA, adjB, err := abtest.CUPED(ca, cb)
	if err != nil {
		t.Fatal(err)
	}
	adj, err := abtest.TTest(adjA, adjB, abtest.Absolute, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "adjusted effect", adj.Estimate, raw.Estimate, 1e-9)
	if adj.StdErr > raw.StdErr/5 {
		t.Fatalf("CUPED stderr %v, raw %v: want a large reduction", adj.StdErr, raw.StdErr)
	}
	if _, _, err := abtest.CUPED(abtest.Covariate{N: 1}, cb); !errors.Is(err, abtest.ErrInvalidInput) {
		t.Fatalf("N=1: err = %v", err)
	}
}

// FuzzStats: any input gives an error or finite results; p-values and
// chances are probabilities.
func FuzzStats(f *testing.F) {
	f.Add(int64(100), 10.0, 12.0, int64(120), 15.0, 20.0, 0.05)
	f.Add(int64(0), math.NaN(), -1.0, int64(2), math.Inf(1), 0.0, 2.0)
	f.Add(int64(1<<40), 1e300, 1e300, int64(3), -5.0, 30.0, 1e-9)
	f.Fuzz(func(t *testing.T, na int64, sa, qa float64, nb int64, sb, qb, alpha float64) {
		a, b := abtest.Stat{N: na, Sum: sa, SumSquares: qa}, abtest.Stat{N: nb, Sum: sb, SumSquares: qb}
		for _, d := range []abtest.Difference{abtest.Relative, abtest.Absolute} {
			fr, err := abtest.TTest(a, b, d, alpha)
			if err == nil {
				if math.IsNaN(fr.PValue) || fr.PValue < 0 || fr.PValue > 1 || math.IsNaN(fr.CI[0]) || math.IsNaN(fr.CI[1]) {
					t.Fatalf("TTest(%+v, %+v) = %+v", a, b, fr)
				}
			} else if !errors.Is(err, abtest.ErrInvalidInput) {
				t.Fatal(err)
			}
			br, err := abtest.Bayesian(a, b, d, alpha)
			if err == nil {
				if math.IsNaN(br.ChanceToWin) || br.ChanceToWin < 0 || br.ChanceToWin > 1 {
					t.Fatalf("Bayesian(%+v, %+v) = %+v", a, b, br)
				}
			} else if !errors.Is(err, abtest.ErrInvalidInput) {
				t.Fatal(err)
			}
		}
		if r, err := abtest.SRM([]int64{na, nb}, []float64{0.5, 0.5}, abtest.SRMOptions{}); err == nil && !r.Skipped {
			if math.IsNaN(r.PValue) || r.PValue < 0 || r.PValue > 1 {
				t.Fatalf("SRM(%d, %d) = %+v", na, nb, r)
			}
		}
	})
}

// gbstats' published cases (packages/stats/tests/frequentist/test_tests.py),
// to 5 decimals.
func TestGBStatsProportionVariance(t *testing.T) {
	// test_two_sided_ttest_binom: a proportion's variance is p(1 − p).
	// Regression: it was n/(n − 1)·p(1 − p), off in the third decimal here.
	r, err := abtest.TTest(abtest.Proportion(14, 28), abtest.Proportion(16, 30), abtest.Relative, 0)
	if err != nil {
		t.Fatal(err)
	}
	const tol = 5e-6
	near(t, "relative", r.Estimate, 0.06667, tol)
	near(t, "sd", r.StdErr, 0.2717, tol)
	near(t, "CI low", r.CI[0], -0.47767, tol)
	near(t, "CI high", r.CI[1], 0.61101, tol)
	near(t, "p", r.PValue, 0.80707, tol)
}

func TestGBStatsSequential(t *testing.T) {
	const tol = 5e-6
	a := abtest.Stat{N: 3000, Sum: 1396.87, SumSquares: 52377.9767}
	b := abtest.Stat{N: 3461, Sum: 2422.7, SumSquares: 134698.29}
	// test_sequential_test_runs (tuning 1000).
	r, err := abtest.SequentialTest(a, b, abtest.Relative, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "mean: relative", r.Estimate, 0.50336, tol)
	near(t, "mean: sd", r.StdErr, 0.33341, tol)
	near(t, "mean: CI low", r.CI[0], -0.55844, tol)
	near(t, "mean: CI high", r.CI[1], 1.56516, tol)
	near(t, "mean: p", r.PValue, 1, tol)

	// test_sequential_test_runs_prop (default tuning 5000).
	r, err = abtest.SequentialTest(abtest.Proportion(1396, 3000), abtest.Proportion(2422, 3461), abtest.Relative, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "prop: relative", r.Estimate, 0.50386, tol)
	near(t, "prop: sd", r.StdErr, 0.03386, tol)
	near(t, "prop: CI low", r.CI[0], 0.40098, tol)
	near(t, "prop: CI high", r.CI[1], 0.60675, tol)
	near(t, "prop: p", r.PValue, 0, tol)

	// test_sequential_test_runs_ra: CUPED with θ pooled over both arms,
	// the relative effect taken against the unadjusted control mean.
	ca := abtest.Covariate{N: 3000, SumX: 16.87, SumX2: 527.9767, SumY: 1396.87, SumY2: 52377.9767, SumXY: 1}
	cb := abtest.Covariate{N: 3461, SumX: 22.7, SumX2: 1348.29, SumY: 2422.7, SumY2: 134698.29, SumXY: 1}
	adjA, adjB, err := abtest.CUPED(ca, cb)
	if err != nil {
		t.Fatal(err)
	}
	r, err = abtest.SequentialTest(adjA, adjB, abtest.Relative, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "ra: relative", r.Estimate, 0.50338, tol)
	near(t, "ra: sd", r.StdErr, 0.33341, tol)
	near(t, "ra: CI low", r.CI[0], -0.50969, tol)
	near(t, "ra: CI high", r.CI[1], 1.51646, tol)
	near(t, "ra: p", r.PValue, 1, tol)

	// gbstats' tuning check: an interval tuned near the sample size is the
	// tightest.
	width := func(tuning float64) float64 {
		r, err := abtest.SequentialTest(a, b, abtest.Relative, 0, tuning)
		if err != nil {
			t.Fatal(err)
		}
		return r.CI[1] - r.CI[0]
	}
	if near, below, above := width(6461), width(10), width(10000); !(near < below && near < above && above < below) {
		t.Fatalf("interval widths: tuned near n %v, far below %v, far above %v", near, below, above)
	}
}

// TestRatioDeltaMethod checks a ratio metric against gbstats'
// RatioStatistic worked by hand: per-user numerator and denominator
// values, their sample (co)variances, the delta method, then the relative
// effect's delta method over the two arms.
func TestRatioDeltaMethod(t *testing.T) {
	ratio := func(num, den []float64) abtest.Ratio {
		r := abtest.Ratio{N: int64(len(num))}
		r.Num.N, r.Den.N = r.N, r.N
		for i := range num {
			r.Num.Sum += num[i]
			r.Num.SumSquares += num[i] * num[i]
			r.Den.Sum += den[i]
			r.Den.SumSquares += den[i] * den[i]
			r.SumProducts += num[i] * den[i]
		}
		return r
	}
	// Revenue and orders of each user.
	a := ratio([]float64{0.3, 0.5, 0.9, 22, 5, 0}, []float64{2, 1, 5, 3, 1, 1})
	b := ratio([]float64{12, 0, 7, 30, 2, 9, 4}, []float64{2, 1, 3, 4, 1, 2, 1})
	mom := func(num, den []float64) (mean, variance float64) {
		n := float64(len(num))
		var sm, sd float64
		for i := range num {
			sm += num[i]
			sd += den[i]
		}
		mm, md := sm/n, sd/n
		var vm, vd, c float64
		for i := range num {
			vm += (num[i] - mm) * (num[i] - mm)
			vd += (den[i] - md) * (den[i] - md)
			c += (num[i] - mm) * (den[i] - md)
		}
		vm, vd, c = vm/(n-1), vd/(n-1), c/(n-1)
		return mm / md, vm/(md*md) + vd*mm*mm/(md*md*md*md) - 2*c*mm/(md*md*md)
	}
	meanA, varA := mom([]float64{0.3, 0.5, 0.9, 22, 5, 0}, []float64{2, 1, 5, 3, 1, 1})
	meanB, varB := mom([]float64{12, 0, 7, 30, 2, 9, 4}, []float64{2, 1, 3, 4, 1, 2, 1})
	r, err := abtest.TTest(a, b, abtest.Relative, 0)
	if err != nil {
		t.Fatal(err)
	}
	va, vb := varA/6, varB/7
	near(t, "relative", r.Estimate, (meanB-meanA)/meanA, 1e-12)
	near(t, "sd", r.StdErr, math.Sqrt(vb/(meanA*meanA)+va*meanB*meanB/(meanA*meanA*meanA*meanA)), 1e-12)
	near(t, "df", r.DF, (va+vb)*(va+vb)/(va*va/5+vb*vb/6), 1e-9)
	r, err = abtest.TTest(a, b, abtest.Absolute, 0)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "absolute", r.Estimate, meanB-meanA, 1e-12)
	near(t, "absolute sd", r.StdErr, math.Sqrt(va+vb), 1e-12)
	if _, err := abtest.TTest(a, abtest.Ratio{N: 3, Num: abtest.Stat{N: 3, Sum: 1, SumSquares: 1}, Den: abtest.Stat{N: 3}}, abtest.Relative, 0); !errors.Is(err, abtest.ErrInvalidInput) {
		t.Fatalf("a ratio over a zero denominator: %v", err)
	}
}

// GrowthBook's power calculator cases (packages/shared/test/power.test.ts):
// a mean metric of mean 10 and variance 3909.99977…, 400,000 users over 3
// variations, a 5% lift; to 5 decimals.
func TestPowerGrowthBook(t *testing.T) {
	q := abtest.PowerQuery{Mean: 10, Variance: 3909.9997749994377, Users: 400000, Variations: 3}
	const tol = 5e-6
	p, err := abtest.Power(q, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "power", p, 0.52144, tol)
	mde, err := abtest.MDE(q, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "MDE", mde, 0.07027, tol)
	q.Sequential = 5000
	if p, err = abtest.Power(q, 0.05); err != nil {
		t.Fatal(err)
	}
	near(t, "sequential power", p, 0.20596, tol)
	if mde, err = abtest.MDE(q, 0.8); err != nil {
		t.Fatal(err)
	}
	near(t, "sequential MDE", mde, 0.12821, tol)

	// The MDE is the lift that has the power asked for.
	q.Sequential = 0
	mde, _ = abtest.MDE(q, 0.8)
	p, _ = abtest.Power(q, mde)
	near(t, "power at the MDE", p, 0.8, 1e-4)
	if _, err := abtest.MDE(abtest.PowerQuery{Mean: 0.01, Variance: 0.0099, Users: 40, Variations: 2}, 0.8); !errors.Is(err, abtest.ErrInvalidInput) {
		t.Fatalf("MDE with too few users: %v", err)
	}
}
