package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"golang.org/x/text/unicode/norm"

	"github.com/lawfirm/creditor-email-matcher/models"
	"github.com/lawfirm/creditor-email-matcher/services/matcher"
)

// The portal's schema: collection and field names it reads.
const (
	portalClients       = "clients"
	fieldAktenzeichen   = "aktenzeichen"
	fieldFirstName      = "firstName"
	fieldLastName       = "lastName"
	fieldCreditorList   = "final_creditor_list"
	fieldSenderEmail    = "sender_email"
	fieldSenderName     = "sender_name"
	fieldCurrentDebt    = "current_debt_amount"
	fieldResponseAmount = "creditor_response_amount"
	fieldAmountSource   = "amount_source"
	fieldContactStatus  = "contact_status"
	fieldResponseAt     = "response_received_at"
	fieldResponseText   = "creditor_response_text"
	fieldResponseRefs   = "response_reference_numbers"
)

const (
	// mongoOpTimeout bounds one query so a hung server fails the delivery
	// instead of holding a relay slot.
	mongoOpTimeout = 10 * time.Second
	// mongoPingTimeout bounds the start-up check.
	mongoPingTimeout = 5 * time.Second
	// guardedUpdateTries is how often a concurrently edited client is re-read
	// before the delivery is handed back to the relay as transient.
	guardedUpdateTries = 3
)

// ErrClientNotFound means no portal client matches the payload's
// aktenzeichen or name; ErrCreditorNotFound means the client has no matching
// entry in final_creditor_list. Both are wrapped with models.Permanent.
var (
	ErrClientNotFound   = errors.New("portal client not found")
	ErrCreditorNotFound = errors.New("creditor entry not found in portal client")
)

// MongoSink writes creditor answers into the client portal's MongoDB.
type MongoSink struct {
	client  *mongo.Client
	clients *mongo.Collection
	// beforeUpdate, nil outside tests, runs between reading a client and the
	// guarded write so tests can edit the document concurrently.
	beforeUpdate func()
}

// NewMongoSink connects to the portal database and pings it with a short timeout.
func NewMongoSink(ctx context.Context, url, database string) (*MongoSink, error) {
	if url == "" {
		return nil, fmt.Errorf("mongodb url empty: %w", ErrSkipped)
	}
	if database == "" {
		return nil, errors.New("mongodb database name empty")
	}
	opts := options.Client().ApplyURI(url).
		SetServerSelectionTimeout(mongoPingTimeout).
		SetConnectTimeout(mongoPingTimeout)
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect mongodb: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, mongoPingTimeout)
	defer cancel()
	if err := client.Ping(pingCtx, readpref.Primary()); err != nil {
		_ = client.Disconnect(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("ping mongodb: %w", err)
	}
	return &MongoSink{client: client, clients: client.Database(database).Collection(portalClients)}, nil
}

// Close disconnects from MongoDB.
func (s *MongoSink) Close(ctx context.Context) error {
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("disconnect mongodb: %w", err)
	}
	return nil
}

// Deliver records a creditor_debt_update on the matching creditor entry of the
// portal client. Delivering the same payload twice leaves the same document,
// and an answer older than the one the entry holds is skipped.
func (s *MongoSink) Deliver(ctx context.Context, msg models.OutboxMessage) error {
	if msg.AggregateType != models.OutboxCreditorDebtUpdate {
		return models.Permanent(fmt.Errorf("mongo sink: unsupported outbox kind %q", msg.AggregateType))
	}
	var p models.DebtSyncPayload
	if err := json.Unmarshal(msg.Payload, &p); err != nil {
		return models.Permanent(fmt.Errorf("decode debt sync payload of outbox %d: %w", msg.ID, err))
	}
	if err := validateSyncPayload(p); err != nil {
		return models.Permanent(fmt.Errorf("outbox %d: %w", msg.ID, err))
	}
	for range guardedUpdateTries {
		done, err := s.applyOnce(ctx, p)
		if err != nil || done {
			return err
		}
	}
	return models.Transient(fmt.Errorf("creditor entry of email %d changed concurrently %d times", p.EmailID, guardedUpdateTries), 0)
}

// CurrentAmount reports what the portal holds now for the payload's creditor
// entry: its current_debt_amount and response_received_at, each nil when unset.
func (s *MongoSink) CurrentAmount(ctx context.Context, p models.DebtSyncPayload) (amount *float64, receivedAt *time.Time, err error) {
	_, _, entry, err := s.findEntry(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	if v, ok := bsonNumber(entry[fieldCurrentDebt]); ok {
		amount = &v
	}
	if t, ok := bsonTime(entry[fieldResponseAt]); ok {
		receivedAt = &t
	}
	return amount, receivedAt, nil
}

func validateSyncPayload(p models.DebtSyncPayload) error {
	switch {
	case math.IsNaN(p.Amount) || math.IsInf(p.Amount, 0) || p.Amount < 0:
		return errors.New("debt sync payload: invalid amount")
	case p.ResponseReceivedAt.IsZero():
		return errors.New("debt sync payload: response_received_at missing")
	case strings.TrimSpace(p.ClientAktenzeichen) == "" && strings.TrimSpace(p.ClientName) == "":
		return errors.New("debt sync payload: neither aktenzeichen nor client name")
	}
	return nil
}

// applyOnce reads the client, picks the creditor entry and writes it through
// a filter that only matches while the entry is still the one read. It
// reports done=false when that guard failed and the client must be re-read.
func (s *MongoSink) applyOnce(ctx context.Context, p models.DebtSyncPayload) (done bool, err error) {
	c, i, entry, err := s.findEntry(ctx, p)
	if err != nil {
		return false, err
	}
	at := p.ResponseReceivedAt.UTC().Truncate(time.Millisecond) // BSON dates hold milliseconds
	if held, ok := bsonTime(entry[fieldResponseAt]); ok && held.After(at) {
		return true, nil // the portal already holds a newer answer
	}
	if s.beforeUpdate != nil {
		s.beforeUpdate()
	}
	qctx, cancel := context.WithTimeout(ctx, mongoOpTimeout)
	defer cancel()
	res, err := s.clients.UpdateOne(qctx, entryGuard(c.ID, i, entry), bson.D{{Key: "$set", Value: entryUpdate(i, p, at)}})
	if err != nil {
		return false, mongoError(fmt.Sprintf("update portal client for email %d", p.EmailID), err)
	}
	return res.MatchedCount == 1, nil
}

// entryGuard matches the client only while element i still carries the
// identity and response time read, so a reordered or edited list is re-read
// rather than written at the wrong index (FerretDB v1 has no arrayFilters).
func entryGuard(clientID any, i int, entry bson.M) bson.D {
	prefix := fieldCreditorList + "." + strconv.Itoa(i) + "."
	guard := bson.D{{Key: "_id", Value: clientID}}
	for _, key := range []string{"_id", "id"} {
		if v, ok := entry[key]; ok && v != nil {
			guard = append(guard, bson.E{Key: prefix + key, Value: v})
		}
	}
	// A nil value matches a missing or null field, which is what was read.
	for _, key := range []string{fieldSenderEmail, fieldSenderName, fieldResponseAt} {
		guard = append(guard, bson.E{Key: prefix + key, Value: entry[key]})
	}
	return guard
}

// entryUpdate sets the creditor's answer on element i; claim_amount, the
// original claim, is never touched.
func entryUpdate(i int, p models.DebtSyncPayload, at time.Time) bson.D {
	prefix := fieldCreditorList + "." + strconv.Itoa(i) + "."
	refs := p.ReferenceNumbers
	if refs == nil {
		refs = []string{}
	}
	return bson.D{
		{Key: prefix + fieldCurrentDebt, Value: p.Amount},
		{Key: prefix + fieldResponseAmount, Value: p.Amount},
		{Key: prefix + fieldAmountSource, Value: "creditor_response"},
		{Key: prefix + fieldContactStatus, Value: "responded"},
		{Key: prefix + fieldResponseAt, Value: at},
		{Key: prefix + fieldResponseText, Value: p.Summary},
		{Key: prefix + fieldResponseRefs, Value: refs},
	}
}

// findEntry reads the payload's client and picks its creditor entry, index i.
func (s *MongoSink) findEntry(ctx context.Context, p models.DebtSyncPayload) (c portalClient, i int, entry bson.M, err error) {
	if c, err = s.findClient(ctx, p); err != nil {
		return portalClient{}, 0, nil, err
	}
	if i, err = matchCreditor(c.Creditors, p); err != nil {
		return portalClient{}, 0, nil, err
	}
	return c, i, c.Creditors[i], nil
}

// portalClient is the part of a portal client document the sink reads.
type portalClient struct {
	ID        any      `bson:"_id"`
	Creditors []bson.M `bson:"final_creditor_list"`
}

// findClient looks the client up by aktenzeichen (the portal stores "/" as
// "_"), else by first and last name; none or several is a permanent error.
func (s *MongoSink) findClient(ctx context.Context, p models.DebtSyncPayload) (portalClient, error) {
	if az := strings.TrimSpace(p.ClientAktenzeichen); az != "" {
		values := []string{strings.ReplaceAll(az, "/", "_")}
		if values[0] != az {
			values = append(values, az)
		}
		c, found, err := s.findOneClient(ctx, p.EmailID, bson.D{{Key: fieldAktenzeichen, Value: bson.D{{Key: "$in", Value: values}}}})
		if err != nil || found {
			return c, err
		}
	}
	if filter := nameFilter(p.ClientName); filter != nil {
		c, found, err := s.findOneClient(ctx, p.EmailID, filter)
		if err != nil || found {
			return c, err
		}
	}
	return portalClient{}, models.Permanent(fmt.Errorf("email %d: %w (by aktenzeichen or name)", p.EmailID, ErrClientNotFound))
}

func (s *MongoSink) findOneClient(ctx context.Context, emailID uint64, filter bson.D) (portalClient, bool, error) {
	qctx, cancel := context.WithTimeout(ctx, mongoOpTimeout)
	defer cancel()
	opts := options.Find().SetLimit(2).SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: fieldCreditorList, Value: 1}})
	cur, err := s.clients.Find(qctx, filter, opts)
	if err != nil {
		return portalClient{}, false, mongoError(fmt.Sprintf("find portal client for email %d", emailID), err)
	}
	var found []portalClient
	if err := cur.All(qctx, &found); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || mongo.IsNetworkError(err) || mongo.IsTimeout(err) {
			return portalClient{}, false, mongoError(fmt.Sprintf("read portal client for email %d", emailID), err)
		}
		return portalClient{}, false, models.Permanent(fmt.Errorf("decode portal client for email %d: %w", emailID, err))
	}
	switch len(found) {
	case 0:
		return portalClient{}, false, nil
	case 1:
		return found[0], true, nil
	default:
		return portalClient{}, false, models.Permanent(fmt.Errorf("email %d: several portal clients match, refusing to guess", emailID))
	}
}

// nameFilter matches "Nachname, Vorname" or "Vorname Nachname" exactly on
// firstName and lastName, case-insensitively. Without a comma every split of
// the words is tried, so "Anna Maria von Berg" finds multi-word names.
func nameFilter(clientName string) bson.D {
	var pairs [][2][]string
	if last, first, ok := strings.Cut(clientName, ","); ok {
		pairs = append(pairs, [2][]string{strings.Fields(first), strings.Fields(last)})
	} else {
		words := strings.Fields(clientName)
		for i := 1; i < len(words); i++ {
			pairs = append(pairs, [2][]string{words[:i], words[i:]})
		}
	}
	var or bson.A
	for _, pair := range pairs {
		if len(pair[0]) == 0 || len(pair[1]) == 0 {
			continue
		}
		or = append(or, bson.D{
			{Key: fieldFirstName, Value: exactWordsRegex(pair[0])},
			{Key: fieldLastName, Value: exactWordsRegex(pair[1])},
		})
	}
	if len(or) == 0 {
		return nil
	}
	return bson.D{{Key: "$or", Value: or}}
}

// exactWordsRegex matches exactly these words, escaped, any whitespace between.
func exactWordsRegex(words []string) bson.D {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = regexp.QuoteMeta(w)
	}
	pattern := `^\s*` + strings.Join(quoted, `\s+`) + `\s*$`
	return bson.D{{Key: "$regex", Value: pattern}, {Key: "$options", Value: "i"}}
}

// matchCreditor picks the entry of final_creditor_list the payload is about:
// sender email beats creditor name beats email domain; a tie is ambiguous.
func matchCreditor(entries []bson.M, p models.DebtSyncPayload) (int, error) {
	email := strings.ToLower(strings.TrimSpace(p.CreditorEmail))
	domain := mailDomain(email)
	if matcher.IsFreemail(domain) {
		domain = "" // shared by unrelated senders: a domain match says nothing
	}
	name := foldName(p.CreditorName)
	best, bestScore, ties := -1, 0, 0
	for i, e := range entries {
		score := creditorScore(e, email, domain, name)
		switch {
		case score == 0:
		case score > bestScore:
			best, bestScore, ties = i, score, 0
		case score == bestScore:
			ties++
		}
	}
	if best < 0 {
		return 0, models.Permanent(fmt.Errorf("email %d: %w", p.EmailID, ErrCreditorNotFound))
	}
	if ties > 0 {
		return 0, models.Permanent(fmt.Errorf("email %d: several creditor entries match, refusing to guess", p.EmailID))
	}
	return best, nil
}

func creditorScore(e bson.M, email, domain, name string) int {
	entryEmail, _ := e[fieldSenderEmail].(string)
	entryEmail = strings.ToLower(strings.TrimSpace(entryEmail))
	entryName, _ := e[fieldSenderName].(string)
	score := 0
	if email != "" && entryEmail == email {
		score += 4
	} else if domain != "" && mailDomain(entryEmail) == domain {
		score++
	}
	if name != "" && foldName(entryName) == name {
		score += 2
	}
	return score
}

func mailDomain(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[at+1:]
	}
	return ""
}

// umlauts spells German umlauts the way they are written without them.
var umlauts = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "ß", "ss")

// foldName compares creditor names case-, umlaut-, accent- and
// punctuation-insensitively: "Müller-Inkasso GmbH" equals "MUELLER INKASSO GMBH".
func foldName(s string) string {
	s = umlauts.Replace(strings.ToLower(norm.NFC.String(s)))
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// bsonNumber reads a numeric field whatever BSON type the portal stored.
func bsonNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case bson.Decimal128:
		f, err := strconv.ParseFloat(n.String(), 64)
		return f, err == nil
	}
	return 0, false
}

// bsonTime reads a date field stored as a BSON date or an RFC 3339 string.
func bsonTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case bson.DateTime:
		return t.Time().UTC(), true
	case time.Time:
		return t.UTC(), true
	case string:
		parsed, err := time.Parse(time.RFC3339Nano, t)
		return parsed.UTC(), err == nil
	}
	return time.Time{}, false
}

// mongoError marks driver failures transient: connection errors, timeouts and
// server hiccups heal; what cannot heal is reported permanent by the callers.
func mongoError(op string, err error) error {
	return models.Transient(fmt.Errorf("%s: %w", op, err), 0)
}
