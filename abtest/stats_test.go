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
