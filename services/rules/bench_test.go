package rules

import (
	"context"
	"testing"
)

// BenchmarkExtract measures extracting every corpus email once per op, so
// ns/op and allocs/op are per corpus pass (66 emails), not per email.
func BenchmarkExtract(b *testing.B) {
	inputs := corpusInputs(b)
	ex := New()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range inputs {
			if _, err := ex.Extract(ctx, in); err != nil {
				b.Fatal(err)
			}
		}
	}
}
