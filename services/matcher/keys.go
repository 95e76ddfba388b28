package matcher

import (
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lawfirm/creditor-email-matcher/services/store"
)

// normalizeNumber reduces a case or reference number to the form the
// candidate lookup compares: lowercase, without blanks, '/', '_', '-' or '.',
// so "12345/24", "12345_24" and " 12345 - 24 " are equal. It mirrors the SQL
// expressions of the expression indexes (store's akzKeyExpr, refKeyExpr), which
// must agree.
func normalizeNumber(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return normalizeRunes(s) // scored for every candidate: ASCII, the usual case, skips rune decoding
		case c == ' ' || '\t' <= c && c <= '\r' || c == '/' || c == '_' || c == '-' || c == '.':
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// normalizeRunes is normalizeNumber for any text.
func normalizeRunes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if unicode.IsSpace(r) || strings.ContainsRune("/_-.", r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// minKeyLen is the shortest normalised number worth looking up: shorter ones
// ("1", "24") match unrelated inquiries by accident.
const minKeyLen = 4

// maxKeys bounds how many numbers one reply may look up.
const maxKeys = 20

// lookupKeys is what the candidate query searches for.
type lookupKeys struct {
	ticketID string
	// aktenzeichen is the reply's normalised case number ("" if none).
	aktenzeichen string
	// numbers holds every normalised number of the reply (case number and
	// references), each looked up as a case number and as a reference, since
	// extractors do not always tell the firm's number from the creditor's.
	numbers []string
	// sender is the lowercased sender address; domains are its domain and
	// parent domains, empty for freemail providers.
	sender  string
	domains []string
}

// candidateKeys is what the store looks candidates up by for a reply
// received at receivedAt.
func (k lookupKeys) candidateKeys(receivedAt time.Time) store.CandidateKeys {
	return store.CandidateKeys{TicketID: k.ticketID, Numbers: k.numbers, Sender: k.sender, Domains: k.domains,
		Since: receivedAt.Add(-lookback), Until: receivedAt.Add(clockSlack)}
}

func (k lookupKeys) empty() bool {
	return k.ticketID == "" && len(k.numbers) == 0 && k.sender == "" && len(k.domains) == 0
}

// keysFor derives the lookup keys from what is known about the reply.
func keysFor(in Input) lookupKeys {
	k := lookupKeys{ticketID: strings.TrimSpace(in.TicketID)}
	seen := map[string]bool{}
	add := func(raw string) string {
		n := normalizeNumber(raw)
		if utf8.RuneCountInString(n) < minKeyLen || len(n) > 100 {
			return ""
		}
		if !seen[n] && len(k.numbers) < maxKeys {
			seen[n] = true
			k.numbers = append(k.numbers, n)
		}
		return n
	}
	k.aktenzeichen = add(in.Data.ClientAktenzeichen)
	if n := add(stripNumberLabel(in.Data.ClientAktenzeichen)); k.aktenzeichen == "" {
		k.aktenzeichen = n
	}
	for _, r := range in.Data.ReferenceNumbers {
		add(r)
		add(stripNumberLabel(r))
	}
	k.sender = normalizeAddress(in.FromEmail)
	if d := domainOf(k.sender); d != "" && !IsFreemail(d) {
		k.domains = parentDomains(d)
	}
	return k
}

// numberLabelRe matches a label an extractor may leave in front of a number
// ("Az. 12345/24", "Ihr Zeichen: …").
var numberLabelRe = regexp.MustCompile(`(?i)^\s*(?:(?:ihr|unser)e?s?\s+)?(?:az|aktenzeichen|zeichen)\b[.:]*\s*`)

// stripNumberLabel returns s without such a label, or "" when it has none;
// both spellings are looked up, since "AZ-2024-1" may be a number itself.
func stripNumberLabel(s string) string {
	loc := numberLabelRe.FindStringIndex(s)
	if loc == nil {
		return ""
	}
	return s[loc[1]:]
}

// normalizeAddress returns the bare lowercased address of s ("Name <a@b>" →
// "a@b"), or "" when s holds none.
func normalizeAddress(s string) string {
	s = strings.TrimSpace(s)
	if a, err := mail.ParseAddress(s); err == nil {
		s = a.Address
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.LastIndexByte(s, '@'); i <= 0 || i == len(s)-1 {
		return ""
	}
	return s
}

// domainOf returns the part after the last '@' of a normalised address.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.TrimSuffix(addr[i+1:], ".")
	}
	return ""
}

// parentDomains lists d and its parents down to two labels, so a reply from
// "forderung.inkasso-x.de" finds inquiries sent to "info@inkasso-x.de".
func parentDomains(d string) []string {
	out := []string{d}
	for {
		i := strings.IndexByte(d, '.')
		if i < 0 || strings.Count(d[i+1:], ".") < 1 {
			return out
		}
		d = d[i+1:]
		if first, _, _ := strings.Cut(d, "."); strings.Count(d, ".") == 1 && secondLevelLabels[first] {
			return out
		}
		out = append(out, d)
	}
}
