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

// Statistic is one variation's summary, as the tests read it: a Stat (a
// mean or a proportion), a Ratio (a ratio metric such as AOV), or an
// AdjustedStat from CUPED. A test compares two of the same kind.
type Statistic interface {
	// moments returns the users, the mean and the per-user variance;
	// field names the argument in errors.
	moments(field string) (moments, error)
}

type moments struct {
	n, mean, variance float64
}

// Stat summarises one variation's metric: N users, the sum of their values
// and the sum of the squares. Binary says the values are 0/1 conversions:
// the variance is then p(1 − p), as gbstats' ProportionStatistic has it,
// rather than the sample variance.
type Stat struct {
	N          int64
	Sum        float64
	SumSquares float64
	Binary     bool
}

// Proportion returns the Stat of a conversion metric: conversions out of n.
func Proportion(conversions, n int64) Stat {
	return Stat{N: n, Sum: float64(conversions), SumSquares: float64(conversions), Binary: true}
}

// StatFromMean returns the Stat of n values with the given mean and sample
// standard deviation, for inputs reported that way.
func StatFromMean(mean, stddev float64, n int64) Stat {
	sum := mean * float64(n)
	return Stat{N: n, Sum: sum, SumSquares: stddev*stddev*float64(n-1) + sum*sum/float64(n)}
}

// Mean returns Sum/N.
func (s Stat) Mean() float64 { return s.Sum / float64(s.N) }

// Variance returns the per-user variance: p(1 − p) for a Binary Stat, else
// the sample variance (divisor N − 1); never below 0.
func (s Stat) Variance() float64 {
	n := float64(s.N)
	if s.Binary {
		p := s.Sum / n
		return math.Max(0, p*(1-p))
	}
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
	case s.Binary && (s.Sum < 0 || s.Sum > float64(s.N)):
		return &InputError{Field: field + ".Sum", Rule: "must be between 0 and N for a Binary Stat"}
	}
	return nil
}

func (s Stat) moments(field string) (moments, error) {
	if err := s.check(field); err != nil {
		return moments{}, err
	}
	return moments{n: float64(s.N), mean: s.Mean(), variance: s.Variance()}, nil
}

// covariance is the sample covariance of two metrics of the same n users
// from their sums and sum of products; of two 0/1 metrics it is the
// population covariance, as gbstats computes it.
func covariance(a, b Stat, sumProducts float64) float64 {
	n := float64(a.N)
	if a.Binary && b.Binary {
		return sumProducts/n - a.Sum*b.Sum/(n*n)
	}
	return (sumProducts - a.Sum*b.Sum/n) / (n - 1)
}

// Ratio is a ratio metric of one variation — revenue per order (AOV),
// items per cart — summed over its N users: the numerator's and the
// denominator's Stats (each over the same N users) and the sum over users
// of numerator × denominator. Its mean is Num.Sum / Den.Sum and its
// variance comes from the delta method, as in gbstats' RatioStatistic.
type Ratio struct {
	N           int64
	Num, Den    Stat
	SumProducts float64
}

// Mean returns Num.Sum / Den.Sum.
func (r Ratio) Mean() float64 { return r.Num.Sum / r.Den.Sum }

func (r Ratio) moments(field string) (moments, error) {
	if r.N < 2 {
		return moments{}, &InputError{Field: field + ".N", Rule: "must be ≥ 2"}
	}
	if r.Num.N != r.N || r.Den.N != r.N {
		return moments{}, &InputError{Field: field, Rule: "Num.N and Den.N must equal N"}
	}
	if err := r.Num.check(field + ".Num"); err != nil {
		return moments{}, err
	}
	if err := r.Den.check(field + ".Den"); err != nil {
		return moments{}, err
	}
	if math.IsNaN(r.SumProducts) || math.IsInf(r.SumProducts, 0) {
		return moments{}, &InputError{Field: field + ".SumProducts", Rule: "must be finite"}
	}
	if r.Den.Sum == 0 {
		return moments{}, &InputError{Field: field + ".Den.Sum", Rule: "must not be 0"}
	}
	mm, md := r.Num.Mean(), r.Den.Mean()
	v := varianceOfRatio(mm, r.Num.Variance(), md, r.Den.Variance(), covariance(r.Num, r.Den, r.SumProducts))
	return moments{n: float64(r.N), mean: r.Mean(), variance: math.Max(v, 0)}, nil
}

// varianceOfRatio is the delta method's variance of M/D for M with mean mm
// and variance vm, D with mean md and variance vd, and covariance c.
func varianceOfRatio(mm, vm, md, vd, c float64) float64 {
	return vm/(md*md) + vd*mm*mm/(md*md*md*md) - 2*c*mm/(md*md*md)
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
	// Relative is the lift, (treatment mean − control mean) / |control
	// mean|, with its standard error by the delta method. The default, as
	// in GrowthBook.
	Relative Difference = iota
	// Absolute is treatment mean − control mean.
	Absolute
)

// comparison is an effect with what the tests need beside it: Welch's
// degrees of freedom and the users in both arms.
type comparison struct {
	Effect
	df, n float64
}

// effect compares treatment b with control a, as gbstats' EffectMoments.
func effect(a, b Statistic, diff Difference) (comparison, error) {
	if diff != Relative && diff != Absolute {
		return comparison{}, &InputError{Field: "Difference", Rule: "must be Relative or Absolute"}
	}
	if aa, ok := a.(AdjustedStat); ok {
		ab, ok := b.(AdjustedStat)
		if !ok {
			return comparison{}, &InputError{Field: "Treatment", Rule: "must be an AdjustedStat, as the control is"}
		}
		return adjustedEffect(aa, ab, diff)
	}
	if _, ok := b.(AdjustedStat); ok {
		return comparison{}, &InputError{Field: "Control", Rule: "must be an AdjustedStat, as the treatment is"}
	}
	ma, err := a.moments("Control")
	if err != nil {
		return comparison{}, err
	}
	mb, err := b.moments("Treatment")
	if err != nil {
		return comparison{}, err
	}
	va, vb := ma.variance/ma.n, mb.variance/mb.n // variances of the means
	c := comparison{df: welchDF(ma.variance, ma.n, mb.variance, mb.n), n: ma.n + mb.n}
	switch diff {
	case Absolute:
		c.Effect = Effect{Estimate: mb.mean - ma.mean, StdErr: math.Sqrt(va + vb)}
	case Relative:
		if ma.mean == 0 {
			return comparison{}, &InputError{Field: "Control", Rule: "must have a non-zero mean for a relative effect"}
		}
		c.Effect = Effect{Estimate: (mb.mean - ma.mean) / math.Abs(ma.mean),
			StdErr: math.Sqrt(math.Max(varianceOfRatio(mb.mean, vb, ma.mean, va, 0), 0))}
	}
	return c, nil
}

// welchDF is the Welch–Satterthwaite degrees of freedom for per-user
// variances va, vb over na, nb users.
func welchDF(va, na, vb, nb float64) float64 {
	a, b := va/na, vb/nb
	return (a + b) * (a + b) / (a*a/(na-1) + b*b/(nb-1))
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
func TTest(control, treatment Statistic, diff Difference, alpha float64) (FrequentistResult, error) {
	alpha, err := checkAlpha(alpha)
	if err != nil {
		return FrequentistResult{}, err
	}
	c, err := effect(control, treatment, diff)
	if err != nil {
		return FrequentistResult{}, err
	}
	e, df := c.Effect, c.df
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
func Bayesian(control, treatment Statistic, diff Difference, alpha float64) (BayesianResult, error) {
	alpha, err := checkAlpha(alpha)
	if err != nil {
		return BayesianResult{}, err
	}
	c, err := effect(control, treatment, diff)
	if err != nil {
		return BayesianResult{}, err
	}
	return bayesianFromEffect(c.Effect, alpha), nil
}

// SequentialTest is gbstats' SequentialTwoSidedTTest: an always-valid
// confidence interval and p-value (Waudby-Smith et al., "Time-uniform
// central limit theory"), which may be looked at as often as wanted
// without inflating false positives. tuning is the total sample size at
// which the interval is tightest (0 means gbstats' default, 5000); alpha 0
// means 0.05. DF is left 0: the interval is asymptotic.
func SequentialTest(control, treatment Statistic, diff Difference, alpha, tuning float64) (FrequentistResult, error) {
	alpha, err := checkAlpha(alpha)
	if err != nil {
		return FrequentistResult{}, err
	}
	if tuning == 0 {
		tuning = 5000
	}
	if math.IsNaN(tuning) || tuning <= 0 || math.IsInf(tuning, 0) {
		return FrequentistResult{}, &InputError{Field: "Tuning", Rule: "must be a positive sample size"}
	}
	c, err := effect(control, treatment, diff)
	if err != nil {
		return FrequentistResult{}, err
	}
	e, n := c.Effect, c.n
	if e.StdErr == 0 {
		return FrequentistResult{}, &InputError{Field: "Stats", Rule: "must have non-zero variance"}
	}
	rho2 := (-2*math.Log(alpha) + math.Log(-2*math.Log(alpha)+1)) / tuning
	s2 := e.StdErr * e.StdErr * n
	nr := n*rho2 + 1
	half := math.Sqrt(s2) * math.Sqrt(2*nr*math.Log(math.Sqrt(nr)/alpha)/(n*n*rho2))
	st2 := e.Estimate * e.Estimate * n / (e.StdErr * e.StdErr)
	// The e-value's logarithm, so a huge one does not overflow to +Inf/NaN.
	logE := rho2*st2/(2*nr) - 0.5*math.Log(nr)
	return FrequentistResult{
		Effect: e,
		CI:     [2]float64{e.Estimate - half, e.Estimate + half},
		PValue: math.Min(math.Exp(-logE), 1),
	}, nil
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
// Binary says both are 0/1.
type Covariate struct {
	N      int64
	SumX   float64
	SumX2  float64
	SumY   float64
	SumY2  float64
	SumXY  float64
	Binary bool
}

func (c Covariate) post() Stat {
	return Stat{N: c.N, Sum: c.SumY, SumSquares: c.SumY2, Binary: c.Binary}
}
func (c Covariate) pre() Stat {
	return Stat{N: c.N, Sum: c.SumX, SumSquares: c.SumX2, Binary: c.Binary}
}

// AdjustedStat is a variation's metric adjusted for its pre-experiment
// covariate by CUPED (Deng et al., 2013), as gbstats' regression-adjusted
// statistic: mean Ȳ − θX̄ and per-user variance Var(Y) + θ²Var(X) −
// 2θCov(X, Y). CUPED returns one for each arm with the pooled θ; pass both
// to TTest, Bayesian or SequentialTest. A relative effect is taken against
// the control's unadjusted mean, as gbstats does.
type AdjustedStat struct {
	Post, Pre   Stat
	SumProducts float64
	Theta       float64
}

// Mean returns the adjusted mean, Ȳ − θX̄.
func (a AdjustedStat) Mean() float64 { return a.Post.Mean() - a.Theta*a.Pre.Mean() }

// Variance returns the adjusted per-user variance.
func (a AdjustedStat) Variance() float64 {
	return math.Max(0, a.Post.Variance()+a.Theta*a.Theta*a.Pre.Variance()-2*a.Theta*a.cov())
}

func (a AdjustedStat) cov() float64 { return covariance(a.Post, a.Pre, a.SumProducts) }

func (a AdjustedStat) moments(field string) (moments, error) {
	if err := a.Post.check(field + ".Post"); err != nil {
		return moments{}, err
	}
	if err := a.Pre.check(field + ".Pre"); err != nil {
		return moments{}, err
	}
	if a.Pre.N != a.Post.N {
		return moments{}, &InputError{Field: field + ".Pre.N", Rule: "must equal Post.N"}
	}
	for _, v := range []float64{a.SumProducts, a.Theta} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return moments{}, &InputError{Field: field, Rule: "SumProducts and Theta must be finite"}
		}
	}
	return moments{n: float64(a.Post.N), mean: a.Mean(), variance: a.Variance()}, nil
}

// adjustedEffect is gbstats' effect of two regression-adjusted arms.
func adjustedEffect(a, b AdjustedStat, diff Difference) (comparison, error) {
	ma, err := a.moments("Control")
	if err != nil {
		return comparison{}, err
	}
	mb, err := b.moments("Treatment")
	if err != nil {
		return comparison{}, err
	}
	c := comparison{df: welchDF(ma.variance, ma.n, mb.variance, mb.n), n: ma.n + mb.n}
	if diff == Absolute {
		c.Effect = Effect{Estimate: mb.mean - ma.mean, StdErr: math.Sqrt(ma.variance/ma.n + mb.variance/mb.n)}
		return c, nil
	}
	base := a.Post.Mean() // the control's unadjusted mean
	if base == 0 {
		return comparison{}, &InputError{Field: "Control", Rule: "must have a non-zero mean for a relative effect"}
	}
	// The delta method for (Ȳb − θX̄b − Ȳa + θX̄a) / Ȳa.
	theta := a.Theta
	vTrt := b.Variance() / (mb.n * base * base)
	k := -b.Post.Mean()
	vCtrl := (a.Post.Variance()*k*k/(base*base) + 2*theta*a.cov()*k/base + theta*theta*a.Pre.Variance()) / (ma.n * base * base)
	c.Effect = Effect{Estimate: (mb.mean - ma.mean) / math.Abs(base), StdErr: math.Sqrt(math.Max(vTrt+vCtrl, 0))}
	return c, nil
}

// CUPED adjusts control and treatment for their pre-period covariate with
// θ = Cov(X, Y) / Var(X) pooled over both arms (0 when either pooled
// variance is 0), as gbstats computes it. The adjusted means keep the
// effect's expectation, and its variance shrinks by the squared
// correlation, so tests on them need fewer users.
func CUPED(control, treatment Covariate) (AdjustedStat, AdjustedStat, error) {
	for _, g := range []struct {
		name string
		c    Covariate
	}{{"Control", control}, {"Treatment", treatment}} {
		if g.c.N < 2 {
			return AdjustedStat{}, AdjustedStat{}, &InputError{Field: g.name + ".N", Rule: "must be ≥ 2"}
		}
		for _, v := range []float64{g.c.SumX, g.c.SumX2, g.c.SumY, g.c.SumY2, g.c.SumXY} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return AdjustedStat{}, AdjustedStat{}, &InputError{Field: g.name, Rule: "sums must be finite"}
			}
		}
	}
	if control.Binary != treatment.Binary {
		return AdjustedStat{}, AdjustedStat{}, &InputError{Field: "Treatment.Binary", Rule: "must equal Control.Binary"}
	}
	n := control.N + treatment.N
	joint := Covariate{N: n, SumX: control.SumX + treatment.SumX, SumX2: control.SumX2 + treatment.SumX2,
		SumY: control.SumY + treatment.SumY, SumY2: control.SumY2 + treatment.SumY2,
		SumXY: control.SumXY + treatment.SumXY, Binary: control.Binary}
	var theta float64
	if vx, vy := joint.pre().Variance(), joint.post().Variance(); vx > 0 && vy > 0 {
		theta = covariance(joint.post(), joint.pre(), joint.SumXY) / vx
	}
	adjust := func(c Covariate) AdjustedStat {
		return AdjustedStat{Post: c.post(), Pre: c.pre(), SumProducts: c.SumXY, Theta: theta}
	}
	return adjust(control), adjust(treatment), nil
}

// PowerQuery describes a planned experiment, for Power and MDE, as
// GrowthBook's power calculator takes it: the metric's control mean and
// per-user variance (for a conversion rate p: mean p, variance p(1 − p)),
// assumed the same in every variation; the users of the whole experiment,
// split evenly over Variations; the false-positive rate (0 means 0.05);
// and, for a sequential test, its tuning parameter (0: fixed horizon).
// Effects are relative and tests two-sided.
type PowerQuery struct {
	Mean       float64
	Variance   float64
	Users      int64
	Variations int
	Alpha      float64
	Sequential float64
}

func (q PowerQuery) check() (alpha float64, err error) {
	switch {
	case math.IsNaN(q.Mean) || math.IsInf(q.Mean, 0) || q.Mean == 0:
		return 0, &InputError{Field: "Mean", Rule: "must be finite and not 0"}
	case math.IsNaN(q.Variance) || math.IsInf(q.Variance, 0) || q.Variance <= 0:
		return 0, &InputError{Field: "Variance", Rule: "must be finite and > 0"}
	case q.Variations < 2:
		return 0, &InputError{Field: "Variations", Rule: "must be ≥ 2"}
	case q.Users < int64(2*q.Variations):
		return 0, &InputError{Field: "Users", Rule: "must give each variation at least 2"}
	case math.IsNaN(q.Sequential) || math.IsInf(q.Sequential, 0) || q.Sequential < 0:
		return 0, &InputError{Field: "Sequential", Rule: "must be 0 or a positive sample size"}
	}
	return checkAlpha(q.Alpha)
}

// sequentialVariance inflates the variance v of n users so that a
// fixed-horizon calculation at z(1 − α/2) reproduces the half-width of the
// sequential interval (GrowthBook's power documentation: "Sequential
// testing").
func sequentialVariance(v, n, alpha, tuning float64) float64 {
	rho2 := (-2*math.Log(alpha) + math.Log(-2*math.Log(alpha)+1)) / tuning
	disc := 2 * (n*rho2 + 1) * math.Log(math.Sqrt(n*rho2+1)/alpha) / (n * n * rho2)
	se := math.Sqrt(v/n) * math.Sqrt(n) * math.Sqrt(disc) / normalQuantile(1-alpha/2)
	return n * se * se
}

// Power returns the probability that a two-sided test of q finds a true
// relative lift significant.
func Power(q PowerQuery, lift float64) (float64, error) {
	alpha, err := q.check()
	if err != nil {
		return 0, err
	}
	if math.IsNaN(lift) || math.IsInf(lift, 0) {
		return 0, &InputError{Field: "Lift", Rule: "must be finite"}
	}
	perArm := float64(q.Users) / float64(q.Variations)
	treated := q.Mean * (1 + lift)
	v := varianceOfRatio(treated, q.Variance/perArm, q.Mean, q.Variance/perArm, 0)
	if q.Sequential > 0 {
		v = sequentialVariance(v, 2*perArm, alpha, q.Sequential)
	}
	z := normalQuantile(1 - alpha/2)
	d := lift / math.Sqrt(v)
	return 1 - normalCDF(z-d) + normalCDF(-z-d), nil
}

// MDE returns the minimum detectable effect of q: the smallest positive
// relative lift a two-sided test finds significant with probability power
// (the negligible chance of a significant result of the wrong sign left
// out, as GrowthBook does). It is an error when q has too few users for
// any lift to reach that power.
func MDE(q PowerQuery, power float64) (float64, error) {
	alpha, err := q.check()
	if err != nil {
		return 0, err
	}
	if math.IsNaN(power) || power <= alpha || power >= 1 {
		return 0, &InputError{Field: "Power", Rule: "must be in (Alpha, 1)"}
	}
	perArm := float64(q.Users) / float64(q.Variations)
	z := normalQuantile(1-alpha/2) - normalQuantile(1-power)
	m, v := q.Mean, q.Variance
	if q.Sequential > 0 {
		v = sequentialVariance(v, 2*perArm, alpha, q.Sequential)
	}
	if perArm <= v*z*z/(m*m) {
		return 0, &InputError{Field: "Users", Rule: "are too few for any lift to reach this power"}
	}
	// Solve (μB − μA)/μA = z·σΔ(μB) for μB: a quadratic in μB.
	s2 := v / perArm
	a := 1 - z*z*s2/(m*m)
	b := -2 * m
	c := m*m - z*z*s2
	treated := (-b + math.Sqrt(b*b-4*a*c)) / (2 * a)
	return (treated - m) / m, nil
}
