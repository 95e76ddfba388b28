package matcher

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// The SQL expressions below are those of the expression indexes created by
// migrations/202611290006_inquiry_match_indexes.go. They must stay identical
// character for character, or the planner falls back to scanning the table
// (TestCandidateQueryUsesIndexes guards this).
const (
	akzKeyExpr    = `lower(regexp_replace(client_aktenzeichen, '[[:space:]./_-]', '', 'g'))`
	refKeyExpr    = `lower(regexp_replace(reference_number, '[[:space:]./_-]', '', 'g'))`
	emailKeyExpr  = `lower(btrim(creditor_email))`
	domainKeyExpr = `lower(split_part(btrim(creditor_email), '@', 2))`
)

const (
	// maxCandidates bounds the rows each key group reads; a reply whose
	// sender hits more (a huge creditor's shared domain) is scored on the
	// most recent of those.
	maxCandidates = 200
	// lookback is how old an inquiry may be and still be answered.
	lookback = 2 * 365 * 24 * time.Hour
	// clockSlack tolerates an inquiry stamped slightly after the reply.
	clockSlack = 7 * 24 * time.Hour
	// queryTimeout bounds the candidate query.
	queryTimeout = 10 * time.Second
)

// inquiryColumns are the columns scoring reads; bodies stay in the database.
const inquiryColumns = "id, client_name, client_aktenzeichen, creditor_name, creditor_email, " +
	"reference_number, zendesk_ticket_id, sent_at"

// keyGroups splits the lookup into the reply's own numbers (ticket id, case
// and reference numbers), which name few inquiries, and its sender (address,
// domain), which for a large creditor names thousands. Each group is read
// with its own limit, so a busy sender cannot crowd out the inquiry a
// number points at.
func keyGroups(k lookupKeys) []clause.Expr {
	var numbers, sender []string
	var numberVars, senderVars []any
	if k.ticketID != "" {
		numbers = append(numbers, "zendesk_ticket_id = ?")
		numberVars = append(numberVars, k.ticketID)
	}
	if len(k.numbers) > 0 {
		numbers = append(numbers, akzKeyExpr+" IN ?", refKeyExpr+" IN ?")
		numberVars = append(numberVars, k.numbers, k.numbers)
	}
	if k.sender != "" {
		sender = append(sender, emailKeyExpr+" = ?")
		senderVars = append(senderVars, k.sender)
	}
	if len(k.domains) > 0 {
		sender = append(sender, domainKeyExpr+" IN ?")
		senderVars = append(senderVars, k.domains)
	}
	var groups []clause.Expr
	if len(numbers) > 0 {
		groups = append(groups, clause.Expr{SQL: "(" + strings.Join(numbers, " OR ") + ")", Vars: numberVars})
	}
	if len(sender) > 0 {
		groups = append(groups, clause.Expr{SQL: "(" + strings.Join(sender, " OR ") + ")", Vars: senderVars})
	}
	return groups
}

// candidateQuery selects the recent inquiries matching keys, one OR of
// indexed key expressions: the planner answers each branch from its own
// index (a BitmapOr) instead of reading the whole table.
func candidateQuery(tx *gorm.DB, keys clause.Expr, receivedAt time.Time) *gorm.DB {
	recent := clause.Expr{
		SQL:  "(sent_at IS NULL OR sent_at BETWEEN ? AND ?)",
		Vars: []any{receivedAt.Add(-lookback), receivedAt.Add(clockSlack)},
	}
	return tx.Table(models.CreditorInquiry{}.TableName()).
		Select(inquiryColumns).
		Where(keys).
		Where(recent).
		Order("sent_at DESC NULLS LAST, id DESC").
		Limit(maxCandidates)
}

// loadCandidates reads each key group and merges the rows; no keys means no
// candidates, never a scan of names across the table.
func loadCandidates(ctx context.Context, tx *gorm.DB, k lookupKeys, receivedAt time.Time) ([]models.CreditorInquiry, error) {
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var all []models.CreditorInquiry
	seen := map[uint64]bool{}
	for _, keys := range keyGroups(k) {
		var rows []models.CreditorInquiry
		if err := candidateQuery(tx.WithContext(ctx), keys, receivedAt).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load inquiry candidates: %w", err)
		}
		for _, r := range rows {
			if !seen[r.ID] {
				seen[r.ID] = true
				all = append(all, r)
			}
		}
	}
	return all, nil
}
