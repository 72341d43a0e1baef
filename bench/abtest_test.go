package bench

import (
	"context"
	"testing"

	growthbook "github.com/growthbook/growthbook-golang"

	"github.com/shopkit/shopkit/abtest"
)

// BenchmarkAssign: one user, a running two-way experiment, no sticky store.
//
//   - shopkit: abtest.Assigner.Assign on a compiled experiment.
//   - growthbook: the GrowthBook Go SDK's Client.RunExperiment, with the
//     user's attributes set on the client.
//
// Both hash the same way (GrowthBook's version 1 hash, seed = key), so they
// give the same variation; a check before timing proves it.
func BenchmarkAssign(b *testing.B) {
	const key, user = "checkout-button", "user-8472"
	exp, err := abtest.Compile(abtest.Experiment{Key: key, Variations: 2, Weights: []float64{0.5, 0.5}})
	if err != nil {
		b.Fatal(err)
	}
	var assigner abtest.Assigner
	attrs := abtest.Attributes{"id": user}

	ctx := context.Background()
	client, err := growthbook.NewClient(ctx, growthbook.WithAttributes(growthbook.Attributes{"id": user}))
	if err != nil {
		b.Fatal(err)
	}
	gbExp := &growthbook.Experiment{Key: key, Variations: []growthbook.FeatureValue{0, 1}, Weights: []float64{0.5, 0.5}}
	if got, want := assigner.Assign(exp, attrs).Variation, client.RunExperiment(ctx, gbExp).VariationId; got != want {
		b.Fatalf("shopkit assigned %d, GrowthBook %d", got, want)
	}

	b.Run("shopkit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !assigner.Assign(exp, attrs).InExperiment {
				b.Fatal("not in experiment")
			}
		}
	})
	b.Run("growthbook", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !client.RunExperiment(ctx, gbExp).InExperiment {
				b.Fatal("not in experiment")
			}
		}
	})
}
