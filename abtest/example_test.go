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
