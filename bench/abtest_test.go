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

// The user and the flag of the feature benchmarks: a three-clause
// targeting condition and a 50% rollout, as GrowthBook's API serves them.
var (
	featureUser = map[string]any{"id": "user-8472", "country": "US", "plan": "pro", "age": 34.0}
)

const (
	featureCondition = `{"country": {"$in": ["US", "CA", "GB"]}, "plan": "pro", "age": {"$gte": 18}}`
	featurePayload   = `{"new-checkout": {"defaultValue": false, "rules": [{"id": "rollout", "condition": ` +
		featureCondition + `, "force": true, "coverage": 0.5, "hashAttribute": "id"}]}}`
	// conditionPayload is the condition alone, as a force rule: the
	// GrowthBook Go SDK evaluates conditions only inside features.
	conditionPayload = `{"gate": {"defaultValue": false, "rules": [{"condition": ` + featureCondition + `, "force": true}]}}`
)

func growthbookClient(b *testing.B, payload string) *growthbook.Client {
	b.Helper()
	client, err := growthbook.NewClient(context.Background(), growthbook.WithAttributes(growthbook.Attributes(featureUser)),
		growthbook.WithJsonFeatures(payload))
	if err != nil {
		b.Fatal(err)
	}
	return client
}

// BenchmarkEvalFeature: one flag with a three-clause condition and a 50%
// rollout, for one user.
//
//   - shopkit: abtest.Assigner.EvalFeature on features compiled once.
//   - growthbook: the GrowthBook Go SDK's Client.EvalFeature, the user's
//     attributes and the payload set on the client.
//
// A check before timing proves both give the same value and source.
func BenchmarkEvalFeature(b *testing.B) {
	fs, err := abtest.CompileFeatures([]byte(featurePayload))
	if err != nil {
		b.Fatal(err)
	}
	var assigner abtest.Assigner
	user := &abtest.User{Attributes: featureUser}
	ctx := context.Background()
	client := growthbookClient(b, featurePayload)
	ours, theirs := assigner.EvalFeature(fs, "new-checkout", user), client.EvalFeature(ctx, "new-checkout")
	if ours.On != theirs.On || ours.Source != string(theirs.Source) {
		b.Fatalf("shopkit: %v from %s; GrowthBook: %v from %s", ours.On, ours.Source, theirs.On, theirs.Source)
	}
	b.Run("shopkit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if assigner.EvalFeature(fs, "new-checkout", user).Source == "" {
				b.Fatal("no result")
			}
		}
	})
	b.Run("growthbook", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if client.EvalFeature(ctx, "new-checkout").Source == "" {
				b.Fatal("no result")
			}
		}
	})
}

// BenchmarkEvalCondition: the three-clause condition for one user.
//
//   - shopkit: abtest.Condition.Eval, compiled once.
//   - growthbook: the GrowthBook Go SDK evaluates conditions only inside
//     features (its evaluator is internal), so this is Client.EvalFeature
//     of a flag whose one force rule carries the condition: the
//     condition plus the least feature machinery the SDK allows.
func BenchmarkEvalCondition(b *testing.B) {
	cond, err := abtest.CompileCondition([]byte(featureCondition))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	client := growthbookClient(b, conditionPayload)
	if !cond.Eval(featureUser, nil) || !client.EvalFeature(ctx, "gate").On {
		b.Fatal("the condition does not pass the user")
	}
	b.Run("shopkit", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !cond.Eval(featureUser, nil) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("growthbook", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !client.EvalFeature(ctx, "gate").On {
				b.Fatal("refused")
			}
		}
	})
}
