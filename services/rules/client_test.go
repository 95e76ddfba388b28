package rules

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClientNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, subject, body, want string
	}{
		{name: "herr", body: "wir kommen zurück auf die Forderung gegen Herrn Max Mustermann.", want: "Mustermann, Max"},
		{name: "frau surname only", body: "die Forderung gegen Frau Müller ist beglichen.", want: "Müller"},
		{name: "ihr mandant", body: "Ihr Mandant, Herr Dr. Klaus-Dieter Schmidt, schuldet uns", want: "Schmidt, Klaus-Dieter"},
		{name: "ihre mandantin", body: "Ihre Mandantin Erika Musterfrau hat bei uns", want: "Musterfrau, Erika"},
		{name: "schuldner colon", body: "Schuldner: Mustermann, Max\nGeb.: 01.01.1980", want: "Mustermann, Max"},
		{name: "kunde colon", body: "Kunde: Anna Lena Berger\nKundennummer: 4711", want: "Berger, Anna Lena"},
		{name: "in sachen", body: "In Sachen Muster Versand GmbH ./. Jan Kowalski teilen wir mit", want: "Kowalski, Jan"},
		{name: "betreffend", subject: "AW: Anfrage betreffend Petra von Bülow", want: "von Bülow, Petra"},
		{name: "salutation is not the client", body: "Sehr geehrte Frau Schneider,\n\nIhre Mandantin Jana Weiß schuldet", want: "Weiß, Jana"},
		{name: "clerk is not the client", body: "Sehr geehrter Herr Becker,\nbei Rückfragen wenden Sie sich an Frau Krause.\nMit freundlichen Grüßen\nFrau Lange", want: ""},
		{name: "all caps", body: "Schuldner: MUSTERMANN, MAX", want: "Mustermann, Max"},
		{name: "english", body: "Regarding your client Mr John Smith, the balance is", want: "Smith, John"},
		{name: "none", body: "Vielen Dank für Ihre Anfrage.", want: ""},
		{name: "street after comma", body: "Schuldner: Max Mustermann, Hauptstraße 5", want: "Mustermann, Max"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, _ := extractClient(foldText(tc.subject), foldText(tc.body), nil)
			require.Equal(t, tc.want, got)
		})
	}
}
