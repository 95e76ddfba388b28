package matcher

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalizeNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"12345/24":       "1234524",
		"12345_24":       "1234524",
		" 12345 / 24 ":   "1234524",
		"MA-2024-0815":   "ma20240815",
		"ma 2024 0815":   "ma20240815",
		"2024_123":       "2024123",
		"AZ.\t12.345/24": "az1234524",
		"":               "",
		"Ä-1\u00a0/2":    "ä12",
	} {
		require.Equal(t, want, normalizeNumber(in), "input %q", in)
	}
}

// TestNormalizeNumberASCIIPath proves the byte loop for ASCII agrees with
// the rune loop on every pair of ASCII characters.
func TestNormalizeNumberASCIIPath(t *testing.T) {
	t.Parallel()
	for a := range 128 {
		for b := range 128 {
			in := string([]byte{'X', byte(a), byte(b), '9'})
			require.Equal(t, normalizeRunes(in), normalizeNumber(in), "input %q", in)
		}
	}
}

func TestKeysFor(t *testing.T) {
	t.Parallel()
	k := keysFor(Input{
		TicketID:  " 4711 ",
		FromEmail: "Forderung <Mahnung@Post.Inkasso-X.de>",
	})
	require.Equal(t, "4711", k.ticketID)
	require.Equal(t, "mahnung@post.inkasso-x.de", k.sender)
	require.Equal(t, []string{"post.inkasso-x.de", "inkasso-x.de"}, k.domains)

	k = keysFor(Input{FromEmail: "someone@GMX.de"})
	require.Equal(t, "someone@gmx.de", k.sender)
	require.Empty(t, k.domains, "freemail domains are no signal")

	k = keysFor(Input{FromEmail: "not an address"})
	require.Empty(t, k.sender)
	require.True(t, k.empty())

	k = keysFor(Input{FromEmail: "x@inkasso.co.uk"})
	require.Equal(t, []string{"inkasso.co.uk"}, k.domains, "co.uk names nobody")
}

func TestKeysForNumbers(t *testing.T) {
	t.Parallel()
	in := Input{}
	in.Data.ClientAktenzeichen = "12345/24"
	in.Data.ReferenceNumbers = []string{"12345_24", "KD 99-88", "7", ""}
	k := keysFor(in)
	require.Equal(t, "1234524", k.aktenzeichen)
	require.Equal(t, []string{"1234524", "kd9988"}, k.numbers, "deduplicated, too short dropped")

	in.Data.ClientAktenzeichen = "Az.: 777/24"
	in.Data.ReferenceNumbers = []string{"Ihr Zeichen 888/24", "AZ-2024-0001"}
	k = keysFor(in)
	require.Equal(t, "az:77724", k.aktenzeichen)
	require.Equal(t, []string{"az:77724", "77724", "ihrzeichen88824", "88824", "az20240001", "20240001"}, k.numbers,
		"labelled numbers are looked up with and without the label")
}

func TestIsFreemail(t *testing.T) {
	t.Parallel()
	for _, d := range []string{"gmail.com", "googlemail.com", "gmx.de", "gmx.net", "web.de",
		"t-online.de", "outlook.com", "hotmail.de", "live.com", "yahoo.de", "icloud.com",
		"aol.com", "posteo.de", "mail.de", "freenet.de", "hotmail.co.uk", "yahoo.com.br", "Outlook.FR"} {
		require.True(t, IsFreemail(d), d)
	}
	for _, d := range []string{"vodafone-inkasso.de", "otto.de", "outlook.example.de", "live.sparkasse.de", "inkasso.co.uk"} {
		require.False(t, IsFreemail(d), d)
	}
}
