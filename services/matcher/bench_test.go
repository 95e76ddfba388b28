package matcher

import (
	"context"
	"testing"

	"github.com/lawfirm/creditor-email-matcher/app/apptest"
	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// BenchmarkMatch matches replies against 20,000 inquiries whose creditor
// domains are skewed, so each reply's sender names tens to thousands of
// inquiries besides the one its numbers point at.
func BenchmarkMatch(b *testing.B) {
	db := apptest.SeedInquiries(b, 20000)
	inputs := skewedReplies(b, db, 200)
	m := New(store.New(db.DB, db.AsyncPool(b, 4)), DefaultConfig()) // as the service runs it
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := m.Match(ctx, inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
	}
}
