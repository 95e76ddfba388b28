package workers

import (
	"context"
	"fmt"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// claimRequest asks for a lease on one email id; job is set when the claim
// succeeded and stays nil when the email is not claimable (already taken,
// finished, or a stale duplicate id from Redis).
type claimRequest struct {
	id  uint64
	job *models.Job
	err error
}

// writeClaims takes leases on the requested emails in one statement (the
// workers' claims are group-committed) and records the outcome in each
// request. The same id fetched twice is claimed once; the other request
// gets nothing.
func (p *Pool) writeClaims(ctx context.Context, reqs []*claimRequest) func() {
	ids := make([]uint64, len(reqs))
	for i, r := range reqs {
		ids[i] = r.id
	}
	jobs, err := p.store.Claim(ctx, ids, p.queue.Instance(), p.cfg.LeaseDuration)
	if err != nil {
		for _, r := range reqs {
			r.err = fmt.Errorf("claim email %d: %w", r.id, err)
		}
		return nil
	}
	byID := make(map[uint64]*models.Job, len(jobs))
	for _, j := range jobs {
		byID[j.Email.ID] = j
	}
	for _, r := range reqs {
		r.job = byID[r.id]
		delete(byID, r.id)
	}
	return nil
}
