package abtest

import (
	"math"
	"strconv"
)

// Statistics for reading experiments, as GrowthBook's stats engine
// (gbstats) computes them. Inputs are sufficient statistics a warehouse
// query returns (counts, sums, sums of squares); every function is pure.

// SRMOptions configure the sample-ratio-mismatch check. The zero value
// means the defaults.
type SRMOptions struct {
	// Threshold is the p-value below which the split counts as mismatched.
	// Default 0.001.
	Threshold float64
	// MinCount is the fewest users a variation needs for the check to run.
	// Default 5 (below it the chi-square approximation is poor).
	MinCount int64
}

// SRMResult is the outcome of a sample-ratio-mismatch check.
type SRMResult struct {
	ChiSquare float64
	DF        int
	PValue    float64
	// Mismatch is true when PValue < Threshold: the traffic split differs
	// from the weights more than chance explains, and results should not
	// be trusted until the cause is found.
	Mismatch bool
	// Skipped is true when some variation had fewer than MinCount users;
	// the other fields are then zero.
	Skipped bool
}

// SRM checks observed user counts against the expected weights with
// Pearson's chi-square test: χ² = Σ (o − e)²/e with e = N·w, k − 1 degrees
// of freedom, p = P(χ²_{k−1} > χ²).
func SRM(observed []int64, weights []float64, opts SRMOptions) (SRMResult, error) {
	if opts.Threshold == 0 {
		opts.Threshold = 0.001
	}
	if opts.MinCount == 0 {
		opts.MinCount = 5
	}
	if math.IsNaN(opts.Threshold) || opts.Threshold <= 0 || opts.Threshold >= 1 {
		return SRMResult{}, &InputError{Field: "Threshold", Rule: "must be in (0, 1)"}
	}
	if len(observed) < 2 || len(observed) != len(weights) {
		return SRMResult{}, &InputError{Field: "Observed", Rule: "must have one count per weight, at least 2"}
	}
	var total int64
	wsum := 0.0
	for i := range observed {
		if observed[i] < 0 {
			return SRMResult{}, &InputError{Field: "Observed[" + strconv.Itoa(i) + "]", Rule: "must be ≥ 0"}
		}
		if w := weights[i]; math.IsNaN(w) || w <= 0 || w > 1 {
			return SRMResult{}, &InputError{Field: "Weights[" + strconv.Itoa(i) + "]", Rule: "must be in (0, 1]"}
		}
		total += observed[i]
		wsum += weights[i]
	}
	if math.Abs(wsum-1) > 1e-6 {
		return SRMResult{}, &InputError{Field: "Weights", Rule: "must sum to 1"}
	}
	for _, o := range observed {
		if o < opts.MinCount {
			return SRMResult{Skipped: true}, nil
		}
	}
	chi := 0.0
	for i, o := range observed {
		e := float64(total) * weights[i]
		d := float64(o) - e
		chi += d * d / e
	}
	df := len(observed) - 1
	p := chiSquareSurvival(chi, float64(df))
	return SRMResult{ChiSquare: chi, DF: df, PValue: p, Mismatch: p < opts.Threshold}, nil
}

// Stat summarises one variation's metric: N users, the sum of their values
// and the sum of the squares. For a conversion (0/1) metric, Sum and
// SumSquares are both the number of conversions.
type Stat struct {
	N          int64
	Sum        float64
	SumSquares float64
}

// Proportion returns the Stat of a conversion metric: conversions out of n.
func Proportion(conversions, n int64) Stat {
	return Stat{N: n, Sum: float64(conversions), SumSquares: float64(conversions)}
}

// StatFromMean returns the Stat of n values with the given mean and sample
// standard deviation, for inputs reported that way.
func StatFromMean(mean, stddev float64, n int64) Stat {
	sum := mean * float64(n)
	return Stat{N: n, Sum: sum, SumSquares: stddev*stddev*float64(n-1) + sum*sum/float64(n)}
}

// Mean returns Sum/N.
func (s Stat) Mean() float64 { return s.Sum / float64(s.N) }

// Variance returns the sample variance (divisor N − 1), never below 0.
func (s Stat) Variance() float64 {
	n := float64(s.N)
	return math.Max(0, (s.SumSquares-s.Sum*s.Sum/n)/(n-1))
}

func (s Stat) check(field string) error {
	switch {
	case s.N < 2:
		return &InputError{Field: field + ".N", Rule: "must be ≥ 2"}
	case math.IsNaN(s.Sum) || math.IsInf(s.Sum, 0):
		return &InputError{Field: field + ".Sum", Rule: "must be finite"}
	case math.IsNaN(s.SumSquares) || math.IsInf(s.SumSquares, 0) || s.SumSquares < 0:
		return &InputError{Field: field + ".SumSquares", Rule: "must be finite and ≥ 0"}
	}
	return nil
}

// Effect is an estimated difference between treatment and control, with
// its standard error.
type Effect struct {
	Estimate float64
	StdErr   float64
}

// Difference says which effect to estimate.
type Difference int

const (
	// Relative is the lift, treatment mean / control mean − 1, with its
	// standard error by the delta method. The default, as in GrowthBook.
	Relative Difference = iota
	// Absolute is treatment mean − control mean.
	Absolute
)

// effect returns the estimate, its standard error and Welch's degrees of
// freedom for control a and treatment b.
func effect(a, b Stat, diff Difference) (Effect, float64, error) {
	if err := a.check("Control"); err != nil {
		return Effect{}, 0, err
	}
	if err := b.check("Treatment"); err != nil {
		return Effect{}, 0, err
	}
	na, nb := float64(a.N), float64(b.N)
	ma, mb := a.Mean(), b.Mean()
	va, vb := a.Variance()/na, b.Variance()/nb // variances of the means
	// Welch–Satterthwaite degrees of freedom.
	df := (va + vb) * (va + vb) / (va*va/(na-1) + vb*vb/(nb-1))
	switch diff {
	case Absolute:
		return Effect{Estimate: mb - ma, StdErr: math.Sqrt(va + vb)}, df, nil
	case Relative:
		if ma == 0 {
			return Effect{}, 0, &InputError{Field: "Control", Rule: "must have a non-zero mean for a relative effect"}
		}
		// Delta method for mb/ma: Var ≈ vb/ma² + va·mb²/ma⁴.
		se := math.Sqrt(vb/(ma*ma) + va*mb*mb/(ma*ma*ma*ma))
		return Effect{Estimate: mb/ma - 1, StdErr: se}, df, nil
	}
	return Effect{}, 0, &InputError{Field: "Difference", Rule: "must be Relative or Absolute"}
}

// FrequentistResult is a two-sided Welch t-test of treatment against
// control.
type FrequentistResult struct {
	Effect
	DF     float64    // Welch–Satterthwaite degrees of freedom
	CI     [2]float64 // confidence interval for the effect
	PValue float64    // two-sided
}

// TTest compares treatment with control by Welch's t-test, at confidence
// 1 − alpha (alpha 0 means 0.05). This is gbstats' TwoSidedTTest.
func TTest(control, treatment Stat, diff Difference, alpha float64) (FrequentistResult, error) {
	alpha, err := checkAlpha(alpha)
	if err != nil {
		return FrequentistResult{}, err
	}
	e, df, err := effect(control, treatment, diff)
	if err != nil {
		return FrequentistResult{}, err
	}
	if e.StdErr == 0 || math.IsNaN(df) {
		return FrequentistResult{}, &InputError{Field: "Stats", Rule: "must have non-zero variance"}
	}
	t := e.Estimate / e.StdErr
	crit := studentQuantile(1-alpha/2, df)
	return FrequentistResult{
		Effect: e,
		DF:     df,
		CI:     [2]float64{e.Estimate - crit*e.StdErr, e.Estimate + crit*e.StdErr},
		PValue: 2 * (1 - studentCDF(math.Abs(t), df)),
	}, nil
}

// BayesianResult reads the effect through a Gaussian posterior: with a
// flat prior, effect ~ N(estimate, stderr²).
type BayesianResult struct {
	Effect
	// ChanceToWin is P(effect > 0).
	ChanceToWin float64
	// CI is the central credible interval at 1 − alpha.
	CI [2]float64
	// Risk is the expected loss of each choice, in effect units:
	// Risk[0] = E[max(effect, 0)] for keeping the control,
	// Risk[1] = E[max(−effect, 0)] for shipping the treatment.
	Risk [2]float64
}

// Bayesian compares treatment with control with a Gaussian posterior on
// the effect (gbstats' effect-based Bayesian test with a flat prior).
func Bayesian(control, treatment Stat, diff Difference, alpha float64) (BayesianResult, error) {
	alpha, err := checkAlpha(alpha)
	if err != nil {
		return BayesianResult{}, err
	}
	e, _, err := effect(control, treatment, diff)
	if err != nil {
		return BayesianResult{}, err
	}
	return bayesianFromEffect(e, alpha), nil
}

func bayesianFromEffect(e Effect, alpha float64) BayesianResult {
	mu, sd := e.Estimate, e.StdErr
	if sd == 0 {
		win := 0.5
		if mu > 0 {
			win = 1
		} else if mu < 0 {
			win = 0
		}
		return BayesianResult{Effect: e, ChanceToWin: win, CI: [2]float64{mu, mu},
			Risk: [2]float64{math.Max(mu, 0), math.Max(-mu, 0)}}
	}
	z := mu / sd
	q := normalQuantile(1 - alpha/2)
	// For X ~ N(μ, σ²): E[max(X, 0)] = μΦ(μ/σ) + σφ(μ/σ).
	lossCtrl := mu*normalCDF(z) + sd*normalPDF(z)
	lossTrt := -mu*normalCDF(-z) + sd*normalPDF(z)
	return BayesianResult{
		Effect:      e,
		ChanceToWin: normalCDF(z),
		CI:          [2]float64{mu - q*sd, mu + q*sd},
		Risk:        [2]float64{lossCtrl, lossTrt},
	}
}

func checkAlpha(alpha float64) (float64, error) {
	if alpha == 0 {
		return 0.05, nil
	}
	if math.IsNaN(alpha) || alpha <= 0 || alpha >= 1 {
		return 0, &InputError{Field: "Alpha", Rule: "must be in (0, 1)"}
	}
	return alpha, nil
}

// Covariate is a variation's metric together with a pre-experiment
// covariate of the same users (usually the same metric before exposure),
// for CUPED: X is the covariate, Y the metric, XY the sum of products.
type Covariate struct {
	N     int64
	SumX  float64
	SumX2 float64
	SumY  float64
	SumY2 float64
	SumXY float64
}

// CUPED returns control and treatment Stats adjusted for the pre-period
// covariate (Deng et al., 2013): Y' = Y − θ(X − X̄), with θ = Cov(X, Y) /
// Var(X) pooled over both groups and X̄ the pooled covariate mean. The
// adjusted means keep their expectation and their variance shrinks by the
// squared correlation, so tests on them need fewer users. Pass the results
// to TTest or Bayesian.
func CUPED(control, treatment Covariate) (Stat, Stat, error) {
	for _, g := range []struct {
		name string
		c    Covariate
	}{{"Control", control}, {"Treatment", treatment}} {
		if g.c.N < 2 {
			return Stat{}, Stat{}, &InputError{Field: g.name + ".N", Rule: "must be ≥ 2"}
		}
		for _, v := range []float64{g.c.SumX, g.c.SumX2, g.c.SumY, g.c.SumY2, g.c.SumXY} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Stat{}, Stat{}, &InputError{Field: g.name, Rule: "sums must be finite"}
			}
		}
	}
	n := float64(control.N + treatment.N)
	sx := control.SumX + treatment.SumX
	sy := control.SumY + treatment.SumY
	varX := (control.SumX2 + treatment.SumX2 - sx*sx/n) / (n - 1)
	covXY := (control.SumXY + treatment.SumXY - sx*sy/n) / (n - 1)
	if varX <= 0 {
		return Stat{}, Stat{}, &InputError{Field: "Covariate", Rule: "must vary across users"}
	}
	theta := covXY / varX
	xbar := sx / n
	adjust := func(c Covariate) Stat {
		// Σ(Y − θ(X − X̄)) and Σ(Y − θ(X − X̄))², expanded in the sums.
		k := float64(c.N)
		sum := c.SumY - theta*(c.SumX-k*xbar)
		sq := c.SumY2 - 2*theta*(c.SumXY-xbar*c.SumY) +
			theta*theta*(c.SumX2-2*xbar*c.SumX+k*xbar*xbar)
		return Stat{N: c.N, Sum: sum, SumSquares: math.Max(sq, 0)}
	}
	return adjust(control), adjust(treatment), nil
}
