package read_test

import (
	"context"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lawfirm/creditor-email-matcher/services/attachments/read"
)

// FuzzRead feeds the dispatcher mutated DOCX, XLSX and text files (read
// in-process, so a fuzzer gets many runs a second): whatever the bytes, a
// read ends with text or with an unreadable reason, never a panic or
// another error. go test -fuzz FuzzRead ./services/attachments/read
func FuzzRead(f *testing.F) {
	f.Add(zipBytes(f, docxFiles(para("Gesamtforderung 1.212,40 €")+statementTable())...))
	f.Add(zipBytes(f, xlsxFiles()...))
	f.Add([]byte("Saldo 1.212,40 \x80"))
	d, err := read.New(context.Background(), read.Config{TempDir: f.TempDir(), TextMaxChars: 1000})
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := d.Read(context.Background(), read.File{Name: "x", Data: data})
		if err != nil {
			require.ErrorIs(t, err, read.ErrUnreadable)
			require.NotEmpty(t, read.Reason(err))
			return
		}
		require.True(t, utf8.ValidString(res.Text))
		require.LessOrEqual(t, utf8.RuneCountInString(res.Text), 1000)
	})
}
