package abtest_test

import (
	"fmt"

	"github.com/shopkit/shopkit/abtest"
)

func Example() {
	exp, err := abtest.Compile(abtest.Experiment{
		Key:        "checkout-button",
		Variations: 2,
		Weights:    []float64{0.5, 0.5},
	})
	if err != nil {
		panic(err)
	}
	assigner := abtest.Assigner{
		OnExposure: func(e abtest.Exposure) {
			fmt.Printf("exposure: %s variation %d\n", e.Experiment, e.Result.Variation)
		},
	}
	// The bucket is fnv1a("123" + "checkout-button") mod 1000 / 1000 =
	// 0.878, which falls in variation 1's range [0.5, 1).
	r := assigner.Assign(exp, abtest.Attributes{"id": "123"})
	fmt.Println(r.InExperiment, r.Variation, r.Bucket)
	// Output:
	// exposure: checkout-button variation 1
	// true 1 0.878
}

// Example_features evaluates a feature flag from a GrowthBook payload:
// staff always get the new checkout, other Canadian users through a 30%
// rollout.
func Example_features() {
	payload, err := abtest.LoadPayload([]byte(`{
		"features": {"new-checkout": {"defaultValue": false, "rules": [
			{"id": "staff", "condition": {"$savedGroup": {"id": "staff"}}, "force": true},
			{"id": "ca-rollout", "condition": {"country": "CA"}, "force": true, "coverage": 0.3}]}},
		"savedGroups": {"staff": {"type": "list", "attributeKey": "email", "values": ["ann@shop.example"]}}}`), "")
	if err != nil {
		panic(err)
	}
	var assigner abtest.Assigner
	for _, attrs := range []map[string]any{
		{"id": "u1", "email": "ann@shop.example", "country": "US"},
		{"id": "u4", "country": "CA"}, // hashes to 0.817: outside the 30%
		{"id": "u3", "country": "CA"}, // hashes to 0.212: inside
	} {
		r := assigner.EvalFeature(payload.Features, "new-checkout", &abtest.User{Attributes: attrs, SavedGroups: payload.SavedGroups})
		fmt.Printf("%v %v %s %q\n", attrs["id"], r.On, r.Source, r.RuleID)
	}
	// Output:
	// u1 true force "staff"
	// u4 false defaultValue ""
	// u3 true force "ca-rollout"
}

// Example_condition compiles a targeting condition once and evaluates it
// per user.
func Example_condition() {
	cond, err := abtest.CompileCondition([]byte(`{"plan": {"$in": ["pro", "team"]}, "app.version": {"$vgte": "2.4.0"}}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(cond.Eval(map[string]any{"plan": "pro", "app": map[string]any{"version": "2.10.1"}}, nil))
	fmt.Println(cond.Eval(map[string]any{"plan": "pro", "app": map[string]any{"version": "2.3.9"}}, nil))
	// Output:
	// true
	// false
}
