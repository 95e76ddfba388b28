package outbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lawfirm/creditor-email-matcher/models"
)

// mongoSetup is one test's portal database and a sink writing to it.
type mongoSetup struct {
	ctx     context.Context
	mongo   *testMongo
	sink    *MongoSink
	clients *mongo.Collection
}

func setupMongo(t *testing.T) *mongoSetup {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	tm := newTestMongo(t)
	sink, err := NewMongoSink(ctx, tm.uri, tm.database)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sink.Close(context.Background())) })
	return &mongoSetup{ctx: ctx, mongo: tm, sink: sink, clients: tm.db.Collection(portalClients)}
}

// insert stores portal client documents as the portal would.
func (m *mongoSetup) insert(t *testing.T, docs ...bson.D) {
	t.Helper()
	for _, d := range docs {
		_, err := m.clients.InsertOne(m.ctx, d)
		require.NoError(t, err)
	}
}

// raw returns a stored client document byte for byte.
func (m *mongoSetup) raw(t *testing.T, id string) bson.Raw {
	t.Helper()
	raw, err := m.clients.FindOne(m.ctx, bson.D{{Key: "_id", Value: id}}).Raw()
	require.NoError(t, err)
	return raw
}

// entry decodes element i of a stored client's final_creditor_list.
func (m *mongoSetup) entry(t *testing.T, id string, i int) bson.M {
	t.Helper()
	var doc struct {
		List []bson.M `bson:"final_creditor_list"`
	}
	require.NoError(t, bson.Unmarshal(m.raw(t, id), &doc))
	require.Greater(t, len(doc.List), i)
	return doc.List[i]
}

// closedPort returns a local TCP port nothing listens on any more: a
// connection there is refused, as by a server that is down.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// deadMongoSink is a real MongoSink whose server is gone: every delivery
// fails as a connection error does.
func deadMongoSink(t *testing.T) *MongoSink {
	t.Helper()
	uri := fmt.Sprintf("mongodb://127.0.0.1:%d/", closedPort(t))
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(200 * time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return &MongoSink{client: client, clients: client.Database("portal").Collection(portalClients)}
}

func (m *mongoSetup) deliver(p models.DebtSyncPayload) error {
	return m.sink.Deliver(m.ctx, models.OutboxMessage{
		ID: 1, AggregateType: models.OutboxCreditorDebtUpdate, AggregateID: p.EmailID,
		Payload: models.MustJSON(p), IdempotencyKey: "creditor_debt_update:1",
	})
}

func creditorDoc(id, email, name string, claim float64) bson.D {
	return bson.D{
		{Key: "id", Value: id}, {Key: "sender_email", Value: email},
		{Key: "sender_name", Value: name}, {Key: "claim_amount", Value: claim},
	}
}

func clientDoc(id, az, first, last string, creditors ...bson.D) bson.D {
	list := bson.A{}
	for _, c := range creditors {
		list = append(list, c)
	}
	return bson.D{
		{Key: "_id", Value: id}, {Key: "aktenzeichen", Value: az},
		{Key: "firstName", Value: first}, {Key: "lastName", Value: last},
		{Key: "final_creditor_list", Value: list},
	}
}

// portalFixture stores two clients who share a creditor.
func portalFixture(t *testing.T, m *mongoSetup) {
	t.Helper()
	m.insert(t,
		clientDoc("client-a", "123_24", "Max", "Mustermann",
			creditorDoc("c1", "info@inkasso-a.de", "Inkasso A GmbH", 100),
			creditorDoc("c2", "forderung@bank-b.de", "Müller Bank AG", 2000.5),
		),
		clientDoc("client-b", "456_24", "Erika", "Musterfrau",
			creditorDoc("c1", "info@inkasso-a.de", "Inkasso A GmbH", 300),
		),
	)
}

func syncPayload(at time.Time) models.DebtSyncPayload {
	return models.DebtSyncPayload{
		EmailID: 42, DebtUpdateID: 7, ClientName: "Mustermann, Max", ClientAktenzeichen: "123/24",
		CreditorName: "Inkasso A GmbH", CreditorEmail: "info@inkasso-a.de", Amount: 1234.56,
		ReferenceNumbers: []string{"AZ-1", "K-2"}, Summary: "Forderung beträgt 1.234,56 EUR",
		ResponseReceivedAt: at,
	}
}

func requireAnswer(t *testing.T, e bson.M, p models.DebtSyncPayload, claim float64) {
	t.Helper()
	require.Equal(t, p.Amount, e["current_debt_amount"])
	require.Equal(t, p.Amount, e["creditor_response_amount"])
	require.Equal(t, "creditor_response", e["amount_source"])
	require.Equal(t, "responded", e["contact_status"])
	require.Equal(t, p.Summary, e["creditor_response_text"])
	require.Equal(t, claim, e["claim_amount"])
	at, ok := bsonTime(e["response_received_at"])
	require.True(t, ok)
	require.True(t, p.ResponseReceivedAt.Truncate(time.Millisecond).Equal(at))
	var refs []any
	for _, r := range p.ReferenceNumbers {
		refs = append(refs, r)
	}
	require.Equal(t, bson.A(refs), e["response_reference_numbers"])
}

func TestMongoSinkUpdatesOnlyTheMatchedCreditor(t *testing.T) {
	t.Parallel()
	m := setupMongo(t)
	portalFixture(t, m)
	beforeA, beforeB := m.raw(t, "client-a"), m.raw(t, "client-b")

	p := syncPayload(time.Date(2026, 3, 25, 5, 9, 27, 123456789, time.UTC))
	require.NoError(t, m.deliver(p))

	e := m.entry(t, "client-a", 0)
	requireAnswer(t, e, p, 100)
	require.Equal(t, "c1", e["id"])
	require.Len(t, e, 4+7, "only the seven answer fields are added")
	afterA := m.raw(t, "client-a")
	require.Equal(t, beforeA.Lookup("final_creditor_list", "1"), afterA.Lookup("final_creditor_list", "1"))
	require.Equal(t, beforeA.Lookup("firstName"), afterA.Lookup("firstName"))
	require.Equal(t, beforeB, m.raw(t, "client-b"))

	amount, at, err := m.sink.CurrentAmount(m.ctx, p)
	require.NoError(t, err)
	require.NotNil(t, amount)
	require.InDelta(t, p.Amount, *amount, 1e-9)
	require.NotNil(t, at)
	require.True(t, p.ResponseReceivedAt.Truncate(time.Millisecond).Equal(*at))
}

func TestMongoSinkMatchesCreditorByNameUmlautInsensitive(t *testing.T) {
	t.Parallel()
	m := setupMongo(t)
	portalFixture(t, m)

	p := syncPayload(time.Now().UTC())
	p.CreditorEmail = "noreply@other-sender.example"
	p.CreditorName = "MUELLER  bank ag"
	require.NoError(t, m.deliver(p))

	requireAnswer(t, m.entry(t, "client-a", 1), p, 2000.5)
	_, ok := m.entry(t, "client-a", 0)["current_debt_amount"]
	require.False(t, ok)
}

func TestMongoSinkFindsClientByNameWithRegexMetacharacters(t *testing.T) {
	t.Parallel()
	m := setupMongo(t)
	// Unescaped, the payload's name would be a pattern matching the decoy too.
	m.insert(t,
		clientDoc("real", "", "Anna (Maria)", "Groß+Klein", creditorDoc("c1", "info@inkasso-a.de", "Inkasso A", 10)),
		clientDoc("decoy", "", "Anna Maria", "GroßßKlein", creditorDoc("c1", "info@inkasso-a.de", "Inkasso A", 20)),
	)
	decoy := m.raw(t, "decoy")

	p := syncPayload(time.Now().UTC())
	p.ClientAktenzeichen = ""
	p.ClientName = "groß+klein, ANNA (maria)"
	require.NoError(t, m.deliver(p))
	requireAnswer(t, m.entry(t, "real", 0), p, 10)

	p.ClientName = "Anna (Maria) Groß+Klein"
	p.Amount = 99
	require.NoError(t, m.deliver(p))
	requireAnswer(t, m.entry(t, "real", 0), p, 10)
	require.Equal(t, decoy, m.raw(t, "decoy"))
}

func TestMongoSinkNotFoundIsPermanent(t *testing.T) {
	t.Parallel()
	m := setupMongo(t)
	portalFixture(t, m)
	var permanent *models.PermanentError

	p := syncPayload(time.Now().UTC())
	p.ClientAktenzeichen = "999/99"
	p.ClientName = "Niemand, Nobody"
	err := m.deliver(p)
	require.ErrorIs(t, err, ErrClientNotFound)
	require.ErrorAs(t, err, &permanent)
	require.NotContains(t, err.Error(), "Niemand", "errors carry ids, not names")

	p = syncPayload(time.Now().UTC())
	p.CreditorEmail = "post@unknown-creditor.example"
	p.CreditorName = "Unbekannt KG"
	err = m.deliver(p)
	require.ErrorIs(t, err, ErrCreditorNotFound)
	require.ErrorAs(t, err, &permanent)
}

func TestMongoSinkConcurrentReorderDoesNotWriteWrongElement(t *testing.T) {
	t.Parallel()
	m := setupMongo(t)
	portalFixture(t, m)

	// Between the sink's read and its write, staff in the portal put the
	// other creditor first: index 0 is no longer the matched entry.
	reordered := false
	m.sink.beforeUpdate = func() {
		if reordered {
			return
		}
		reordered = true
		_, err := m.clients.UpdateOne(m.ctx, bson.D{{Key: "_id", Value: "client-a"}}, bson.D{{Key: "$set", Value: bson.D{
			{Key: "final_creditor_list", Value: bson.A{
				creditorDoc("c2", "forderung@bank-b.de", "Müller Bank AG", 2000.5),
				creditorDoc("c1", "info@inkasso-a.de", "Inkasso A GmbH", 100),
			}},
		}}})
		require.NoError(t, err)
	}
	p := syncPayload(time.Now().UTC())
	require.NoError(t, m.deliver(p))
	require.True(t, reordered)

	first := m.entry(t, "client-a", 0)
	require.Equal(t, "c2", first["id"])
	_, written := first["current_debt_amount"]
	require.False(t, written, "the entry that moved into the matched index is untouched")
	requireAnswer(t, m.entry(t, "client-a", 1), p, 100)
}

func TestMongoSinkKeepsNewerAnswer(t *testing.T) {
	t.Parallel()
	m := setupMongo(t)
	portalFixture(t, m)

	newer := syncPayload(time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC))
	require.NoError(t, m.deliver(newer))
	afterNewer := m.raw(t, "client-a")

	older := syncPayload(newer.ResponseReceivedAt.Add(-time.Hour))
	older.Amount = 1
	require.NoError(t, m.deliver(older))
	require.Equal(t, afterNewer, m.raw(t, "client-a"))
}

func TestMongoSinkRepeatedDeliveryIsIdempotent(t *testing.T) {
	t.Parallel()
	m := setupMongo(t)
	portalFixture(t, m)

	p := syncPayload(time.Date(2026, 3, 25, 12, 0, 0, 987654321, time.UTC))
	require.NoError(t, m.deliver(p))
	once := m.raw(t, "client-a")
	require.NoError(t, m.deliver(p))
	require.Equal(t, once, m.raw(t, "client-a"))
}

func TestMongoSinkGuardUsesSubdocumentIDs(t *testing.T) {
	t.Parallel()
	m := setupMongo(t)
	// Mongoose gives array subdocuments an ObjectID _id and no "id".
	oid := bson.NewObjectID()
	m.insert(t, bson.D{
		{Key: "_id", Value: "client-a"}, {Key: "aktenzeichen", Value: "123_24"},
		{Key: "final_creditor_list", Value: bson.A{bson.D{
			{Key: "_id", Value: oid}, {Key: "sender_email", Value: "info@inkasso-a.de"}, {Key: "claim_amount", Value: int32(100)},
		}}},
	})
	p := syncPayload(time.Now().UTC())
	require.NoError(t, m.deliver(p))
	e := m.entry(t, "client-a", 0)
	require.Equal(t, oid, e["_id"])
	require.Equal(t, int32(100), e["claim_amount"])
	require.Equal(t, p.Amount, e["current_debt_amount"])
}

func TestMongoSinkRejectsForeignKindAndBadPayload(t *testing.T) {
	t.Parallel()
	m := setupMongo(t)
	var permanent *models.PermanentError

	err := m.sink.Deliver(m.ctx, models.OutboxMessage{AggregateType: models.OutboxFailureAlert, Payload: models.JSON(`{}`)})
	require.ErrorAs(t, err, &permanent)
	err = m.sink.Deliver(m.ctx, models.OutboxMessage{AggregateType: models.OutboxCreditorDebtUpdate, Payload: models.JSON(`{"amount":"x"}`)})
	require.ErrorAs(t, err, &permanent)
	p := syncPayload(time.Time{})
	err = m.deliver(p)
	require.ErrorAs(t, err, &permanent)
}

func TestMongoSinkConnectionErrorIsTransient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pingCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := NewMongoSink(pingCtx, fmt.Sprintf("mongodb://127.0.0.1:%d/", closedPort(t)), "portal")
	require.Error(t, err)

	err = deadMongoSink(t).Deliver(ctx, models.OutboxMessage{
		AggregateType: models.OutboxCreditorDebtUpdate, Payload: models.MustJSON(syncPayload(time.Now())),
	})
	var transient *models.TransientError
	require.ErrorAs(t, err, &transient)
	var permanent *models.PermanentError
	require.False(t, errors.As(err, &permanent))
}

func TestMongoSinkNotConfigured(t *testing.T) {
	t.Parallel()
	_, err := NewMongoSink(context.Background(), "", "portal")
	require.ErrorIs(t, err, ErrSkipped)
}

func TestFoldName(t *testing.T) {
	t.Parallel()
	require.Equal(t, foldName("Müller-Inkasso GmbH"), foldName("MUELLER inkasso  gmbh"))
	require.Equal(t, foldName("Straße & Söhne"), foldName("strasse soehne"))
	require.Equal(t, foldName("Crédit Agricole"), foldName("credit agricole"))
	require.NotEqual(t, foldName("Inkasso A"), foldName("Inkasso B"))
}
